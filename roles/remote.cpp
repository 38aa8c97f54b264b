#include "roles/remote.hpp"

#include <thread>
#include <vector>

namespace pgha {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r' || s.back() == '\t'))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::string tail_lines(const std::string& s, int max_lines) {
  std::string t = trim(s);
  int seen = 0;
  for (size_t i = t.size(); i-- > 0;) {
    if (t[i] == '\n' && ++seen == max_lines) return t.substr(i + 1);
  }
  return t;
}

Result<CommandResult> must(RemoteShell& sh, const std::string& step, const std::string& cmd,
                           std::string_view stdin_data) {
  auto r = sh.run(cmd, stdin_data);
  if (!r) {
    return std::move(r.error()).with("command `" + cmd + "`").with("step " + step).with("host " + sh.host());
  }
  if (r->exit_code != 0) {
    std::string detail = tail_lines(r->err.empty() ? r->out : r->err);
    return Error(ErrorKind::remote_failure,
                 "exit " + std::to_string(r->exit_code) + (detail.empty() ? "" : ": " + detail))
        .with("command `" + cmd + "`")
        .with("step " + step)
        .with("host " + sh.host());
  }
  return r;
}

Status poll_until(const std::string& what, std::chrono::milliseconds timeout,
                  std::chrono::milliseconds interval, const std::function<bool(std::string& why)>& probe) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string why;
  while (true) {
    why.clear();
    if (probe(why)) return {};
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(interval);
  }
  return Error(ErrorKind::timeout, what + " not healthy after " + std::to_string(timeout.count() / 1000) +
                                       " s" + (why.empty() ? "" : ": " + why));
}

}  // namespace pgha
