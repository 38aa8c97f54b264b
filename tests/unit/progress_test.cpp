// Progress views: the terminal frame and its ANSI redraw sequences (replayed on a small screen model),
// the plain lines, failure sites and the grouped change summary.
#include "roles/progress.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <thread>

namespace pgha {
namespace {

using Clock = std::chrono::steady_clock;

// Just enough of a terminal to replay the view's output: printable text, \r, \n, CSI n A (up),
// CSI 2K (clear line), CSI J (clear below); SGR colours are dropped.
struct Screen {
  std::vector<std::vector<std::string>> cells{{}};  // rows of UTF-8 code points
  size_t row = 0, col = 0;

  void feed(const std::string& s) {
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\033' && i + 1 < s.size() && s[i + 1] == '[') {
        size_t j = i + 2;
        while (j < s.size() && !(s[j] >= 0x40 && s[j] <= 0x7e)) ++j;
        std::string param = s.substr(i + 2, j - i - 2);
        char op = s[j];
        if (op == 'A') row -= std::min(row, static_cast<size_t>(param.empty() ? 1 : std::stoi(param)));
        if (op == 'K' && param == "2") cells[row].clear();
        if (op == 'J') cells.resize(row + 1), cells[row].resize(std::min(cells[row].size(), col));
        i = j;
      } else if (c == '\r') {
        col = 0;
      } else if (c == '\n') {
        col = 0;
        if (++row == cells.size()) cells.emplace_back();
      } else {
        size_t len = 1;
        while (i + len < s.size() && (s[i + len] & 0xC0) == 0x80) ++len;
        auto& line = cells[row];
        if (line.size() <= col) line.resize(col + 1, " ");
        line[col++] = s.substr(i, len);
        i += len - 1;
      }
    }
  }
  // The visible lines, trailing blanks trimmed, the empty last line (the cursor's) dropped.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const auto& r : cells) {
      std::string l;
      for (const auto& ch : r) l += ch;
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out.push_back(l);
    }
    while (!out.empty() && out.back().empty()) out.pop_back();
    return out;
  }
};

struct FakeClock {
  Clock::time_point now = Clock::time_point{} + std::chrono::hours(1);
  void advance(double s) {
    now += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }
};

struct TerminalFixture : ::testing::Test {
  std::ostringstream out;
  FakeClock clock;
  std::unique_ptr<Progress> p;
  size_t consumed = 0;

