// The guard's decision core: detection timing, every "never" rule, the replicas' confirmation, a fence
// the provider cannot confirm, the re-read before release, and the restart afterwards.
#include <gtest/gtest.h>

#include "guard/decide.hpp"

namespace pgha::guard {
namespace {

Observation healthy(double at) {
  Observation o;
  o.at = at;
  o.etcd_quorum = true;
  o.leader = LeaderKey{"pg1", 42};
  o.rest_ok = true;
  o.pg_ok = true;
  o.paused = false;
  o.streaming = {"pg2", "pg3"};
  o.sync_standbys = {"pg2"};
  return o;
}

Observation dead(double at) {
  Observation o = healthy(at);
  o.rest_ok = false;
  o.pg_ok = false;
  o.streaming.clear();
  o.sync_standbys.clear();
  return o;
}

ReplicaView sees(const std::string& name, bool reaches) {
  return {name, true, true, reaches, reaches};
}

// A core that saw a healthy leader at t=0 and a dead one from t=1 to t=1+detect: at suspicion.
Decision to_suspicion(Core& core, double detect = 3) {
  core.observe(healthy(0));
  Decision d;
  for (double t = 1; t <= 1 + detect + 1e-9; t += 0.5) d = core.observe(dead(t));
  return d;
}

TEST(GuardDecide, HealthyLeaderIsObserved) {
  Core core({});
  Decision d = core.observe(healthy(0));
  EXPECT_EQ(d.action, Action::observe);
  EXPECT_EQ(d.reason, "leader healthy");
}

TEST(GuardDecide, SuspicionOnlyAfterDetectSecondsOfBothProbesFailing) {
  Core core({});
  core.observe(healthy(0));
  for (double t = 1; t < 4; t += 0.5) EXPECT_EQ(core.observe(dead(t)).action, Action::observe) << t;
  Decision d = core.observe(dead(4));
  EXPECT_EQ(d.action, Action::suspect);
  EXPECT_EQ(d.node, "pg1");
  EXPECT_EQ(d.targets, (std::vector<std::string>{"pg2", "pg3"}));
}

TEST(GuardDecide, OneAnsweringProbeResetsTheStreak) {
  Core core({});
  core.observe(healthy(0));
  core.observe(dead(1));
  core.observe(dead(3));
  Observation half = healthy(3.5);
  half.rest_ok = false;  // REST down, PostgreSQL answers: not dead
  EXPECT_EQ(core.observe(half).action, Action::observe);
  EXPECT_EQ(core.observe(dead(4.5)).action, Action::observe);  // a new streak from 4.5
  EXPECT_EQ(core.observe(dead(7.5)).action, Action::suspect);
}

TEST(GuardDecide, ANewLeaderStartsAFreshStreak) {
  Core core({});
  core.observe(healthy(0));
  core.observe(dead(1));
  Observation other = dead(4);
  other.leader = LeaderKey{"pg2", 50};
  EXPECT_EQ(core.observe(other).action, Action::observe);
}

TEST(GuardDecide, NeverWithoutEtcdQuorum) {
  Core core({});
  core.observe(healthy(0));
  Observation o = dead(5);
  core.observe(dead(1));
  o.etcd_quorum = false;
  Decision d = core.observe(o);
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_EQ(d.reason, "etcd has no quorum");
}

TEST(GuardDecide, NeverWhilePatroniIsPausedOrItsStateUnknown) {
  Core core({});
  core.observe(healthy(0));
  core.observe(dead(1));
  Observation o = dead(5);
  o.paused = true;
  EXPECT_EQ(core.observe(o).reason, "Patroni is paused");
  o.paused.reset();
  EXPECT_EQ(core.observe(o).action, Action::decline);
}

TEST(GuardDecide, NeverDuringASwitchoverOrAHold) {
  Core core({});
  core.observe(healthy(0));
  core.observe(dead(1));
  Observation o = dead(5);
  o.switchover_pending = true;
  EXPECT_EQ(core.observe(o).reason, "a switchover is pending in Patroni");
  o.switchover_pending = false;
  o.hold = "rolling";
  EXPECT_EQ(core.observe(o).reason, "held: rolling");
}

TEST(GuardDecide, NeverWithoutAStreamingReplica) {
  Core core({});
  Observation h = healthy(0);
  h.streaming.clear();
  h.sync_standbys.clear();
  core.observe(h);
  core.observe(dead(1));
  Decision d = core.observe(dead(5));
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_EQ(d.reason, "no replica was streaming while the leader was last healthy");
}

TEST(GuardDecide, SyncModeNeedsASynchronousStandby) {
  Settings s;
  s.sync_mode = true;
  Core core(s);
  Observation h = healthy(0);
  h.sync_standbys.clear();  // streaming, but none synchronous
  core.observe(h);
  core.observe(dead(1));
  EXPECT_EQ(core.observe(dead(5)).reason, "no synchronous standby while the leader was last healthy");
}

TEST(GuardDecide, AReplicaThatStillReachesTheLeaderStopsTheFence) {
  Core core({});
  Decision d = to_suspicion(core);
  ASSERT_EQ(d.action, Action::suspect);
  d = core.on_replicas(dead(5), {sees("pg2", false), sees("pg3", true)});
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_EQ(d.reason, "replica pg3 still reaches the leader");
}

TEST(GuardDecide, NoHealthyReplicaConfirmingMeansNoFence) {
  Core core({});
  to_suspicion(core);
  ReplicaView unanswered{"pg2", false, false, false, false};
  ReplicaView sick{"pg3", true, false, false, false};  // its own Patroni is down: it proves nothing
  Decision d = core.on_replicas(dead(5), {unanswered, sick});
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_EQ(d.reason, "no healthy replica confirms that the leader is unreachable");
}

TEST(GuardDecide, ConfirmedByAReplicaFences) {
  Core core({});
  to_suspicion(core);
  Decision d = core.on_replicas(dead(5), {sees("pg2", false), {"pg3", false, false, false, false}});
  EXPECT_EQ(d.action, Action::fence);
  EXPECT_EQ(d.node, "pg1");
  EXPECT_EQ(d.reason, "unreachable from the guard and from pg2");
}

TEST(GuardDecide, StaticHostsAreObservedOnly) {
  Settings s;
  s.fencing = Fencing::observer_only;
  Core core(s);
  to_suspicion(core);
  Decision d = core.on_replicas(dead(5), {sees("pg2", false)});
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_NE(d.reason.find("observer only"), std::string::npos) << d.reason;
}

TEST(GuardDecide, DryRunSaysWhatItWouldFenceThenCoolsDown) {
  Settings s;
  s.mode = Mode::dry_run;
  Core core(s);
  to_suspicion(core);
  EXPECT_EQ(core.on_replicas(dead(5), {sees("pg2", false)}).action, Action::would_fence);
  Decision d = core.observe(dead(5.5));
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_EQ(d.reason.rfind("cooldown", 0), 0u) << d.reason;
}

TEST(GuardDecide, NeverTwiceWithinTheCooldown) {
  Settings s;
  s.cooldown_s = 600;
  Core core(s);
  to_suspicion(core);
  core.on_replicas(dead(5), {sees("pg2", false)});
  EXPECT_EQ(core.on_fence(5, true, "").action, Action::release);
  // The same member leads again later and fails again within the cooldown.
  core.observe(healthy(100));
  core.observe(dead(101));
  Decision d = core.observe(dead(105));
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_EQ(d.reason, "cooldown: fenced pg1 100.0 s ago (cooldown 600.0 s)");
  // After the cooldown it may fence again.
  core.observe(healthy(700));
  core.observe(dead(701));
  EXPECT_EQ(core.observe(dead(705)).action, Action::suspect);
}

TEST(GuardDecide, AFenceTheProviderCannotConfirmDeletesNothing) {
  Core core({});
  to_suspicion(core);
  core.on_replicas(dead(5), {sees("pg2", false)});
  Decision d = core.on_fence(6, false, "container still running 10 s after the kill");
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_EQ(d.reason,
            "fence of pg1 not confirmed, nothing deleted: container still running 10 s after the kill");
}

TEST(GuardDecide, ReleaseOnlyWhatTheReReadShows) {
  Core core({});
  to_suspicion(core);
  core.on_replicas(dead(5), {sees("pg2", false)});
  core.on_fence(6, true, "");
  EXPECT_EQ(core.before_release(false, LeaderKey{"pg1", 42}).action, Action::decline);
  EXPECT_EQ(core.before_release(true, std::nullopt).action, Action::observe);
  Decision other = core.before_release(true, LeaderKey{"pg2", 57});
  EXPECT_EQ(other.action, Action::observe);
  EXPECT_EQ(other.reason, "the leader key names pg2 now, nothing deleted");
  Decision d = core.before_release(true, LeaderKey{"pg1", 43});
  EXPECT_EQ(d.action, Action::release);
  EXPECT_EQ(d.mod_revision, 43);  // the revision just read, not the one seen at suspicion
}

TEST(GuardDecide, AKeyThatChangedBetweenReadAndDeleteIsLeftAlone) {
  Core core({});
  to_suspicion(core);
  core.on_replicas(dead(5), {sees("pg2", false)});
  core.on_fence(6, true, "");
  core.before_release(true, LeaderKey{"pg1", 42});
  Decision d = core.on_release(false);
  EXPECT_EQ(d.action, Action::decline);
  EXPECT_EQ(d.reason, "the leader key changed between read and delete, nothing deleted");
  EXPECT_EQ(core.on_release(true).reason, "released");
}

TEST(GuardDecide, RestartsTheFencedMachineOnceANewLeaderIsUp) {
  Settings s;
  s.restart = RestartFenced::yes;
  Core core(s);
  to_suspicion(core);
  core.on_replicas(dead(5), {sees("pg2", false)});
  core.on_fence(6, true, "");
  Observation none = dead(7);
  none.leader.reset();
  EXPECT_EQ(core.observe(none).action, Action::observe);
  Observation next = healthy(9);
  next.leader = LeaderKey{"pg2", 60};
  Decision d = core.observe(next);
  EXPECT_EQ(d.action, Action::restart);
  EXPECT_EQ(d.node, "pg1");
  core.on_restart();
  EXPECT_EQ(core.observe(next).action, Action::observe);
}

TEST(GuardDecide, NoRestartUnlessAskedFor) {
  Core core({});
  to_suspicion(core);
  core.on_replicas(dead(5), {sees("pg2", false)});
  core.on_fence(6, true, "");
  Observation next = healthy(9);
  next.leader = LeaderKey{"pg2", 60};
  EXPECT_EQ(core.observe(next).action, Action::observe);
}

}  // namespace
}  // namespace pgha::guard
