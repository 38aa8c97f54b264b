#include "providers/proxmox/proxmox_tasks.hpp"

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace pgha::pve {

namespace {

class RealClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

// "WARNINGS: 3" -> 3; -1 for anything else.
int warning_count(const std::string& exitstatus) {
  const std::string prefix = "WARNINGS: ";
  if (exitstatus.rfind(prefix, 0) != 0) return -1;
  return std::atoi(exitstatus.c_str() + prefix.size());
}

std::string task_log_tail(Client& client, const std::string& node, const std::string& upid, int lines) {
  Result<nlohmann::json> log = client.get("/nodes/" + node + "/tasks/" + percent_encode(upid) + "/log",
                                          {{"start", "0"}, {"limit", "5000"}});
  if (!log || !log->is_array()) return "";
  std::string out;
  size_t n = log->size();
  size_t first = n > static_cast<size_t>(lines) ? n - lines : 0;
  for (size_t i = first; i < n; ++i) {
    const auto& line = (*log)[i];
    if (line.is_object() && line.contains("t") && line["t"].is_string())
      out += "\n  " + line["t"].get<std::string>();
  }
  return out;
}

}  // namespace

ErrorKind task_error_kind(const std::string& exitstatus) {
  if (is_permanent(exitstatus)) return ErrorKind::bad_input;
  if (exitstatus.find("got timeout") != std::string::npos) return ErrorKind::timeout;
  if (exitstatus.find("File exists") != std::string::npos ||
      exitstatus.find("already exists") != std::string::npos)
    return ErrorKind::conflict;
  return ErrorKind::remote_failure;
}

bool is_lock_timeout(const Error& error) {
  return error.kind == ErrorKind::timeout && error.message.find("got timeout") != std::string::npos;
}

Clock& real_clock() {
  static RealClock clock;
  return clock;
}

std::optional<std::string> upid_node(const std::string& upid) {
  if (upid.rfind("UPID:", 0) != 0) return std::nullopt;
  size_t end = upid.find(':', 5);
  if (end == std::string::npos || end == 5) return std::nullopt;
  return upid.substr(5, end - 5);
}

Result<TaskOutcome> wait_task(Client& client, const std::string& upid, Clock& clock,
                              const TaskPolicy& policy) {
  std::optional<std::string> node = upid_node(upid);
  if (!node) return Error(ErrorKind::bad_input, "not a task id: '" + upid + "'");
  const std::string path = "/nodes/" + *node + "/tasks/" + percent_encode(upid) + "/status";
  const auto deadline = clock.now() + policy.timeout;
  int invisible = 0;
  int transient = 0;
  while (true) {
    Result<nlohmann::json> status = client.get(path);
    if (!status) {
      Error& e = status.error();
      bool not_yet = e.kind == ErrorKind::bad_input && ++invisible <= policy.invisible_polls;
      bool flaky = is_retryable(e) && ++transient <= 5;
      if (!not_yet && !flaky) return std::move(e).with("task " + upid);
    } else if (status->is_object() && status->value("status", "") != "running") {
      std::string exit = status->value("exitstatus", "");
      if (exit == "OK") return TaskOutcome{exit, 0};
      if (int w = warning_count(exit); w >= 0) return TaskOutcome{exit, w};
      std::string message = "task failed: " + (exit.empty() ? std::string("unknown exit status") : exit);
      message += task_log_tail(client, *node, upid, policy.log_lines);
      return Error(task_error_kind(exit), message).with("task " + upid);
    } else {
      transient = 0;
    }
    if (clock.now() >= deadline) {
      return Error(ErrorKind::timeout,
                   "task still running after " + std::to_string(policy.timeout.count() / 1000) + " s")
          .with("task " + upid);
    }
    clock.sleep(policy.poll_interval);
  }
}

Result<nlohmann::json> retry_call(Clock& clock, const RetryPolicy& policy,
                                  const std::function<Result<nlohmann::json>()>& fn,
                                  const std::function<void(const Error&)>& on_retry) {
  std::chrono::milliseconds delay = policy.first_delay;
  for (int attempt = 1;; ++attempt) {
    Result<nlohmann::json> r = fn();
    if (r || attempt >= policy.attempts || !is_retryable(r.error())) return r;
    if (on_retry) on_retry(r.error());
    clock.sleep(delay);
    delay = std::min(delay * 2, policy.max_delay);
  }
}

}  // namespace pgha::pve
