#include <gtest/gtest.h>

#include "roles/failover/analysis.hpp"
#include "roles/failover/probe_log.hpp"
#include "roles/failover/rto.hpp"

namespace pgha {
namespace {

WriteAttempt ack(int64_t seq, double sent, double done, std::string server = "10.42.0.11") {
  return {seq, sent, done, WriteOutcome::acked, std::move(server)};
}
WriteAttempt lost_answer(int64_t seq, double sent, double done) {
  return {seq, sent, done, WriteOutcome::unknown, ""};
}

ProbeLog sample_log() {
  ProbeLog log;
  log.via = "haproxy";
  log.target = "10.42.0.12:5000";
  log.attempts = {ack(1, 99.0, 99.1),
                  ack(2, 99.5, 99.6),
                  lost_answer(3, 99.95, 102.0),
                  {4, 102.1, 102.2, WriteOutcome::refused, ""},
                  ack(5, 120.0, 120.4, "10.42.0.12"),
                  ack(6, 120.5, 120.55, "10.42.0.12")};
  return log;
}

TEST(ProbeLog, FirstAckSentAfterIgnoresWritesInFlightAtTheFault) {
  ProbeLog log = sample_log();
  const WriteAttempt* a = first_ack_sent_after(log, 100.0);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->seq, 5);
  EXPECT_EQ(first_ack_sent_after(log, 121.0), nullptr);
  EXPECT_EQ(last_ack_before(log, 110.0)->seq, 2);
}

TEST(ProbeLog, LongestGapCountsGapsEndingInTheWindow) {
  ProbeLog log = sample_log();
  EXPECT_NEAR(longest_ack_gap(log, 100.0, 130.0), 120.4 - 99.6, 1e-9);
  EXPECT_NEAR(longest_ack_gap(log, 120.5, 130.0), 0.15, 1e-9);
  EXPECT_EQ(longest_ack_gap(log, 200, 300), 0);
}

TEST(ProbeLog, RpoIsTheAckedSeqsMissingOnTheNewPrimary) {
  ProbeLog log = sample_log();
  // seq 2 acked but missing; seq 3 unanswered yet committed.
  std::set<int64_t> present = {1, 3, 5, 6};
  EXPECT_EQ(lost_acked_writes(log, present), std::vector<int64_t>{2});
  EXPECT_EQ(unknown_but_committed(log, present), 1);
  EXPECT_TRUE(lost_acked_writes(log, {1, 2, 5, 6}).empty());
}

TEST(Analysis, PathResultFromALog) {
  PathResult p = analyze_path(sample_log(), {1, 2, 5, 6}, 100.0, 100.05, 125.0);
  ASSERT_TRUE(p.rto_s);
  EXPECT_NEAR(*p.rto_s, 20.4, 1e-9);
  EXPECT_EQ(p.acked, 4);
  EXPECT_EQ(p.refused, 1);
  EXPECT_EQ(p.unknown, 1);
  EXPECT_EQ(p.lost, 0);
  EXPECT_EQ(p.via, "haproxy");
}

TEST(Rto, PhasesAddUpToTheTotal) {
  RtoBreakdown b = split_rto(100.0, 124.0, 125.5, 128.0);
  ASSERT_TRUE(b.total);
  EXPECT_NEAR(*b.total, 28.0, 1e-9);
  EXPECT_NEAR(b.detection, 24.0, 1e-9);
  EXPECT_NEAR(b.promotion, 1.5, 1e-9);
  EXPECT_NEAR(b.routing, 2.5, 1e-9);
}

TEST(Rto, OutOfOrderObservationsAreClamped) {
  // The /cluster poll saw the change after the promotion's timestamp; the ack came "before" it.
  RtoBreakdown b = split_rto(100.0, 126.0, 125.0, 124.0);
  EXPECT_NEAR(*b.total, 24.0, 1e-9);
  EXPECT_NEAR(b.detection + b.promotion + b.routing, 24.0, 1e-9);
  EXPECT_NEAR(b.detection, 24.0, 1e-9);
  // Nothing observed but the ack: unobserved phases count as instantaneous, the rest is routing.
  RtoBreakdown c = split_rto(100.0, std::nullopt, std::nullopt, 103.0);
  EXPECT_NEAR(c.routing, 3.0, 1e-9);
  EXPECT_FALSE(split_rto(100.0, 110.0, 111.0, std::nullopt).total);
}

TEST(Rto, DetectionIsWhenTheOldLeaderStopsBeingARunningLeader) {
  std::vector<LeaderSample> s = {{99.0, "pg2", "pg1", "running", 1},
                                 {101.0, "pg2", "pg1", "running", 1},
                                 {124.2, "pg3", "", "", 0},
                                 {124.1, "pg2", "pg2", "running", 2}};
  EXPECT_NEAR(*detected_at(s, "pg1", 100.0), 124.1, 1e-9);
  EXPECT_NEAR(*leader_running_at(s, 124.0), 124.1, 1e-9);
  EXPECT_FALSE(leader_running_at(s, 124.15));  // the only later sample has no leader
  EXPECT_FALSE(detected_at(s, "pg1", 200.0));
}

TEST(Rto, Iso8601AsPatroniWritesIt) {
  EXPECT_NEAR(*parse_iso8601("1970-01-01T00:00:10+00:00"), 10.0, 1e-9);
  EXPECT_NEAR(*parse_iso8601("2024-05-01T10:00:00.250000+02:00"), 1714550400.25, 1e-6);
  EXPECT_NEAR(*parse_iso8601("2024-05-01T08:00:00Z"), 1714550400.0, 1e-6);
  EXPECT_FALSE(parse_iso8601("2024-05-01 08:00:00"));
  EXPECT_FALSE(parse_iso8601("2024-05-01T08:00:00+0200"));
}

TEST(Rto, ParsesPatroniHistory) {
  auto h = parse_patroni_history(
      R"([[1, 25165984, "no recovery target specified", "2026-11-23T00:40:01.500000+00:00", "pg2"],
          [2, 33554592, "no recovery target specified"]])");
  ASSERT_TRUE(h) << h.error().describe();
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].timeline, 1);
  EXPECT_EQ((*h)[0].new_leader, "pg2");
  EXPECT_GT((*h)[0].at, 0);
  EXPECT_EQ((*h)[1].at, 0);
  EXPECT_FALSE(parse_patroni_history("{}"));
  EXPECT_FALSE(parse_patroni_history("[[\"x\"]]"));
}

TEST(Rejoin, NeedsStreamingOnTheLeadersTimeline) {
  PatroniCluster c;
  c.members = {{"pg1", "10.42.0.11", "replica", "running", 1, 0},
               {"pg2", "10.42.0.12", "leader", "running", 2, std::nullopt},
               {"pg3", "10.42.0.13", "sync_standby", "running", 2, 0}};
  EXPECT_EQ(rejoin_missing(c, "pg1", {"pg1", "pg3"}), "pg1 is on timeline 1, the leader on 2");
  c.members[0].timeline = 2;
  EXPECT_EQ(rejoin_missing(c, "pg1", {"pg3"}), "pg1 is not streaming from pg2");
  EXPECT_EQ(rejoin_missing(c, "pg1", {"pg1", "pg3"}), "");
  c.members[0].state = "starting";
  EXPECT_EQ(rejoin_missing(c, "pg1", {"pg1"}), "pg1 is starting");
  EXPECT_EQ(rejoin_missing(c, "pg2", {}), "");  // recovered in place
  EXPECT_EQ(rejoin_missing(c, "pg9", {}), "pg9 is not a cluster member");
}

}  // namespace
}  // namespace pgha
