// The rolling restart against a fake cluster: replicas first, one at a time, each gated; the
// switchover to the synchronous standby; the old leader last; stop on a replica that does not come
// back (the leader untouched); resume from what is still pending; in-place leader restart.
#include <gtest/gtest.h>

#include <map>

#include "roles/progress.hpp"
#include "roles/rolling.hpp"

namespace pgha {
namespace {

class FakeRoll : public RollCluster {
 public:
  struct M {
    std::string role = "replica";
    std::string state = "running";
    int timeline = 1;
    bool pending = true;
    std::map<std::string, std::pair<std::string, bool>> settings;
  };
  std::map<std::string, M> members;
  std::set<std::string> never_back;  // restarted, they stay stopped
  std::vector<std::string> events;
  int pauses = 0;

  FakeRoll() {
    members["pg1"].role = "leader";
    members["pg2"].role = "sync_standby";
    members["pg3"];
  }

  Result<PatroniCluster> cluster() override {
    PatroniCluster c;
    for (const auto& [name, m] : members) {
      PatroniMember pm;
      pm.name = name;
      pm.role = m.role;
      pm.state = m.state;
      pm.timeline = m.timeline;
      if (!is_primary_role(m.role) && m.state == "running") pm.lag_bytes = 0;
      pm.pending_restart = m.pending;
      c.members.push_back(pm);
    }
    return c;
  }
  Result<bool> pending_restart(const std::string& member) override { return members[member].pending; }
  Result<std::map<std::string, std::pair<std::string, bool>>> settings(
      const std::string& member, const std::vector<std::string>&) override {
    return members[member].settings;
  }
  Result<std::set<std::string>> streaming(const std::string& leader) override {
    std::set<std::string> out;
    for (const auto& [name, m] : members) {
      if (name != leader && m.state == "running") out.insert(name);
    }
    return out;
  }
  Status restart(const std::string& member) override {
    events.push_back("restart " + member);
    if (never_back.count(member)) {
      members[member].state = "stopped";
      return {};
    }
    members[member].pending = false;
    return {};
  }
  std::string asked_candidate = "-";
  Status restart_patroni(const std::string& member) override {
    events.push_back("patroni " + member);
    return {};
  }
  Status switchover(const std::string& leader, const std::string& candidate) override {
    asked_candidate = candidate;
    // Patroni picks its synchronous standby when no candidate is named.
    std::string to = candidate;
    for (const auto& [n, m] : members)
      if (to.empty() && m.role == "sync_standby") to = n;
    if (to.empty()) return Error(ErrorKind::conflict, "412: no synchronous standby");
    events.push_back("switchover " + leader + " " + to);
    members[leader].role = "replica";
    members[leader].pending = false;  // Patroni's demotion stops and starts PostgreSQL
    members[to].role = "leader";
    for (auto& [n, m] : members) m.timeline = 2;
    return {};
  }
  std::string log_tail(const std::string& member) override {
    return member + ": FATAL: could not map memory";
  }
  void pause(std::chrono::milliseconds) override { ++pauses; }
};

class QuietProgress : public Progress {
 public:
  void phase_begin(const std::string&) override {}
  void phase_end(const std::string&, bool) override {}
  void node(const std::string&, const std::string&) override {}
  void info(const std::string& m) override { infos.push_back(m); }
  void warn(const std::string&) override {}
  std::vector<std::pair<std::string, double>> timings() const override { return {}; }
  std::vector<std::string> infos;
};

RollOptions fast() {
  RollOptions o;
  o.gate = std::chrono::seconds(2);
  o.poll = std::chrono::milliseconds(100);
  return o;
}

TEST(Rolling, ReplicasOneAtATimeThenSwitchoverToTheSyncStandby) {
  FakeRoll f;
  QuietProgress p;
  auto r = rolling_restart(f, p, fast());
  ASSERT_TRUE(r) << r.error().describe();
  // The demotion restarted pg1, so it needs no second restart.
  EXPECT_EQ(f.events, (std::vector<std::string>{"restart pg2", "restart pg3", "switchover pg1 pg2"}));
  EXPECT_EQ(r->leader_changes, 1);
  EXPECT_EQ(f.members["pg2"].role, "leader");
  for (const auto& [n, m] : f.members) EXPECT_FALSE(m.pending) << n;
}

TEST(Rolling, OldLeaderStillPendingAfterTheSwitchoverIsRestartedAsAReplica) {
  QuietProgress p;
  struct Sticky : FakeRoll {
    Status switchover(const std::string& l, const std::string& c) override {
      auto s = FakeRoll::switchover(l, c);
      members[l].pending = true;  // a demotion that kept the old settings
      return s;
    }
  } g;
  auto r = rolling_restart(g, p, fast());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(g.events,
            (std::vector<std::string>{"restart pg2", "restart pg3", "switchover pg1 pg2", "restart pg1"}));
  EXPECT_FALSE(g.members["pg1"].pending);
}

TEST(Rolling, AReplicaThatDoesNotComeBackStopsTheRollAndTheLeaderIsNotTouched) {
  FakeRoll f;
  f.never_back.insert("pg2");
  QuietProgress p;
  auto r = rolling_restart(f, p, fast());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().message.find("the roll stopped: pg2 did not come back within 2 s"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("the leader pg1 was not touched"), std::string::npos);
  EXPECT_NE(r.error().message.find("FATAL: could not map memory"), std::string::npos);
  EXPECT_EQ(f.events, (std::vector<std::string>{"restart pg2"}));
  EXPECT_EQ(f.members["pg1"].role, "leader");
  EXPECT_GT(f.pauses, 0);
}

TEST(Rolling, ResumesFromWhatIsStillPending) {
  FakeRoll f;
  f.members["pg2"].pending = false;  // restarted by a run that was killed
  QuietProgress p;
  auto r = rolling_restart(f, p, fast());
  ASSERT_TRUE(r);
  EXPECT_EQ(f.events, (std::vector<std::string>{"restart pg3", "switchover pg1 pg2"}));
  // Run again: nothing is pending, nothing happens.
  f.events.clear();
  auto again = rolling_restart(f, p, fast());
  ASSERT_TRUE(again);
  EXPECT_TRUE(f.events.empty());
  EXPECT_TRUE(again->steps.empty());
}

TEST(Rolling, InterruptedAfterTheSwitchoverFinishesWithoutASecondLeaderChange) {
  FakeRoll f;
  ASSERT_TRUE(f.switchover("pg1", "pg2"));
  f.events.clear();
  f.members["pg2"].pending = false;
  f.members["pg3"].pending = false;
  f.members["pg1"].pending = true;  // the old leader, now a replica, still pending
  QuietProgress p;
  auto r = rolling_restart(f, p, fast());
  ASSERT_TRUE(r);
  EXPECT_EQ(f.events, (std::vector<std::string>{"restart pg1"}));
  EXPECT_EQ(r->leader_changes, 0);
}

TEST(Rolling, SyncModeWaitsForASynchronousStandbyAndLetsPatroniPickIt) {
  // The sync standby was just restarted: Patroni has not named one again yet (CI's e2e.rolling, where
  // naming the replica that looked best got 412 from the leader's Patroni).
  struct Late : FakeRoll {
    int reads = 0;
    Result<PatroniCluster> cluster() override {
      if (++reads == 8) members["pg3"].role = "sync_standby";
      return FakeRoll::cluster();
    }
  } f;
  f.members["pg2"].role = "replica";
  QuietProgress p;
  auto r = rolling_restart(f, p, fast());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(f.asked_candidate, "");
  EXPECT_EQ(f.events.back(), "switchover pg1 pg3");
  EXPECT_EQ(r->steps[2], "switched over from pg1 to pg3");
  EXPECT_GT(f.pauses, 0);
}

TEST(Rolling, SyncModeWithoutASynchronousStandbyStopsBeforeTheLeader) {
  FakeRoll f;
  f.members["pg2"].role = "replica";
  QuietProgress p;
  auto r = rolling_restart(f, p, fast());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no synchronous standby yet"), std::string::npos) << r.error().message;
  EXPECT_EQ(f.members["pg1"].role, "leader");
}

TEST(Rolling, AsyncModeNamesAHealthyReplica) {
  FakeRoll f;
  f.members["pg2"].role = "replica";
  QuietProgress p;
  auto o = fast();
  o.replication = ReplicationMode::async_mode;
  auto r = rolling_restart(f, p, o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(f.asked_candidate, "pg2");
  EXPECT_EQ(r->leader_changes, 1);
}

TEST(Rolling, LeaderFirstRestartsTheLeaderInPlaceThenTheReplicas) {
  FakeRoll f;
  QuietProgress p;
  auto o = fast();
  o.order = RollOrder::leader_first;
  auto r = rolling_restart(f, p, o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(f.events, (std::vector<std::string>{"restart pg1", "restart pg2", "restart pg3"}));
  EXPECT_EQ(r->leader_changes, 0);
  EXPECT_EQ(f.members["pg1"].role, "leader");
  EXPECT_EQ(
      roll_order(*f.cluster(), {"pg1", "pg2", "pg3"}, o)[0].rfind("restart the leader pg1 in place first", 0),
      0u);
}

TEST(Rolling, PatroniItselfIsRestartedReplicasFirstAndNeverOnTheLeader) {
  // A Patroni running its module from before the leader-key fix: its service restarted, in a roll.
  // Even with --primary-restart in-place, a leader's Patroni is restarted only after a switchover:
  // its stop releases the leader key.
  FakeRoll f;
  f.members["pg3"].pending = false;
  QuietProgress p;
  auto o = fast();
  o.action = RollAction::patroni;
  o.scope = RollScope::given;
  o.members = {"pg1", "pg3"};
  o.primary = PrimaryRestart::in_place;
  o.order = RollOrder::leader_first;
  EXPECT_EQ(roll_order(*f.cluster(), o.members, o)[0],
            "restart Patroni on pg3, then wait for it to stream with lag 0");
  auto r = rolling_restart(f, p, o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(f.events, (std::vector<std::string>{"patroni pg3", "switchover pg1 pg2", "patroni pg1"}));
  EXPECT_EQ(r->steps.back(), "restarted Patroni on pg1 as a replica");
}

TEST(Rolling, InPlaceRestartsTheLeaderWhereItIs) {
  FakeRoll f;
  QuietProgress p;
  auto o = fast();
  o.primary = PrimaryRestart::in_place;
  auto r = rolling_restart(f, p, o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(f.events, (std::vector<std::string>{"restart pg2", "restart pg3", "restart pg1"}));
  EXPECT_EQ(r->leader_changes, 0);
  EXPECT_EQ(f.members["pg1"].role, "leader");
}

TEST(Rolling, OneNodeOrEveryMember) {
  FakeRoll f;
  for (auto& [n, m] : f.members) m.pending = false;
  QuietProgress p;
  auto o = fast();
  o.scope = RollScope::all;
  o.only_node = "pg3";
  ASSERT_TRUE(rolling_restart(f, p, o));
  EXPECT_EQ(f.events, (std::vector<std::string>{"restart pg3"}));
  o.only_node = "pg9";
  auto bad = rolling_restart(f, p, o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::bad_input);
}

TEST(Rolling, NoHealthyCandidateStopsBeforeTheLeader) {
  FakeRoll f;
  f.members["pg2"].pending = false;
  f.members["pg3"].pending = false;
  f.members["pg2"].state = "stopped";
  f.members["pg3"].state = "stopped";
  QuietProgress p;
  auto r = rolling_restart(f, p, fast());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--primary-restart in-place"), std::string::npos);
  EXPECT_TRUE(f.events.empty());
}

TEST(Rolling, OrderAsThePlanShowsIt) {
  FakeRoll f;
  auto c = f.cluster();
  auto order = roll_order(*c, {"pg1", "pg2", "pg3"}, RollOptions{});
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], "restart pg2, then wait for it to stream with lag 0");
  EXPECT_EQ(order[2],
            "switch over from pg1 to the synchronous standby (pg2 now), then restart pg1 as a replica if it "
            "still needs it");
}

TEST(ParametersGate, WaitsForEveryMemberToShowTheValueOrHaveItPending) {
  FakeRoll f;
  f.members["pg1"].settings = {{"work_mem", {"8192", false}}, {"shared_buffers", {"16384", true}}};
  f.members["pg2"].settings = {{"work_mem", {"4096", false}}, {"shared_buffers", {"16384", true}}};
  WantedSettings want;
  for (auto n : {"pg1", "pg2"}) want[n] = {{"work_mem", "8192"}, {"shared_buffers", "32768"}};
  auto s = parameters_gate(f, want, fast());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("pg2 shows work_mem = 4096, not 8192"), std::string::npos)
      << s.error().message;
  f.members["pg2"].settings["work_mem"].first = "8192";
  EXPECT_TRUE(parameters_gate(f, want, fast()));
}

}  // namespace
}  // namespace pgha
