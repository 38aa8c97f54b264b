#include "roles/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iomanip>
#include <sstream>

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

class StreamProgress : public Progress {
 public:
  StreamProgress(std::ostream& out, ProgressStyle style) : out_(out), style_(style) {}

  void phase_begin(const std::string& phase) override {
    std::lock_guard lock(mu_);
    current_ = phase;
    started_ = Clock::now();
    emit("", style_ == ProgressStyle::terminal ? "\033[1m==> " + phase + "\033[0m" : "begin " + phase);
  }
  void phase_end(const std::string& phase, bool ok) override {
    std::lock_guard lock(mu_);
    double secs = std::chrono::duration<double>(Clock::now() - started_).count();
    timings_.emplace_back(phase, secs);
    std::ostringstream msg;
    msg << (ok ? "done " : "FAILED ") << phase << " (" << std::fixed << std::setprecision(1) << secs << " s)";
    emit("", msg.str());
  }
  void node(const std::string& node, const std::string& message) override {
    std::lock_guard lock(mu_);
    emit(node, message);
  }
  void info(const std::string& message) override {
    std::lock_guard lock(mu_);
    emit("", message);
  }
  void warn(const std::string& message) override {
    std::lock_guard lock(mu_);
    emit("", (style_ == ProgressStyle::terminal ? "\033[33mwarning:\033[0m " : "warning: ") + message);
  }
  std::vector<std::pair<std::string, double>> timings() const override {
    std::lock_guard lock(mu_);
    return timings_;
  }

 private:
  void emit(const std::string& node, const std::string& message) {
    if (style_ == ProgressStyle::quiet) return;
    if (style_ == ProgressStyle::plain) {
      out_ << utc_timestamp() << " [" << current_ << "] " << (node.empty() ? "" : node + ": ") << message
           << '\n';
    } else if (node.empty()) {
      out_ << message << '\n';
    } else {
      out_ << "    " << std::left << std::setw(12) << node << message << '\n';
    }
    out_.flush();
  }

  std::ostream& out_;
  ProgressStyle style_;
  mutable std::mutex mu_;
  std::string current_ = "-";
  Clock::time_point started_ = Clock::now();
  std::vector<std::pair<std::string, double>> timings_;
};

}  // namespace

std::unique_ptr<Progress> make_progress(std::ostream& out, ProgressStyle style) {
  return std::make_unique<StreamProgress>(out, style);
}

ProgressStyle detect_progress_style(int fd) {
  return isatty(fd) ? ProgressStyle::terminal : ProgressStyle::plain;
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

}  // namespace pgha
