#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "roles/failover/timeline_svg.hpp"

namespace pgha {
namespace {

// A small XML well-formedness check: one root, balanced and properly nested tags, quoted attribute
// values, no raw '<' in text or attributes, every '&' an entity. "" when well-formed, else what broke.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  auto entity_ok = [&](size_t at) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"})
      if (s.compare(at, std::strlen(e), e) == 0) return true;
    return false;
  };
  if (s.rfind("<?xml ", 0) == 0) i = s.find("?>") + 2;
  while (i < s.size()) {
    if (s[i] == '&') {
      if (!entity_ok(i)) return "bad entity at " + std::to_string(i);
      ++i;
      continue;
    }
    if (s[i] != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i])))
        return "text outside the root at " + std::to_string(i);
      ++i;
      continue;
    }
    bool closing = s.compare(i, 2, "</") == 0;
    size_t j = i + (closing ? 2 : 1), name_start = j;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-' || s[j] == ':'))
      ++j;
    std::string name = s.substr(name_start, j - name_start);
    if (name.empty()) return "tag without a name at " + std::to_string(i);
    // Attributes: name="value" pairs up to > or />.
    while (j < s.size() && s[j] != '>' && s.compare(j, 2, "/>") != 0) {
      if (std::isspace(static_cast<unsigned char>(s[j]))) {
        ++j;
        continue;
      }
      size_t eq = s.find('=', j);
      if (eq == std::string::npos || s[eq + 1] != '"') return "unquoted attribute at " + std::to_string(j);
      size_t end = s.find('"', eq + 2);
      if (end == std::string::npos) return "unterminated attribute at " + std::to_string(j);
      for (size_t k = eq + 2; k < end; ++k) {
        if (s[k] == '<') return "'<' in an attribute at " + std::to_string(k);
        if (s[k] == '&' && !entity_ok(k)) return "bad entity in an attribute at " + std::to_string(k);
      }
      j = end + 1;
    }
    if (j >= s.size()) return "unterminated tag " + name;
    bool self_closing = s[j] == '/';
    i = j + (self_closing ? 2 : 1);
    if (closing) {
      if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
      open.pop_back();
    } else if (!self_closing) {
      if (open.empty()) ++roots;
      open.push_back(name);
    } else if (open.empty()) {
      ++roots;
    }
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  return roots == 1 ? "" : std::to_string(roots) + " root elements";
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

void add_role(RunResult& r, const std::string& node, double at, Claim c) {
  r.trace.roles.push_back({node, PrimarySignal::postgres, at, c});
  r.trace.roles.push_back({node, PrimarySignal::patroni, at, Claim::unknown});  // ignored for roles
}

// A kill-node run with a guard: fault at 1000, suspected +2, fenced +3, released +3.5, promoted +5,
// first write through HAProxy +6, lifted +10, rejoined +14.
RunResult guarded_run() {
  RunResult r;
  r.run = 1;
  r.fault = "kill-node";
  r.old_primary = "pg1";
  r.new_primary = "pg2";
  r.fault_at = 1000;
  r.lifted_at = 1010;
  r.rto.total = 6;
  r.rto.detection = 2;
  r.rto.fence = 1;
  r.rto.release = 0.5;
  r.rto.promotion = 1.5;
  r.rto.routing = 1;
  r.rejoined = true;
  r.rejoin_s = 4;
  r.guard_fenced = true;
  PathResult h;
  h.via = "haproxy";
  h.target = "10.42.0.12:5000";
  h.rto_s = 6;
  r.paths.push_back(h);
  AckTimes acks{"haproxy", "10.42.0.12:5000", {}};
  for (double t = 998; t < 1015; t += 0.1)
    if (t < 1000 || t >= 1006) acks.at.push_back(t);
  r.trace.acks.push_back(acks);
  for (double t = 998; t < 1015; t += 0.2) {
    add_role(r, "pg1", t, t < 1000 ? Claim::yes : t < 1013 ? Claim::unknown : Claim::no);
    add_role(r, "pg2", t, t < 1005 ? Claim::no : Claim::yes);
  }
  r.trace.detected = 1002.2;
  r.trace.promoted = 1005;
  r.trace.guard = {1002, 1003, 1003.5};
  return r;
}

const ReportHeader kHeader{"check failover", "pgha-local", "default", "sync"};

std::vector<TimelineMark> kinds(const TimelinePanel& p) {
  std::vector<TimelineMark> k;
  for (const auto& m : p.markers) k.push_back(m.kind);
  return k;
}

