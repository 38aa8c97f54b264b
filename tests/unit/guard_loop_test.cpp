// The guard's loop against a fake etcd (revisions, transactions), a fake cluster and a fake clock:
// the whole kill path, a fence the provider cannot confirm, a key that changes between the read and
// the delete, and two guards racing over one cluster.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "guard/guard_loop.hpp"

namespace pgha::guard {
namespace {

class FakeEtcd : public EtcdKv {
 public:
  Result<std::optional<KeyValue>> get(const std::string& key, ReadConsistency c) override {
    if (!quorum && c == ReadConsistency::linearizable) return Error(ErrorKind::timeout, "no quorum");
    auto it = kv.find(key);
    if (it == kv.end()) return std::optional<KeyValue>{};
    return std::optional<KeyValue>(it->second);
  }
  Result<bool> delete_if(const std::string& key, const std::string& value, int64_t mod_revision) override {
    if (before_txn) before_txn();
    ++txns;
    auto it = kv.find(key);
    if (it == kv.end() || it->second.value != value || it->second.mod_revision != mod_revision) return false;
    kv.erase(it);
    ++deletions;
    ++revision;
    if (after_delete) after_delete();
    return true;
  }
  void put(const std::string& key, const std::string& value) { kv[key] = {value, ++revision}; }

  std::map<std::string, KeyValue> kv;
  int64_t revision = 100;
  bool quorum = true;
  int txns = 0;
  int deletions = 0;
  std::function<void()> before_txn;
  std::function<void()> after_delete;
};

class FakeCluster : public GuardCluster {
 public:
  void observe(Observation& o) override {
    bool up = o.leader->member != dead_leader;
    o.rest_ok = o.pg_ok = up;
    o.paused = false;
    if (up) o.streaming = {"pg2", "pg3"};
  }
  std::vector<ReplicaView> ask_replicas(const std::string& leader,
                                        const std::vector<std::string>& r) override {
    ++asked;
    std::vector<ReplicaView> out;
    for (const auto& n : r) out.push_back({n, true, true, replicas_reach || leader != dead_leader, false});
    return out;
  }
  Status fence(const std::string& node) override {
    ++fences;
    if (on_fence) on_fence();
    if (!fence_error.empty()) return Error(ErrorKind::timeout, fence_error);
    stopped[node] = true;
    return {};
  }
  Result<PowerState> power_state(const std::string& node) override {
    return stopped[node] ? PowerState::stopped : PowerState::running;
  }
  Status restart(const std::string& node) override {
    stopped[node] = false;
    ++restarts;
    return {};
  }

