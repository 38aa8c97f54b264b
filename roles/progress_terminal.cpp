#include "roles/progress_terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

namespace pgha {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSpinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr int kFailureLines = 8;  // of the message, before wrapping
constexpr size_t kMaxWidth = 120;
constexpr const char* kReset = "\033[0m";
constexpr const char* kDim = "\033[2m";

// Display columns of plain UTF-8 text: one per code point (the spinner, ✔ and ✘ are single-width).
size_t columns(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// Display columns of text with ANSI escape sequences (CSI: ESC [ parameters final-byte), which take none.
size_t visible_columns(const std::string& s) {
  size_t cols = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\033' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    if ((s[i] & 0xC0) != 0x80) ++cols;
  }
  return cols;
}

// The first `cols` columns of plain UTF-8 text; "…" marks a cut.
std::string cut(const std::string& s, size_t cols) {
  if (columns(s) <= cols) return s;
  if (cols == 0) return "";
  size_t seen = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80 && seen++ == cols - 1) break;
  }
  return s.substr(0, i) + "…";
}

// One line of text that cannot move the cursor: control characters become spaces, the first line only.
std::string one_line(const std::string& s) {
  std::string out = s.substr(0, s.find('\n'));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The last kFailureLines non-empty lines of a message, each wrapped to `cols`.
std::vector<std::string> failure_lines(const std::string& message, size_t cols) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    std::string line = one_line(message.substr(start, end - start));
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  if (lines.size() > kFailureLines) lines.erase(lines.begin(), lines.end() - kFailureLines);
  std::vector<std::string> wrapped;
  for (const auto& line : lines) {
    std::string rest = line;
    while (columns(rest) > cols && cols > 0) {
      size_t seen = 0, i = 0;
      for (; i < rest.size(); ++i) {
        if ((rest[i] & 0xC0) != 0x80 && seen++ == cols) break;
      }
      // At the last space when there is one in the second half, else mid-word.
      size_t space = rest.rfind(' ', i);
      bool at_space = space != std::string::npos && space > i / 2;
      wrapped.push_back(rest.substr(0, at_space ? space : i));
      rest = rest.substr(at_space ? space + 1 : i);
    }
    wrapped.push_back(rest);
  }
  return wrapped;
}

std::string seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", std::chrono::duration<double>(d).count());
  return buf;
}

enum class NodeState { waiting, running, ok, failed, interrupted };

struct NodeLine {
  std::string name;
  std::string step;    // the phase (derived) or node_step's text
  std::string detail;  // the latest node() message
  bool explicit_step = false;
  NodeState state = NodeState::waiting;
  Clock::time_point first{};  // when the node's first step began
  Clock::time_point since{};  // when the current step began
  Clock::time_point ended{};
  std::string failure;  // the failure's message
};

class TerminalProgress : public Progress {
 public:
  TerminalProgress(std::ostream& out, ProgressOptions o) : out_(out), opt_(std::move(o)) {
    if (!opt_.clock) opt_.clock = [] { return Clock::now(); };
    start_ = end_ = opt_.clock();
  }
  ~TerminalProgress() override { TerminalProgress::finish(); }