  std::unique_ptr<Progress> make(bool verbose = false, int width = 80) {
    ProgressOptions o;
    o.verbose = verbose;
    o.width = width;
    o.ticker = false;
    o.clock = [this] { return clock.now; };
    return make_progress(out, ProgressStyle::terminal, o);
  }
  void SetUp() override { p = make(); }
  // What the view wrote since the last call.
  std::string fresh() {
    std::string all = out.str();
    std::string s = all.substr(consumed);
    consumed = all.size();
    return s;
  }
  Screen screen() const {
    Screen s;
    s.feed(out.str());
    return s;
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(TerminalFixture, FirstFrameHasAHeaderAndOneLinePerNodeWithoutMovingUp) {
  p->set_nodes({"pg1", "pg2", "pg3"});
  std::string first = fresh();
  EXPECT_FALSE(contains(first, "\033[1A")) << first;
  EXPECT_EQ(first.rfind("\033[2K", 0), 0u) << "every line starts by clearing itself";
  auto lines = screen().lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(contains(lines[0], "[+]"));
  EXPECT_EQ(lines[1].rfind(" · pg1", 0), 0u) << lines[1];
  EXPECT_EQ(lines[3].rfind(" · pg3", 0), 0u) << lines[3];
}

TEST_F(TerminalFixture, EveryEventRedrawsTheFrameInPlace) {
  p->set_nodes({"pg1", "pg2", "pg3"});
  fresh();
  p->phase_begin("etcd");
  std::string redraw = fresh();
  // Up over the 4 lines drawn, each line cleared and rewritten, leftovers below cleared.
  EXPECT_EQ(redraw.rfind("\r\033[4A", 0), 0u) << redraw;
  size_t clears = 0;
  for (size_t at = 0; (at = redraw.find("\033[2K", at)) != std::string::npos; ++at) ++clears;
  EXPECT_EQ(clears, 4u);
  EXPECT_EQ(redraw.substr(redraw.size() - 3), "\033[J");

  clock.advance(2.34);
  p->node("pg2", "starting etcd");
  auto lines = screen().lines();
  ASSERT_EQ(lines.size(), 4u) << "a redraw replaces the frame; it does not append";
  EXPECT_TRUE(contains(lines[0], "Running etcd")) << lines[0];
  EXPECT_TRUE(std::regex_search(lines[2], std::regex(R"(^ \S+ pg2  etcd +starting etcd +2\.3s$)")))
      << lines[2];
  EXPECT_TRUE(std::regex_search(lines[1], std::regex(R"(^ \S+ pg1  etcd +2\.3s$)"))) << lines[1];
  // The spinner moves with the clock.
  EXPECT_NE(lines[1].substr(1, 3), "·");
  std::string before = lines[1].substr(0, 5);
  clock.advance(0.1);
  p->node("pg3", "x");
  EXPECT_NE(screen().lines()[1].substr(0, 5), before);
}

TEST_F(TerminalFixture, PhasesMoveEveryNodeAndTheHeaderCountsThem) {
  p->set_nodes({"pg1", "pg2"});
  p->phase_begin("prepare");
  p->node("pg1", "ready");
  clock.advance(1.5);
  p->phase_end("prepare", true);
  p->phase_begin("files");
  auto lines = screen().lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(contains(lines[0], "Running files · 1 phase done")) << lines[0];
  EXPECT_TRUE(std::regex_search(lines[1], std::regex(R"(^ \S+ pg1  files +0\.0s$)"))) << lines[1];
  ASSERT_EQ(p->timings().size(), 1u);
  EXPECT_DOUBLE_EQ(p->timings()[0].second, 1.5);

  p->phase_end("files", true);
  p->node_done("pg1", true);
  p->node_done("pg2", true);
  lines = screen().lines();
  EXPECT_TRUE(contains(lines[0], "✔ Done · 2 phases")) << lines[0];
  EXPECT_TRUE(std::regex_search(lines[0], std::regex(R"(1\.5s$)"))) << lines[0];
  EXPECT_TRUE(std::regex_search(lines[1], std::regex(R"(^ ✔ pg1  done +1\.5s$)")))
      << "the whole run: " << lines[1];
  EXPECT_EQ(lines[2].rfind(" ✔ pg2  done", 0), 0u) << lines[2];
}

TEST_F(TerminalFixture, AnExplicitStepIsNotMovedByPhases) {
  p->set_nodes({"pg1", "pg2"});
  p->phase_begin("etcd");
  p->node_step("pg1", "patroni:bootstrap");
  p->phase_begin("haproxy");
  auto lines = screen().lines();
  EXPECT_TRUE(contains(lines[1], "patroni:bootstrap")) << lines[1];
  EXPECT_TRUE(contains(lines[2], "haproxy")) << lines[2];
  EXPECT_TRUE(contains(lines[0], "Running etcd, haproxy")) << lines[0];
}

TEST_F(TerminalFixture, AFailureExpandsIntoTheLastLinesOfItsMessage) {
  p->set_nodes({"pg1", "pg2", "pg3"});
  p->phase_begin("haproxy");
  clock.advance(3);
  p->phase_end("haproxy", false);
  std::string message = "exit 1:";
  for (int i = 1; i <= 12; ++i) message += "\nline " + std::to_string(i);
  p->node_failed("pg2", "haproxy:start", message);
  p->finish();
  auto lines = screen().lines();
  ASSERT_EQ(lines.size(), 4u + 8u) << "header, 3 nodes, the last 8 lines of the message";
  EXPECT_TRUE(contains(lines[0], "✘ Failed in haproxy")) << lines[0];
  EXPECT_TRUE(std::regex_search(lines[2], std::regex(R"(^ ✘ pg2  haproxy:start +3\.0s$)"))) << lines[2];
  EXPECT_EQ(lines[3], "      line 5");
  EXPECT_EQ(lines[10], "      line 12");
  EXPECT_EQ(lines[11].rfind(" - pg3", 0), 0u) << "a node still running when the run stopped: " << lines[11];
  EXPECT_EQ(lines[1].rfind(" - pg1", 0), 0u) << lines[1];
}

TEST_F(TerminalFixture, ARunFailureWithoutANodeGoesUnderTheHeader) {
  p->set_nodes({"pg1"});
  p->phase_begin("provision");
  p->phase_end("provision", false);
  p->node_failed("", "", "Pool overlaps with other one on this address space");
  auto lines = screen().lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(contains(lines[0], "Failed in provision"));
  EXPECT_EQ(lines[1], "      Pool overlaps with other one on this address space");
}

TEST_F(TerminalFixture, LinesAreCutToTheWidthAndFailuresWrapped) {
  p = make(false, 40);
  p->set_nodes({"pg1", "pg2"});
  p->phase_begin("prepare");
  p->node("pg1", "installing 3 packages: postgresql-15 patroni etcd-server haproxy");
  p->node_failed("pg2", "prepare:packages", std::string(50, 'x'));
  auto lines = screen().lines();
  for (const auto& l : lines) {
    size_t cols = 0;
    for (char c : l) cols += (c & 0xC0) != 0x80;
    EXPECT_LT(cols, 40u) << l;
  }
  EXPECT_TRUE(contains(lines[1], "…")) << lines[1];
  EXPECT_EQ(lines[3], "      " + std::string(33, 'x'));
  EXPECT_EQ(lines[4], "      " + std::string(17, 'x'));

  p->node_failed("pg1", "prepare:systemd", "exit 1: connection to server on socket failed: No such file");
  lines = screen().lines();
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[2], "      exit 1: connection to server on") << "wrapped between words";
  EXPECT_EQ(lines[3], "      socket failed: No such file");
}

TEST_F(TerminalFixture, MessagesCannotMoveTheCursor) {
  p->set_nodes({"pg1"});
  p->phase_begin("etcd");
  p->node("pg1", "one\033[5Atwo\nthree");
  auto lines = screen().lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(contains(lines[1], "one [5Atwo")) << lines[1];
  EXPECT_FALSE(contains(lines[1], "three"));
}

TEST_F(TerminalFixture, WarningsScrollAboveTheFrame) {
  p->set_nodes({"pg1", "pg2"});
  p->phase_begin("prepare");
  fresh();
  p->warn("pg1: Patroni was running before the fix");
  std::string s = fresh();
  EXPECT_EQ(s.rfind("\r\033[3A\033[2K", 0), 0u) << "written where the frame was: " << s;
  p->info("second");
  auto lines = screen().lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "warning: pg1: Patroni was running before the fix");
  EXPECT_EQ(lines[1], "second");
  EXPECT_TRUE(contains(lines[2], "[+]"));
  EXPECT_EQ(lines[4].rfind(" ⠋ pg2", 0), 0u) << lines[4];
}

