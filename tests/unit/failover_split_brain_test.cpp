#include <gtest/gtest.h>

#include "roles/failover/split_brain.hpp"

namespace pgha {
namespace {

PrimarySample pat(const std::string& n, double t, Claim c) {
  return {n, PrimarySignal::patroni, t, c};
}
PrimarySample pg(const std::string& n, double t, Claim c) {
  return {n, PrimarySignal::postgres, t, c};
}

TEST(SplitBrain, CleanFailoverHasOnePrimaryAtATime) {
  std::vector<PrimarySample> s = {pat("pg1", 1.0, Claim::yes),     pat("pg2", 1.1, Claim::no),
                                  pat("pg1", 1.2, Claim::unknown), pat("pg2", 5.0, Claim::yes),
                                  pat("pg1", 5.1, Claim::no),      pg("pg2", 5.2, Claim::yes),
                                  pg("pg1", 5.3, Claim::no)};
  auto r = find_split_brain(s, 1.8);
  EXPECT_FALSE(r.split_brain);
  EXPECT_EQ(r.max_primaries, 1);
  EXPECT_EQ(r.samples, 7);
}

TEST(SplitBrain, AStaleYesFromAVanishedNodeDoesNotCount) {
  // pg1 said yes, then went silent (killed); pg2 says yes 20 s later.
  std::vector<PrimarySample> s = {pat("pg1", 1.0, Claim::yes), pat("pg2", 21.0, Claim::yes)};
  EXPECT_FALSE(find_split_brain(s, 1.8).split_brain);
  // Within the staleness window it does.
  std::vector<PrimarySample> t = {pat("pg1", 1.0, Claim::yes), pat("pg2", 2.0, Claim::yes)};
  EXPECT_TRUE(find_split_brain(t, 1.8).split_brain);
}

TEST(SplitBrain, TwoPostgresPrimariesAfterAnUnfreezeAreReported) {
  std::vector<PrimarySample> s = {pg("pg2", 30.0, Claim::yes), pg("pg1", 30.1, Claim::yes),
                                  pg("pg2", 30.2, Claim::yes), pg("pg1", 30.4, Claim::yes),
                                  pg("pg1", 30.6, Claim::no),  pat("pg1", 30.1, Claim::no)};
  auto r = find_split_brain(s, 1.8);
  ASSERT_TRUE(r.split_brain);
  EXPECT_EQ(r.signal, "postgres");
  EXPECT_EQ(r.max_primaries, 2);
  EXPECT_NEAR(r.first_at, 30.1, 1e-9);
  EXPECT_EQ(r.nodes, (std::vector<std::string>{"pg1", "pg2"}));
  EXPECT_NEAR(r.duration_s, 0.5, 1e-9);
}

TEST(SplitBrain, SignalsAreNotMixed) {
  // pg1 is primary by Patroni, pg2 by postgres: not the same signal, not a split brain.
  std::vector<PrimarySample> s = {pat("pg1", 1.0, Claim::yes), pg("pg2", 1.0, Claim::yes)};
  EXPECT_FALSE(find_split_brain(s, 1.8).split_brain);
}

}  // namespace
}  // namespace pgha
