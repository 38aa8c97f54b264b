// Progress reporting for long operations. On a terminal: one line per node per phase, updated in place
// is not attempted (parallel nodes interleave); each event is a short, aligned line. Without a TTY:
// plain timestamped lines. At the end, a table of phase durations. Implementations must be thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

namespace pgha {

class Progress {
 public:
  virtual ~Progress() = default;
  virtual void phase_begin(const std::string& phase) = 0;
  virtual void phase_end(const std::string& phase, bool ok) = 0;
  // One node's step inside the current phase, e.g. ("pg1", "installing 3 packages").
  virtual void node(const std::string& node, const std::string& message) = 0;
  virtual void info(const std::string& message) = 0;
  virtual void warn(const std::string& message) = 0;
  // Durations of every phase so far, in order.
  virtual std::vector<std::pair<std::string, double>> timings() const = 0;
};

enum class ProgressStyle { terminal, plain, quiet };

// style terminal: colours and aligned node columns; plain: "2026-11-23T00:10:21Z [phase] node: msg".
std::unique_ptr<Progress> make_progress(std::ostream& out, ProgressStyle style);
// terminal when `fd` is a TTY, plain otherwise.
ProgressStyle detect_progress_style(int fd);

std::string format_timings(const std::vector<std::pair<std::string, double>>& timings);

}  // namespace pgha