  std::string dead_leader;
  std::string fence_error;
  bool replicas_reach = false;
  std::function<void()> on_fence;
  std::map<std::string, bool> stopped;
  int asked = 0, fences = 0, restarts = 0;
};

class FakeClock : public GuardClock {
 public:
  double now() override { return t; }
  void sleep(std::chrono::milliseconds d) override { t += d.count() / 1000.0; }
  double t = 1000;
};

const std::string kKey = "/service/demo/leader";

struct World {
  FakeEtcd etcd;
  FakeCluster cluster;
  FakeClock clock;
  std::vector<Event> log;
  World() { etcd.put(kKey, "pg1"); }
  Guard guard(Settings s = {}) {
    return Guard(s, cluster, etcd, "demo", clock, [this](const Event& e) { log.push_back(e); });
  }
  // Rounds every 500 ms for `seconds`.
  void rounds(Guard& g, double seconds) {
    for (double spent = 0; spent < seconds; spent += 0.5) {
      g.round();
      clock.t += 0.5;
    }
  }
  std::vector<std::string> events() const {
    std::vector<std::string> out;
    for (const auto& e : log) out.push_back(e.event);
    return out;
  }
};

TEST(GuardLoop, LeaderKeyPathIsPatronisDefaultNamespace) {
  EXPECT_EQ(leader_key_path("demo"), kKey);
}

TEST(GuardLoop, KilledLeaderIsFencedThenItsKeyReleased) {
  World w;
  Guard g = w.guard();
  w.rounds(g, 2);
  w.cluster.dead_leader = "pg1";
  double died = w.clock.t;
  w.rounds(g, 4);
  EXPECT_EQ(w.cluster.fences, 1);
  EXPECT_EQ(w.etcd.deletions, 1);
  EXPECT_EQ(w.etcd.kv.count(kKey), 0u);
  EXPECT_EQ(w.events(), (std::vector<std::string>{"observed", "observed", "suspected", "fenced", "confirmed",
                                                  "released", "observed"}));
  GuardTimes t = g.times("pg1", died);
  ASSERT_TRUE(t.suspected && t.confirmed && t.released);
  EXPECT_DOUBLE_EQ(*t.suspected - died, 3.0);  // detect_s of failing rounds
  EXPECT_EQ(w.log[5].mod_revision, 101);
}

TEST(GuardLoop, EveryDecisionIsOneJsonLine) {
  Event e{12.5, "released", "pg1", "released", 101};
  EXPECT_EQ(event_json(e),
            R"({"at":12.5,"event":"released","mod_revision":101,"node":"pg1","reason":"released"})");
}

TEST(GuardLoop, AFenceTheProviderCannotConfirmDeletesNothing) {
  World w;
  w.cluster.fence_error = "container still running 10 s after the kill";
  Guard g = w.guard();
  w.rounds(g, 1);
  w.cluster.dead_leader = "pg1";
  w.rounds(g, 5);
  EXPECT_EQ(w.cluster.fences, 1);
  EXPECT_EQ(w.etcd.txns, 0);
  EXPECT_EQ(w.etcd.kv.at(kKey).value, "pg1");
  EXPECT_EQ(w.log.back().event, "declined");
}

TEST(GuardLoop, AKeyThatChangedBetweenReadAndDeleteIsLeftAlone) {
  World w;
  // Between the guard's re-read and its transaction the key expires and pg2 takes it.
  w.etcd.before_txn = [&w] {
    w.etcd.kv.erase(kKey);
    w.etcd.put(kKey, "pg2");
  };
  Guard g = w.guard();
  w.rounds(g, 1);
  w.cluster.dead_leader = "pg1";
  w.rounds(g, 4);
  EXPECT_EQ(w.etcd.txns, 1);
  EXPECT_EQ(w.etcd.deletions, 0);
  EXPECT_EQ(w.etcd.kv.at(kKey).value, "pg2");
  bool said = false;
  for (const auto& e : w.log)
    said = said || e.reason == "the leader key changed between read and delete, nothing deleted";
  EXPECT_TRUE(said);
}

TEST(GuardLoop, NoQuorumNoFenceNoDeletion) {
  World w;
  Guard g = w.guard();
  w.rounds(g, 1);
  w.cluster.dead_leader = "pg1";
  w.etcd.quorum = false;
  w.rounds(g, 10);
  EXPECT_EQ(w.cluster.fences, 0);
  EXPECT_EQ(w.etcd.txns, 0);
  EXPECT_EQ(w.log.back().reason, "etcd has no quorum");
}

TEST(GuardLoop, AReplicaThatStillReachesTheLeaderPreventsTheFence) {
  World w;
  Guard g = w.guard();
  w.rounds(g, 1);
  // The guard cannot reach pg1 (its own link is the problem), but the replicas still can.
  w.cluster.dead_leader = "pg1";
  w.cluster.replicas_reach = true;
  w.rounds(g, 10);
  EXPECT_GT(w.cluster.asked, 0);
  EXPECT_EQ(w.cluster.fences, 0);
  EXPECT_EQ(w.etcd.txns, 0);
  EXPECT_EQ(w.log.back().reason, "replica pg2 still reaches the leader");
  // Said once, not every round.
  int declines = 0;
  for (const auto& e : w.log) declines += e.event == "declined";
  EXPECT_EQ(declines, 1);
}

TEST(GuardLoop, TwoGuardsRacingDeleteTheKeyOnceAndNeverTheSuccessors) {
  World w;
  Guard a = w.guard();
  Guard b = w.guard();
  for (int i = 0; i < 2; ++i) {
    a.round();
    b.round();
    w.clock.t += 0.5;
  }
  w.cluster.dead_leader = "pg1";
  // Patroni: as soon as the key is gone, pg2 takes it.
  w.etcd.after_delete = [&w] { w.etcd.put(kKey, "pg2"); };
  // While guard a is fencing, guard b runs its whole round: it fences too, re-reads, deletes.
  bool nested = false;
  w.cluster.on_fence = [&] {
    if (nested) return;
    nested = true;
    b.round();
  };
  for (int i = 0; i < 10; ++i) {
    a.round();
    b.round();
    w.clock.t += 0.5;
  }
  EXPECT_EQ(w.cluster.fences, 2);  // fencing twice is harmless: the machine is stopped either way
  EXPECT_EQ(w.etcd.deletions, 1);
  EXPECT_EQ(w.etcd.kv.at(kKey).value, "pg2");
  bool a_left_it = false;
  for (const auto& e : a.events())
    a_left_it = a_left_it || e.reason == "the leader key names pg2 now, nothing deleted";
  EXPECT_TRUE(a_left_it);
}

TEST(GuardLoop, TwoGuardsRacingOnTheSameRevisionDeleteOnce) {
  World w;
  FakeEtcd& etcd = w.etcd;
  // Both guards have read revision 101; the first transaction deletes, the second compares and fails.
  EXPECT_TRUE(*etcd.delete_if(kKey, "pg1", 101));
  EXPECT_FALSE(*etcd.delete_if(kKey, "pg1", 101));
  EXPECT_EQ(etcd.deletions, 1);
}

TEST(GuardLoop, RestartsTheFencedMachineOnceANewLeaderIsUp) {
  World w;
  Settings s;
  s.restart = RestartFenced::yes;
  Guard g = w.guard(s);
  w.rounds(g, 1);
  w.cluster.dead_leader = "pg1";
  w.rounds(g, 4);
  ASSERT_EQ(w.etcd.deletions, 1);
  w.etcd.put(kKey, "pg2");
  w.rounds(g, 1);
  EXPECT_EQ(w.cluster.restarts, 1);
  EXPECT_FALSE(w.cluster.stopped["pg1"]);
}

}  // namespace
}  // namespace pgha::guard