TEST_F(TerminalFixture, VerboseNodeMessagesScrollToo) {
  p = make(true);
  p->set_nodes({"pg1"});
  p->phase_begin("files");
  p->node("pg1", "wrote /etc/haproxy/haproxy.cfg");
  p->node("pg1", "restarted haproxy");
  auto lines = screen().lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "pg1          wrote /etc/haproxy/haproxy.cfg");
  EXPECT_EQ(lines[1], "pg1          restarted haproxy");
  EXPECT_TRUE(contains(lines[3], "restarted haproxy"));
}

TEST_F(TerminalFixture, NothingIsRedrawnAfterFinish) {
  p->set_nodes({"pg1"});
  p->phase_begin("down");
  p->phase_end("down", true);
  p->node_done("pg1", true);
  p->finish();
  fresh();
  p->node("pg1", "late");
  EXPECT_EQ(fresh(), "");
  p->info("after");
  EXPECT_EQ(fresh(), "\033[2Kafter\n") << "below the last frame, which stays";
}

TEST_F(TerminalFixture, NoFrameForCommandsWithoutPhasesOrNodes) {
  p->info("run 1: kill-node on the primary pg1");
  EXPECT_EQ(fresh(), "\033[2Krun 1: kill-node on the primary pg1\n");
}

TEST(TerminalTicker, RedrawsWhileRunningAndStopsAtFinish) {
  std::ostringstream out;
  ProgressOptions o;  // the ticker on, the real clock
  auto p = make_progress(out, ProgressStyle::terminal, o);
  p->set_nodes({"pg1"});
  p->phase_begin("etcd");
  std::this_thread::sleep_for(std::chrono::milliseconds(550));
  p->finish();
  std::string s = out.str();
  size_t redraws = 0;
  for (size_t at = 0; (at = s.find("\r\033[2A", at)) != std::string::npos; ++at) ++redraws;
  EXPECT_GE(redraws, 3u) << "about ten a second without any event";
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(out.str().size(), s.size()) << "nothing after finish";
  Screen screen;
  screen.feed(s);
  EXPECT_EQ(screen.lines().size(), 2u);
  EXPECT_EQ(screen.lines()[1].rfind(" - pg1  etcd", 0), 0u) << screen.lines()[1];
}