TEST(TimelinePanel, EveryPhaseOfAGuardedRun) {
  TimelinePanel p = timeline_panel(guarded_run());
  using M = TimelineMark;
  EXPECT_EQ(kinds(p), (std::vector<M>{M::fault, M::detection, M::fence, M::release, M::promotion,
                                      M::first_write, M::lift, M::rejoin}));
  // From the breakdown, so they add up to the reported RTO.
  EXPECT_DOUBLE_EQ(p.markers[1].t, 2);
  EXPECT_DOUBLE_EQ(p.markers[2].t, 3);
  EXPECT_DOUBLE_EQ(p.markers[3].t, 3.5);
  EXPECT_DOUBLE_EQ(p.markers[4].t, 5);
  EXPECT_DOUBLE_EQ(p.markers[5].t, 6);
  EXPECT_DOUBLE_EQ(p.markers[6].t, 10);
  EXPECT_DOUBLE_EQ(p.markers[7].t, 14);
  EXPECT_EQ(p.markers[6].label, "restart (fenced) 10.00 s");
  EXPECT_EQ(p.title, "run 1: kill-node on pg1 \u2192 pg2  \u00b7  RTO 6.00 s  \u00b7  lost writes 0");
  EXPECT_LT(p.start, 0);
  EXPECT_GE(p.end, 14);
}

TEST(TimelinePanel, RolesAreMergedSpansOfPostgresAnswers) {
  TimelinePanel p = timeline_panel(guarded_run());
  ASSERT_EQ(p.nodes.size(), 2u);
  EXPECT_EQ(p.nodes[0].node, "pg1");
  ASSERT_EQ(p.nodes[0].spans.size(), 3u);
  EXPECT_EQ(p.nodes[0].spans[0].role, NodeRole::primary);
  EXPECT_EQ(p.nodes[0].spans[1].role, NodeRole::unreachable);
  EXPECT_EQ(p.nodes[0].spans[2].role, NodeRole::replica);
  EXPECT_NEAR(p.nodes[0].spans[1].from, 0, 0.2);
  EXPECT_DOUBLE_EQ(p.nodes[0].spans[0].to, p.nodes[0].spans[1].from);
  ASSERT_EQ(p.nodes[1].spans.size(), 2u);
  EXPECT_EQ(p.nodes[1].spans[1].role, NodeRole::primary);
  ASSERT_EQ(p.writes.size(), 1u);
  EXPECT_EQ(p.writes[0].label, "haproxy 10.42.0.12:5000");
}

TEST(TimelinePanel, WithoutAGuardNoFenceOrRelease) {
  RunResult r = guarded_run();
  r.rto.fence.reset();
  r.rto.release.reset();
  r.trace.guard = {};
  r.guard_fenced = false;
  TimelinePanel p = timeline_panel(r);
  using M = TimelineMark;
  EXPECT_EQ(kinds(p),
            (std::vector<M>{M::fault, M::detection, M::promotion, M::first_write, M::lift, M::rejoin}));
  EXPECT_EQ(p.markers.back().label, "rejoin 14.00 s");
}

TEST(TimelinePanel, WritesNeverResumedUsesTheObservations) {
  RunResult r = guarded_run();
  r.rto = {};
  r.rejoin_s.reset();
  r.trace.guard = {};
  TimelinePanel p = timeline_panel(r);
  using M = TimelineMark;
  EXPECT_EQ(kinds(p), (std::vector<M>{M::fault, M::detection, M::promotion, M::lift}));
  EXPECT_NEAR(p.markers[1].t, 2.2, 1e-9);
  EXPECT_NE(p.title.find("writes never resumed"), std::string::npos);
}

TEST(TimelinePanel, SwitchoverHasNoLift) {
  RunResult r = guarded_run();
  r.fault = "switchover";
  r.guard_fenced = false;
  TimelinePanel p = timeline_panel(r);
  for (const auto& m : p.markers) EXPECT_NE(m.kind, TimelineMark::lift);
  EXPECT_EQ(p.markers[0].label, "switchover requested");
  EXPECT_EQ(p.origin, "switchover request");
  EXPECT_NE(timeline_svg(kHeader, {r}).find("seconds from the switchover request"), std::string::npos);
}