  void set_nodes(const std::vector<std::string>& nodes) override {
    std::unique_lock lock(mu_);
    for (const auto& n : nodes) line(n);
    draw(lock);
  }
  void phase_begin(const std::string& phase) override {
    std::unique_lock lock(mu_);
    auto now = opt_.clock();
    started_[phase] = now;
    active_.push_back(phase);
    current_ = phase;
    for (auto& n : nodes_) {
      if (n.explicit_step || (n.state != NodeState::waiting && n.state != NodeState::running)) continue;
      n.step = phase;
      n.detail.clear();
      if (n.state == NodeState::waiting) n.first = now;
      n.state = NodeState::running;
      n.since = now;
    }
    draw(lock);
  }
  void phase_end(const std::string& phase, bool ok) override {
    std::unique_lock lock(mu_);
    auto now = opt_.clock();
    auto it = started_.find(phase);
    timings_.emplace_back(
        phase, it == started_.end() ? 0.0 : std::chrono::duration<double>(now - it->second).count());
    active_.erase(std::remove(active_.begin(), active_.end(), phase), active_.end());
    if (!ok && failed_phase_.empty()) failed_phase_ = phase;
    draw(lock);
  }
  void node(const std::string& node, const std::string& message) override {
    std::unique_lock lock(mu_);
    NodeLine& n = line(node);
    if (n.state == NodeState::waiting) start(n, current_);
    n.detail = one_line(message);
    if (opt_.verbose)
      log(cut(node, 12) + std::string(12 - std::min<size_t>(12, columns(node)), ' ') + " " + message);
    draw(lock);
  }
  void node_step(const std::string& node, const std::string& step) override {
    std::unique_lock lock(mu_);
    NodeLine& n = line(node);
    n.explicit_step = true;
    start(n, step);
    draw(lock);
  }
  void node_done(const std::string& node, bool ok) override {
    std::unique_lock lock(mu_);
    NodeLine& n = line(node);
    n.state = ok ? NodeState::ok : NodeState::failed;
    n.ended = opt_.clock();
    if (ok) {  // the line now tells the node's whole run
      n.step = "done";
      n.detail.clear();
      n.since = n.first;
    }
    draw(lock);
  }
  void node_failed(const std::string& node, const std::string& step, const std::string& message) override {
    std::unique_lock lock(mu_);
    if (node.empty()) {  // the run's own failure, shown under the header
      run_failure_ = message;
      if (failed_phase_.empty()) failed_phase_ = step.empty() ? current_ : step;
      draw(lock);
      return;
    }
    NodeLine& n = line(node);
    if (!step.empty()) n.step = step;
    n.detail.clear();
    n.failure = message;
    n.state = NodeState::failed;
    n.ended = opt_.clock();
    draw(lock);
  }
  void info(const std::string& message) override {
    std::unique_lock lock(mu_);
    log(message);
    draw(lock);
  }
  void warn(const std::string& message) override {
    std::unique_lock lock(mu_);
    log(std::string("\033[33mwarning:") + kReset + " " + message);
    draw(lock);
  }
  std::vector<std::pair<std::string, double>> timings() const override {
    std::lock_guard lock(mu_);
    return timings_;
  }

  void finish() override {
    std::unique_lock lock(mu_);
    if (finished_) return;
    bool changed = false;
    for (auto& n : nodes_) {
      if (n.state != NodeState::running) continue;
      n.state = NodeState::interrupted;
      n.ended = opt_.clock();
      changed = true;
    }
    if (changed) draw(lock);
    finished_ = true;
    drawn_ = 0;  // the last frame stays; anything later goes below it
    stop_ = true;
    lock.unlock();
    cv_.notify_all();
    if (ticker_.joinable()) ticker_.join();
  }

 private:
  NodeLine& line(const std::string& name) {
    for (auto& n : nodes_) {
      if (n.name == name) return n;
    }
    nodes_.push_back(NodeLine{name});
    return nodes_.back();
  }
  void start(NodeLine& n, const std::string& step) {
    n.step = step;
    n.detail.clear();
    n.since = opt_.clock();
    if (n.state == NodeState::waiting) n.first = n.since;
    n.state = NodeState::running;
  }
  bool failed() const {
    if (!failed_phase_.empty()) return true;
    return std::any_of(nodes_.begin(), nodes_.end(),
                       [](const NodeLine& n) { return n.state == NodeState::failed; });
  }
  bool running() const {
    if (finished_) return false;
    if (!active_.empty()) return true;
    return std::any_of(nodes_.begin(), nodes_.end(),
                       [](const NodeLine& n) { return n.state == NodeState::running; });
  }

  // A line that scrolls above the frame (written where the frame starts).
  void log(const std::string& text) {
    std::string buf = drawn_ > 0 ? "\r\033[" + std::to_string(drawn_) + "A" : "";
    buf += "\033[2K" + text + "\n";
    drawn_ = 0;
    pending_ += buf;
  }

  // Writes the frame (and any pending log lines), replacing the previous frame. Called with mu_ held.
  void draw(std::unique_lock<std::mutex>& lock) {
    (void)lock;
    if (finished_) {
      out_ << pending_;
      pending_.clear();
      out_.flush();
      return;
    }
    auto now = opt_.clock();
    if (running()) end_ = now;
    std::vector<std::string> frame = render(now);
    std::string buf = std::move(pending_);
    pending_.clear();
    if (drawn_ > 0) buf += "\r\033[" + std::to_string(drawn_) + "A";
    for (const auto& l : frame) buf += "\033[2K" + l + "\n";
    if (drawn_ > 0 || !frame.empty()) buf += "\033[J";
    drawn_ = frame.size();
    out_ << buf;
    out_.flush();
    if (opt_.ticker && !ticker_.joinable() && running()) ticker_ = std::thread([this] { tick(); });
  }