TEST(PlainProgress, TimestampedLinesAsBefore) {
  std::ostringstream out;
  auto p = make_progress(out, ProgressStyle::plain);
  p->set_nodes({"pg1", "pg2"});
  p->phase_begin("prepare");
  p->node("pg1", "installing 3 packages");
  p->node_step("pg2", "prepare:systemd");
  p->warn("slow");
  p->phase_end("prepare", false);
  p->node_failed("pg2", "prepare:systemd", "exit 1: no");
  p->node_done("pg1", true);
  p->finish();
  std::string ts = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ )";
  std::regex expected(
      "^" + ts + R"(\[prepare\] begin prepare\n)" + ts + R"(\[prepare\] pg1: installing 3 packages\n)" + ts +
      R"(\[prepare\] pg2: prepare:systemd\n)" + ts + R"(\[prepare\] warning: slow\n)" + ts +
      R"(\[prepare\] FAILED prepare \(0\.0 s\)\n)" + ts + R"(\[prepare\] pg2: failed at prepare:systemd\n$)");
  EXPECT_TRUE(std::regex_match(out.str(), expected)) << out.str();
  EXPECT_EQ(p->timings().size(), 1u);
}

TEST(PlainProgress, QuietWritesNothingButKeepsTimings) {
  std::ostringstream out;
  auto p = make_progress(out, ProgressStyle::quiet);
  p->phase_begin("plan");
  p->node("pg1", "x");
  p->phase_end("plan", true);
  EXPECT_EQ(out.str(), "");
  ASSERT_EQ(p->timings().size(), 1u);
  EXPECT_EQ(p->timings()[0].first, "plan");
}

TEST(FailureSite, NodeAndStepFromTheInnermostContext) {
  Error e(ErrorKind::remote_failure, "exit 1: Job for haproxy.service failed");
  e.with("command `systemctl restart haproxy`").with("step haproxy:start").with("host pg2");
  FailureSite s = failure_site(e);
  EXPECT_EQ(s.node, "pg2");
  EXPECT_EQ(s.step, "haproxy:start");

  Error provider(ErrorKind::conflict, "Pool overlaps");
  provider.with("node pg3").with("provision");
  EXPECT_EQ(failure_site(provider).node, "pg3");
  EXPECT_EQ(failure_site(provider).step, "");
  Error render(ErrorKind::bad_input, "unclosed tag");
  render.with("render node pg1");
  EXPECT_EQ(failure_site(render).node, "pg1");
  EXPECT_EQ(failure_site(Error(ErrorKind::timeout, "no leader")).node, "");
}

TEST(SummarizeChanges, GroupsByNodeWithCounts) {
  std::vector<std::string> actions = {
      "pg1: installed patroni etcd-server",
      "pg1: applied the etcd3 leader-key fix to Patroni",
      "pg1: wrote /etc/patroni/config.yml",
      "pg1: wrote /etc/haproxy/haproxy.cfg",
      "pg1: enabled patroni",
      "pg1: started patroni",
      "pg1: started haproxy",
      "pg2: wrote /etc/haproxy/haproxy.cfg",
      "pg2: reloaded haproxy",
      "pg2: stopped stock haproxy.service",
      "pg1: created users/databases",
      "pg1: patched Patroni dynamic config: {\"loop_wait\":2,\"retry_timeout\":3,\"ttl\":20,\"more\":1}",
  };
  EXPECT_EQ(summarize_changes(actions),
            "  pg1: 2 packages installed, 2 files written, 1 unit enabled, 2 units started,\n"
            "       applied the etcd3 leader-key fix to Patroni, created users/databases,\n"
            "       patched Patroni dynamic config\n"
            "  pg2: 1 file written, 1 unit reloaded, 1 stock unit stopped\n");
  EXPECT_EQ(summarize_changes({}), "");
}

}  // namespace
}  // namespace pgha
