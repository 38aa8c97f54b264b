#include "roles/progress.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <map>
#include <mutex>
#include <sstream>

#include "roles/progress_terminal.hpp"

namespace pgha {
namespace {

using Clock = std::chrono::steady_clock;

std::string utc_timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The plain view (and the quiet one, which only keeps timings): one line per event.
class PlainProgress : public Progress {
 public:
  PlainProgress(std::ostream& out, ProgressStyle style) : out_(out), style_(style) {}

  void phase_begin(const std::string& phase) override {
    std::lock_guard lock(mu_);
    current_ = phase;
    started_[phase] = Clock::now();
    emit("", "begin " + phase);
  }
  void phase_end(const std::string& phase, bool ok) override {
    std::lock_guard lock(mu_);
    auto it = started_.find(phase);
    double secs =
        it == started_.end() ? 0.0 : std::chrono::duration<double>(Clock::now() - it->second).count();
    timings_.emplace_back(phase, secs);
    std::ostringstream msg;
    msg << (ok ? "done " : "FAILED ") << phase << " (" << std::fixed << std::setprecision(1) << secs << " s)";
    emit("", msg.str());
  }
  void node(const std::string& node, const std::string& message) override {
    std::lock_guard lock(mu_);
    emit(node, message);
  }
  void node_done(const std::string& node, bool ok) override {
    if (ok) return;  // the phase lines already say so
    std::lock_guard lock(mu_);
    emit(node, "failed");
  }
  void node_failed(const std::string& node, const std::string& step, const std::string& message) override {
    (void)message;  // the caller prints the whole error next; one line here marks where
    std::lock_guard lock(mu_);
    emit(node, step.empty() ? "failed" : "failed at " + step);
  }
  void info(const std::string& message) override {
    std::lock_guard lock(mu_);
    emit("", message);
  }
  void warn(const std::string& message) override {
    std::lock_guard lock(mu_);
    emit("", "warning: " + message);
  }
  std::vector<std::pair<std::string, double>> timings() const override {
    std::lock_guard lock(mu_);
    return timings_;
  }

 private:
  void emit(const std::string& node, const std::string& message) {
    if (style_ == ProgressStyle::quiet) return;
    out_ << utc_timestamp() << " [" << current_ << "] " << (node.empty() ? "" : node + ": ") << message
         << '\n';
    out_.flush();
  }

  std::ostream& out_;
  ProgressStyle style_;
  mutable std::mutex mu_;
  std::string current_ = "-";
  std::map<std::string, Clock::time_point> started_;
  std::vector<std::pair<std::string, double>> timings_;
};

constexpr size_t kSummaryWidth = 100;

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

std::unique_ptr<Progress> make_progress(std::ostream& out, ProgressStyle style) {
  return make_progress(out, style, ProgressOptions{});
}

std::unique_ptr<Progress> make_progress(std::ostream& out, ProgressStyle style, ProgressOptions options) {
  if (style == ProgressStyle::terminal) return make_terminal_progress(out, std::move(options));
  return std::make_unique<PlainProgress>(out, style);
}

ProgressStyle detect_progress_style(int fd) {
  const char* term = std::getenv("TERM");
  bool dumb = term && std::strcmp(term, "dumb") == 0;
  return isatty(fd) && !dumb ? ProgressStyle::terminal : ProgressStyle::plain;
}

std::string format_timings(const std::vector<std::pair<std::string, double>>& timings) {
  double total = 0;
  for (const auto& [_, s] : timings) total += s;
  std::ostringstream out;
  out << "phase timings:\n";
  for (const auto& [phase, s] : timings) {
    out << "  " << std::left << std::setw(22) << phase << std::right << std::setw(7) << std::fixed
        << std::setprecision(1) << s << " s" << std::setw(6) << std::setprecision(0)
        << (total > 0 ? 100.0 * s / total : 0.0) << " %\n";
  }
  out << "  " << std::left << std::setw(22) << "total" << std::right << std::setw(7) << std::fixed
      << std::setprecision(1) << total << " s\n";
  return out.str();
}

FailureSite failure_site(const Error& e) {
  FailureSite site;
  for (const auto& c : e.context) {  // innermost first
    if (site.node.empty()) {
      if (starts_with(c, "host ")) site.node = c.substr(5);
      if (starts_with(c, "node ")) site.node = c.substr(5);
      if (starts_with(c, "render node ")) site.node = c.substr(12);
    }
    if (site.step.empty() && starts_with(c, "step ")) site.step = c.substr(5);
  }
  return site;
}

std::string summarize_changes(const std::vector<std::string>& actions) {
  // Counted kinds, in display order: the action's first word and the noun it counts.
  static const std::vector<std::pair<std::string, std::string>> kinds = {
      {"installed", "packages installed"},
      {"wrote", "files written"},
      {"fixed", "files fixed"},
      {"enabled", "units enabled"},
      {"started", "units started"},
      {"restarted", "units restarted"},
      {"reloaded", "units reloaded"},
      {"stopped", "stock units stopped"},
  };
  struct NodeChanges {
    std::map<std::string, int> counts;
    std::vector<std::string> other;
  };
  std::vector<std::string> order;
  std::map<std::string, NodeChanges> by_node;
  for (const auto& a : actions) {
    auto colon = a.find(": ");
    std::string node = colon == std::string::npos ? "" : a.substr(0, colon);
    std::string what = colon == std::string::npos ? a : a.substr(colon + 2);
    if (!by_node.count(node)) order.push_back(node);
    NodeChanges& nc = by_node[node];
    std::string verb = what.substr(0, what.find(' '));
    bool counted = false;
    for (const auto& [kind, _] : kinds) {
      if (verb != kind) continue;
      if (kind == "installed") {  // "installed a b c": one per package
        std::istringstream words(what.substr(verb.size()));
        std::string w;
        int n = 0;
        while (words >> w) ++n;
        nc.counts[kind] += n > 0 ? n : 1;
      } else {
        nc.counts[kind] += 1;
      }
      counted = true;
    }
    if (!counted) nc.other.push_back(what.size() > 60 ? what.substr(0, what.find(':')) : what);
  }
  std::ostringstream out;
  for (const auto& node : order) {
    const NodeChanges& nc = by_node[node];
    std::vector<std::string> items;
    for (const auto& [kind, noun] : kinds) {
      auto it = nc.counts.find(kind);
      if (it == nc.counts.end()) continue;
      std::string n = noun;
      if (it->second == 1) n.erase(n.rfind(' ') - 1, 1);  // "1 file written"
      items.push_back(std::to_string(it->second) + " " + n);
    }
    items.insert(items.end(), nc.other.begin(), nc.other.end());
    // Wrapped at kSummaryWidth, continuation lines under the first item.
    const std::string head = "  " + (node.empty() ? "" : node + ": ");
    std::string line = head;
    for (size_t i = 0; i < items.size(); ++i) {
      std::string item = items[i] + (i + 1 < items.size() ? "," : "");
      if (line.size() > head.size() && line.size() + 1 + item.size() > kSummaryWidth) {
        out << line << "\n";
        line = std::string(head.size(), ' ');
      }
      line += (line.size() > head.size() ? " " : "") + item;
    }
    out << line << "\n";
  }
  return out.str();
}

}  // namespace pgha
