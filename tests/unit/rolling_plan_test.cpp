// What `pgha plan` shows for PostgreSQL parameters: each changed one with reload or restart, and the
// rolling restart's order; a member left with a pending restart (a roll that was killed) is planned
// again.
#include <gtest/gtest.h>

#include "roles/plan.hpp"

namespace pgha {
namespace {

PatroniMember pm(const std::string& name, const std::string& role) {
  PatroniMember m;
  m.name = name;
  m.role = role;
  m.state = "running";
  m.timeline = 1;
  if (role != "leader") m.lag_bytes = 0;
  return m;
}

struct Fixture {
  Inventory inv;
  PlanInput in{inv, {}, {}, false};
  Fixture() {
    inv.cluster_name = "c";
    inv.replication.mode = ReplicationMode::sync_mode;
    in.view.patroni = PatroniCluster{{pm("pg1", "leader"), pm("pg2", "sync_standby"), pm("pg3", "replica")}};
    in.view.dcs_config = dcs_config_patch(inv, nlohmann::json::object());
  }
  std::vector<Change> of(ChangeKind kind) {
    std::vector<Change> out;
    for (const auto& c : compute_plan(in).changes) {
      if (c.kind == kind) out.push_back(c);
    }
    return out;
  }
};

TEST(RollingPlan, NothingChangedNothingPlanned) {
  Fixture f;
  EXPECT_TRUE(f.of(ChangeKind::pg_parameter).empty());
  EXPECT_TRUE(f.of(ChangeKind::pg_restart).empty());
}

TEST(RollingPlan, AReloadParameterNeedsNoRestart) {
  Fixture f;
  f.inv.pg_parameters = {{"work_mem", "8MB"}};
  auto p = f.of(ChangeKind::pg_parameter);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].target, "work_mem");
  EXPECT_EQ(p[0].summary, "set work_mem = 8MB: reload");
  EXPECT_TRUE(f.of(ChangeKind::pg_restart).empty());
  auto patch = dcs_config_patch(f.inv, *f.in.view.dcs_config);
  EXPECT_EQ(patch, (nlohmann::json{{"postgresql", {{"parameters", {{"work_mem", "8MB"}}}}}}));
}

TEST(RollingPlan, ARestartParameterRollsReplicasThenSwitchesOver) {
  Fixture f;
  f.inv.pg_parameters = {{"max_connections", "300"}, {"shared_buffers", "256MB"}};
  auto p = f.of(ChangeKind::pg_parameter);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].summary, "set max_connections = 300 (was 200): needs a restart");
  auto r = f.of(ChangeKind::pg_restart);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].summary.rfind(
                "rolling restart: restart pg2, then wait for it to stream with lag 0; restart pg3", 0),
            0u)
      << r[0].summary;
  EXPECT_NE(r[0].summary.find("switch over from pg1 to the synchronous standby (pg2 now)"),
            std::string::npos);
  EXPECT_NE(r[0].summary.find("to roll back"), std::string::npos);
}

TEST(RollingPlan, LoweringMaxConnectionsRestartsTheLeaderFirst) {
  // A standby must run max_connections at least as high as its primary: the primary goes first.
  Fixture f;
  f.inv.pg_parameters = {{"max_connections", "150"}};
  auto r = f.of(ChangeKind::pg_restart);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].summary.rfind("rolling restart: restart the leader pg1 in place first", 0), 0u)
      << r[0].summary;
  EXPECT_EQ(r[0].summary.find("switch over"), std::string::npos) << r[0].summary;
  // Raising it keeps the usual order.
  f.inv.pg_parameters = {{"max_connections", "250"}};
  EXPECT_EQ(f.of(ChangeKind::pg_restart)[0].summary.rfind("rolling restart: restart pg2", 0), 0u);
}

TEST(RollingPlan, AParameterTakenOutOfTheInventoryIsReset) {
  Fixture f;
  f.inv.pg_parameters = {{"work_mem", "8MB"}, {"shared_buffers", "256MB"}};
  f.in.view.dcs_config = dcs_config_patch(f.inv, nlohmann::json::object());
  f.inv.pg_parameters = {{"work_mem", "8MB"}};
  auto p = f.of(ChangeKind::pg_parameter);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].summary, "reset shared_buffers to its default (was 256MB): needs a restart");
  EXPECT_EQ(f.of(ChangeKind::pg_restart).size(), 1u);
  // Patroni's PATCH /config deletes a key sent as null.
  auto patch = dcs_config_patch(f.inv, *f.in.view.dcs_config);
  EXPECT_EQ(patch, (nlohmann::json{{"postgresql", {{"parameters", {{"shared_buffers", nullptr}}}}}}));
  // Once it is gone, nothing more is planned; pgha's own parameters are never reset.
  f.in.view.dcs_config = dcs_config_patch(f.inv, nlohmann::json::object());
  EXPECT_TRUE(f.of(ChangeKind::pg_parameter).empty());
}

TEST(RollingPlan, SameValueInOtherUnitsIsNoChange) {
  Fixture f;
  f.inv.pg_parameters = {{"max_connections", "200"}, {"archive_timeout", "1min"}};
  EXPECT_TRUE(f.of(ChangeKind::pg_parameter).empty());
}

TEST(RollingPlan, APendingRestartLeftByAKilledRollIsPlannedAgain) {
  Fixture f;
  f.in.view.patroni->members[2].pending_restart = true;
  auto r = f.of(ChangeKind::pg_restart);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].summary.rfind("rolling restart: restart pg3, then wait", 0), 0u) << r[0].summary;
  EXPECT_EQ(r[0].summary.find("switch over"), std::string::npos);
}

TEST(RollingPlan, InPlaceIsShown) {
  Fixture f;
  f.in.primary = PrimaryRestart::in_place;
  f.inv.pg_parameters = {{"shared_buffers", "256MB"}};
  auto r = f.of(ChangeKind::pg_restart);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(r[0].summary.find("restart the leader pg1 in place"), std::string::npos);
}

TEST(RollingPlan, PatroniReportsPendingRestart) {
  auto c = parse_patroni_cluster(
      R"({"members":[{"name":"pg1","role":"leader","state":"running","timeline":1,"pending_restart":true},
                     {"name":"pg2","role":"replica","state":"running","timeline":1,"lag":0}]})");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->members[0].pending_restart);
  EXPECT_FALSE(c->members[1].pending_restart);
}

}  // namespace
}  // namespace pgha
