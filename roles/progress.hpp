// Progress reporting for long operations. Implementations must be thread-safe: node work runs in
// parallel. Two views (make_progress):
// - terminal: a live block with a header and one line per node (icon, name, step, latest message,
//   elapsed), redrawn in place with ANSI cursor movement on every event and ~10 times a second;
//   warnings and info (and with `verbose`, every node message) scroll above it. A failed node expands
//   into the last lines of its message. The last frame stays on screen after finish().
// - plain (no TTY): one timestamped line per event, "2026-11-23T00:10:21Z [phase] node: msg".
// Both keep the phase durations for timings().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace pgha {

class Progress {
 public:
  virtual ~Progress() = default;
  virtual void phase_begin(const std::string& phase) = 0;
  virtual void phase_end(const std::string& phase, bool ok) = 0;
  // A message from one node, e.g. ("pg1", "installing 3 packages"). The terminal view shows the
  // latest one on the node's line.
  virtual void node(const std::string& node, const std::string& message) = 0;
  virtual void info(const std::string& message) = 0;
  virtual void warn(const std::string& message) = 0;
  // Durations of every phase so far, in the order they ended.
  virtual std::vector<std::pair<std::string, double>> timings() const = 0;

  // The nodes, in display order, before any event names them (otherwise: the order first seen).
  virtual void set_nodes(const std::vector<std::string>& nodes) { (void)nodes; }
  // The node's current step, e.g. ("pg1", "haproxy:start"); it replaces the phase name on the node's
  // line. Once a node has had a step, phase_begin no longer moves it.
  virtual void node_step(const std::string& node, const std::string& step) { this->node(node, step); }
  // The node finished its part of the run: a check mark (ok) or a cross.
  virtual void node_done(const std::string& node, bool ok) { (void)node, (void)ok; }
  // The node failed at `step`; the last lines of `message` (a remote command's stderr included) are
  // shown under its line.
  virtual void node_failed(const std::string& node, const std::string& step, const std::string& message) {
    this->node(node, "failed at " + step + ": " + message);
  }
  // Stops any live redraw, leaving the last frame; later output may follow on the same stream.
  // Idempotent; destructors call it.
  virtual void finish() {}
};

enum class ProgressStyle { terminal, plain, quiet };

struct ProgressOptions {
  bool verbose = false;  // terminal: every node message also scrolls above the live block
  // terminal: the display width is read from this descriptor (TIOCGWINSZ) at each frame; -1 or a
  // failed read means `width`.
  int width_fd = -1;
  int width = 80;
  // terminal: redraw ~10 times a second from a thread of its own (off: only events redraw; for tests).
  bool ticker = true;
  std::function<std::chrono::steady_clock::time_point()> clock;  // empty: steady_clock::now
};

// style terminal: the live view; plain: "2026-11-23T00:10:21Z [phase] node: msg"; quiet: nothing.
std::unique_ptr<Progress> make_progress(std::ostream& out, ProgressStyle style);
std::unique_ptr<Progress> make_progress(std::ostream& out, ProgressStyle style, ProgressOptions options);
// terminal when `fd` is a TTY (and TERM is not "dumb"), plain otherwise.
ProgressStyle detect_progress_style(int fd);

std::string format_timings(const std::vector<std::pair<std::string, double>>& timings);

// Where an error happened, from its context: the node ("host pg2" or "node pg2", innermost first)
// and the step ("step haproxy:start"). Empty strings when the context does not say.
struct FailureSite {
  std::string node;
  std::string step;
};
FailureSite failure_site(const Error& e);

// The changes of a run ("pg1: wrote /etc/haproxy/haproxy.cfg", ...) grouped by node with counts, one
// line per node in first-seen order: "  pg1: 22 files written, 6 units started, created users/databases".
// Changes of no known kind are listed as they are.
std::string summarize_changes(const std::vector<std::string>& actions);

}  // namespace pgha