TEST(TimelineSvg, WellFormedWithEveryMarker) {
  std::string svg = timeline_svg(kHeader, {guarded_run()});
  EXPECT_EQ(xml_problem(svg), "") << svg;
  EXPECT_EQ(
      svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"", 0),
      0u);
  for (const char* label : {"fault: kill-node", "detection 2.00 s", "fence 3.00 s", "key release 3.50 s",
                            "promotion 5.00 s", "first write 6.00 s", "restart (fenced) 10.00 s",
                            "rejoin 14.00 s", "pgha check failover: cluster pgha-local"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  // Self-contained: nothing fetched, nothing run.
  for (const char* banned : {"<script", "<image", "href", "@import", "url("})
    EXPECT_EQ(svg.find(banned), std::string::npos) << banned;
  EXPECT_EQ(count(svg, "<path "), 1u);  // the ack ticks of the one probe path
}

TEST(TimelineSvg, OnePanelPerRun) {
  RunResult second = guarded_run();
  second.run = 2;
  std::string svg = timeline_svg(kHeader, {guarded_run(), second});
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(count(svg, "run 1: kill-node"), 1u);
  EXPECT_EQ(count(svg, "run 2: kill-node"), 1u);
  EXPECT_NE(svg.find("2 runs"), std::string::npos);
}

TEST(TimelineSvg, EscapesEveryText) {
  RunResult r = guarded_run();
  r.old_primary = "<pg&1>\"'";
  r.error = "boom </svg> \x01 \xff";
  r.trace.acks[0].target = "<script>alert(1)</script>";
  add_role(r, "<pg&1>\"'", 1001, Claim::unknown);
  ReportHeader h = kHeader;
  h.cluster = "a&b<c>";
  std::string svg = timeline_svg(h, {r});
  EXPECT_EQ(xml_problem(svg), "") << svg;
  EXPECT_NE(svg.find("&lt;pg&amp;1&gt;&quot;&#39;"), std::string::npos);
  EXPECT_NE(svg.find("a&amp;b&lt;c&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<pg&1>"), std::string::npos);
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
  EXPECT_EQ(svg.find('\xff'), std::string::npos);
}

TEST(TimelineSvg, EmptyAndUnfinishedRuns) {
  std::string none = timeline_svg(kHeader, {});
  EXPECT_EQ(xml_problem(none), "") << none;
  EXPECT_NE(none.find("no runs"), std::string::npos);

  RunResult never;  // failed before the fault: no times, no samples
  never.fault = "partition";
  never.error = "before the fault: no leader";
  TimelinePanel p = timeline_panel(never);
  EXPECT_TRUE(p.markers.empty());
  EXPECT_TRUE(p.writes.empty());
  EXPECT_TRUE(p.nodes.empty());
  std::string svg = timeline_svg(kHeader, {never});
  EXPECT_EQ(xml_problem(svg), "") << svg;
  EXPECT_NE(svg.find("did not reach its fault"), std::string::npos);
  EXPECT_NE(svg.find("error: before the fault: no leader"), std::string::npos);

  RunResult bare;  // a fault, and nothing observed after it
  bare.fault = "freeze";
  bare.fault_at = 500;
  TimelinePanel q = timeline_panel(bare);
  EXPECT_EQ(kinds(q), std::vector<TimelineMark>{TimelineMark::fault});
  EXPECT_LT(q.start, q.end);
  EXPECT_EQ(xml_problem(timeline_svg(kHeader, {bare})), "");

  TimelinePanel degenerate;  // start == end, a lane with nothing in it
  degenerate.markers.push_back({TimelineMark::fault, "fault", 0});
  degenerate.writes.push_back({"vip", {}});
  degenerate.nodes.push_back({"pg1", {}});
  EXPECT_EQ(xml_problem(render_timeline_svg("h", {degenerate})), "");
}

TEST(TimelineSvg, CrowdedMarkersGetRowsOfTheirOwn) {
  RunResult r = guarded_run();
  r.rto.detection = r.rto.promotion = 0;  // detection, fence, release and promotion within 1.5 s
  std::string svg = timeline_svg(kHeader, {r});
  EXPECT_EQ(xml_problem(svg), "");
  // Each label sits on its own white box; distinct rows mean distinct y.
  std::set<std::string> ys;
  for (const char* label :
       {">detection 0.00 s<", ">fence 1.00 s<", ">key release 1.50 s<", ">promotion 1.50 s<"}) {
    size_t at = svg.find(label);
    ASSERT_NE(at, std::string::npos) << label;
    size_t y = svg.rfind(" y=\"", at);
    ys.insert(svg.substr(y, svg.find('"', y + 4) - y));
  }
  EXPECT_EQ(ys.size(), 4u);
}

TEST(SvgEscape, Characters) {
  EXPECT_EQ(svg_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(svg_escape("tab\tnl\n"), "tab\tnl\n");
  EXPECT_EQ(svg_escape("bell\x07"), "bell?");
  EXPECT_EQ(svg_escape("\u2192 ok"), "\u2192 ok");  // valid UTF-8 passes
  EXPECT_EQ(svg_escape("\xc3("), "?(");             // truncated sequence
  EXPECT_EQ(svg_escape("\xed\xa0\x80"), "???");     // a surrogate
  EXPECT_EQ(svg_escape("\xc0\xaf"), "??");          // overlong
  EXPECT_EQ(svg_escape(""), "");
}

}  // namespace
}  // namespace pgha
