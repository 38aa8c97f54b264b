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
}

TEST(SplitBrain, ASwitchoverBetweenTwoPollsIsNoSplitBrain) {
  // CI's e2e.scale, stop 22: pg3's last yes at 93.740, pg2's first yes at 94.742, pg3's "no" at 94.748.
  // pg3 demoted somewhere in between; nothing shows both primary at one moment.
  std::vector<PrimarySample> s = {pat("pg3", 92.74, Claim::yes),  pat("pg2", 92.9, Claim::no),
                                  pat("pg3", 93.740, Claim::yes), pat("pg2", 93.9, Claim::no),
                                  pat("pg2", 94.742, Claim::yes), pat("pg3", 94.748, Claim::no),
                                  pat("pg2", 95.7, Claim::yes)};
  auto r = find_split_brain(s, 1.8);
  EXPECT_FALSE(r.split_brain);
  EXPECT_EQ(r.max_primaries, 1);
  // Nor does an unanswered poll of the old primary make its earlier yes last.
  s[5].claim = Claim::unknown;
  s.push_back(pat("pg3", 95.75, Claim::no));
  EXPECT_FALSE(find_split_brain(s, 1.8).split_brain);
}

TEST(SplitBrain, AYesBetweenTheOtherNodesYesAnswersIsProven) {
  // pg2 said yes at 1.0 and 1.5 with nothing else between; pg1's yes at 1.2 falls inside.
  std::vector<PrimarySample> s = {pat("pg2", 1.0, Claim::yes), pat("pg1", 1.2, Claim::yes),
                                  pat("pg2", 1.5, Claim::yes)};
  auto r = find_split_brain(s, 1.8);
  ASSERT_TRUE(r.split_brain);
  EXPECT_NEAR(r.first_at, 1.2, 1e-9);
  EXPECT_EQ(r.nodes, (std::vector<std::string>{"pg1", "pg2"}));
  EXPECT_EQ(r.answered_at, (std::vector<double>{1.2, 1.0}));
  EXPECT_NEAR(r.duration_s, 0.0, 1e-9);
  // An unknown answer inside pg2's row does not break it; a "no" does, and so does a long silence.
  s.insert(s.begin() + 1, pat("pg2", 1.1, Claim::unknown));
  EXPECT_TRUE(find_split_brain(s, 1.8).split_brain);
  s[0].claim = Claim::no;
  s.push_back(pat("pg2", 0.9, Claim::yes));
  s[1] = pat("pg2", 1.1, Claim::no);
  EXPECT_FALSE(find_split_brain(s, 1.8).split_brain);
  std::vector<PrimarySample> gap = {pat("pg2", 1.0, Claim::yes), pat("pg1", 2.0, Claim::yes),
                                    pat("pg2", 4.0, Claim::yes)};
  EXPECT_FALSE(find_split_brain(gap, 1.8).split_brain);
}

TEST(SplitBrain, TwoPostgresPrimariesAfterAnUnfreezeAreReported) {
  std::vector<PrimarySample> s = {pg("pg2", 30.0, Claim::yes), pg("pg1", 30.1, Claim::yes),
                                  pg("pg2", 30.2, Claim::yes), pg("pg1", 30.4, Claim::yes),
                                  pg("pg2", 30.5, Claim::yes), pg("pg1", 30.6, Claim::no),
                                  pat("pg1", 30.1, Claim::no)};
  auto r = find_split_brain(s, 1.8);
  ASSERT_TRUE(r.split_brain);
  EXPECT_EQ(r.signal, "postgres");
  EXPECT_EQ(r.max_primaries, 2);
  EXPECT_NEAR(r.first_at, 30.1, 1e-9);
  EXPECT_EQ(r.nodes, (std::vector<std::string>{"pg1", "pg2"}));
  // Proven from pg1's first yes (30.1) to its last (30.4), while pg2's row spans both.
  EXPECT_NEAR(r.duration_s, 0.3, 1e-9);
}

TEST(SplitBrain, SignalsAreNotMixed) {
  // pg1 is primary by Patroni, pg2 by postgres: not the same signal, not a split brain.
  std::vector<PrimarySample> s = {pat("pg1", 1.0, Claim::yes), pg("pg2", 1.0, Claim::yes)};
  EXPECT_FALSE(find_split_brain(s, 1.8).split_brain);
}

}  // namespace
}  // namespace pgha
