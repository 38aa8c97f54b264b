// The RTO split of `check failover --guard`: detection | fence | release | promotion | routing, from
// the guard's own event times, adding up to the total; without a release, the plain split.
#include <gtest/gtest.h>

#include "roles/failover/report.hpp"
#include "roles/failover/rto.hpp"

namespace pgha {
namespace {

TEST(GuardRto, FivePhasesAddUpToTheTotal) {
  GuardPhases g{103.0, 103.4, 103.5};
  RtoBreakdown b = split_rto_guarded(100.0, g, 101.0, 105.0, 106.0);
  ASSERT_TRUE(b.total && b.fence && b.release);
  EXPECT_DOUBLE_EQ(*b.total, 6.0);
  EXPECT_DOUBLE_EQ(b.detection, 3.0);
  EXPECT_NEAR(*b.fence, 0.4, 1e-9);
  EXPECT_NEAR(*b.release, 0.1, 1e-9);
  EXPECT_NEAR(b.promotion, 1.5, 1e-9);
  EXPECT_NEAR(b.routing, 1.0, 1e-9);
}

TEST(GuardRto, OutOfOrderTimesAreClamped) {
  GuardPhases g{103.0, 102.0,
                110.0};  // confirmed before suspected (clock granularity); release after the ack
  RtoBreakdown b = split_rto_guarded(100.0, g, std::nullopt, std::nullopt, 106.0);
  EXPECT_DOUBLE_EQ(b.detection + *b.fence + *b.release + b.promotion + b.routing, 6.0);
  EXPECT_GE(*b.fence, 0.0);
  EXPECT_GE(*b.release, 0.0);
}

TEST(GuardRto, NoReleaseMeansThePlainSplit) {
  GuardPhases g{103.0, std::nullopt, std::nullopt};  // suspected, but declined
  RtoBreakdown b = split_rto_guarded(100.0, g, 120.0, 121.0, 123.0);
  EXPECT_FALSE(b.fence);
  EXPECT_FALSE(b.release);
  EXPECT_DOUBLE_EQ(b.detection, 20.0);
}

TEST(GuardRto, TheReportNamesThePhases) {
  RunResult r;
  r.fault = "kill-node";
  r.old_primary = "pg1";
  r.new_primary = "pg2";
  r.rto = split_rto_guarded(100.0, {103.0, 103.5, 103.6}, 101.0, 105.0, 106.0);
  r.guard_fenced = true;
  PathResult p;
  p.via = "haproxy";
  p.target = "10.0.0.1:5000";
  p.rto_s = 6.0;
  r.paths.push_back(p);
  std::string t = format_report_text({"check failover", "demo", "fast", "sync"}, {r}, {});
  EXPECT_NE(t.find("6.00 s = detection 3.00 + fence 0.50 + release 0.10 + promotion 1.40 + routing 1.00"),
            std::string::npos)
      << t;
  auto j = report_json({"check failover", "demo", "fast", "sync"}, {r}, {});
  EXPECT_NEAR(j["runs"][0]["fence_s"].get<double>(), 0.5, 1e-9);
  EXPECT_EQ(j["runs"][0]["guard_fenced"], true);
}

}  // namespace
}  // namespace pgha