  void tick() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (!stop_ && running()) draw(lock);
    }
  }

  std::pair<size_t, size_t> size() const {
    winsize ws{};
    if (opt_.width_fd >= 0 && ioctl(opt_.width_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
      return {ws.ws_col, ws.ws_row};
    return {static_cast<size_t>(opt_.width), 0};
  }

  // "left ... right", right-aligned at `width` (the last column stays free: writing there makes some
  // terminals wrap on the next character).
  static std::string row(const std::string& left, const std::string& right, size_t width) {
    size_t left_cols = visible_columns(left), right_cols = columns(right);
    size_t pad = left_cols + 1 + right_cols < width ? width - 1 - left_cols - right_cols : 1;
    return left + std::string(pad, ' ') + kDim + right + kReset;
  }

  std::vector<std::string> render(Clock::time_point now) const {
    if (nodes_.empty() && timings_.empty() && active_.empty() && run_failure_.empty()) return {};
    auto [width, rows] = size();
    width = std::min(width, kMaxWidth);
    const std::string spin =
        kSpinner[(std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count() / 100) % 10];
    std::vector<std::string> frame;

    // Header.
    std::string status;
    std::string done = std::to_string(timings_.size()) + (timings_.size() == 1 ? " phase" : " phases");
    if (failed()) {
      status = "\033[31m✘\033[0m Failed" + (failed_phase_.empty() ? std::string() : " in " + failed_phase_);
    } else if (running()) {
      std::string phases;
      for (const auto& p : active_) phases += (phases.empty() ? "" : ", ") + p;
      status = "Running " + (phases.empty() ? current_ : phases) +
               (timings_.empty() ? "" : " · " + done + " done");
    } else {
      status = "\033[32m✔\033[0m Done · " + done;
    }
    frame.push_back(row("\033[1;34m[+]\033[0m " + status, seconds(end_ - start_), width));
    for (const auto& l : failure_lines(run_failure_, width > 8 ? width - 7 : 1))
      frame.push_back("      " + l);

    // Node lines.
    size_t name_w = 0, step_w = 10;
    for (const auto& n : nodes_) {
      name_w = std::max(name_w, columns(n.name));
      step_w = std::max(step_w, std::min<size_t>(24, columns(n.step)));
    }
    for (const auto& n : nodes_) {
      std::string icon;
      switch (n.state) {
        case NodeState::waiting: icon = std::string(kDim) + "·" + kReset; break;
        case NodeState::running: icon = std::string("\033[36m") + spin + kReset; break;
        case NodeState::ok: icon = std::string("\033[32m✔") + kReset; break;
        case NodeState::failed: icon = std::string("\033[31m✘") + kReset; break;
        case NodeState::interrupted: icon = std::string("\033[33m-") + kReset; break;
      }
      std::string elapsed;
      if (n.state == NodeState::running) elapsed = seconds(now - n.since);
      if (n.state == NodeState::ok || n.state == NodeState::failed || n.state == NodeState::interrupted)
        elapsed = seconds(n.ended - n.since);
      std::string name = n.name + std::string(name_w - columns(n.name), ' ');
      std::string step = cut(n.step, step_w);
      step += std::string(step_w - columns(step), ' ');
      size_t fixed = 3 + name_w + 2 + step_w + 2;
      size_t room = width > fixed + columns(elapsed) + 3 ? width - fixed - columns(elapsed) - 3 : 0;
      std::string detail = cut(n.detail, room);
      std::string left = " " + icon + " " + name + "  " +
                         (n.state == NodeState::failed ? "\033[31m" + step + kReset : step) + "  " + kDim +
                         detail + kReset;
      frame.push_back(row(left, elapsed, width));
      if (n.state == NodeState::failed) {
        for (const auto& l : failure_lines(n.failure, width > 8 ? width - 7 : 1))
          frame.push_back("      " + l);
      }
    }
    if (rows > 1 && frame.size() > rows - 1) frame.resize(rows - 1);
    return frame;
  }

  std::ostream& out_;
  ProgressOptions opt_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread ticker_;
  bool stop_ = false;
  bool finished_ = false;

  std::vector<NodeLine> nodes_;
  std::vector<std::string> active_;
  std::string current_ = "-";
  std::string failed_phase_;
  std::string run_failure_;
  std::map<std::string, Clock::time_point> started_;
  std::vector<std::pair<std::string, double>> timings_;
  Clock::time_point start_, end_;
  size_t drawn_ = 0;
  std::string pending_;  // log lines not yet written
};

}  // namespace

std::unique_ptr<Progress> make_terminal_progress(std::ostream& out, ProgressOptions options) {
  return std::make_unique<TerminalProgress>(out, std::move(options));
}

}  // namespace pgha
