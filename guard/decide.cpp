#include "guard/decide.hpp"

#include <cstdio>

namespace pgha::guard {
namespace {

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

const char* to_string(Action a) {
  switch (a) {
    case Action::observe: return "observe";
    case Action::suspect: return "suspect";
    case Action::fence: return "fence";
    case Action::would_fence: return "would_fence";
    case Action::release: return "release";
    case Action::restart: return "restart";
    case Action::decline: return "decline";
  }
  return "?";
}

Decision Core::decline(std::string reason) {
  Decision d;
  d.action = Action::decline;
  d.node = leader_;
  d.reason = std::move(reason);
  return d;
}

Decision Core::observe(const Observation& o) {
  if (s_.restart == RestartFenced::yes && !restart_pending_.empty() && o.leader &&
      o.leader->member != restart_pending_ && (o.rest_ok || o.pg_ok)) {
    return {Action::restart, restart_pending_, "new leader " + o.leader->member + " is up", 0, {}};
  }
  if (!o.leader) {
    failing_since_.reset();
    leader_.clear();
    return {Action::observe, "", o.etcd_quorum ? "no leader key" : "etcd unreadable", 0, {}};
  }
  if (o.leader->member != leader_) {
    leader_ = o.leader->member;
    failing_since_.reset();
    last_streaming_.clear();
    last_sync_.clear();
  }
  if (o.rest_ok || o.pg_ok) {
    failing_since_.reset();
    if (o.pg_ok) {  // the streaming replicas come from the leader's pg_stat_replication
      last_streaming_ = o.streaming;
      last_sync_ = o.sync_standbys;
    }
    return {Action::observe, leader_, "leader healthy", 0, {}};
  }
  if (!failing_since_) failing_since_ = o.at;
  double failing = o.at - *failing_since_;
  if (failing < s_.detect_s) {
    return {Action::observe, leader_, "leader unanswered for " + seconds(failing), 0, {}};
  }
  // Suspicion: every never rule first, the cheapest and most certain first.
  if (!o.etcd_quorum) return decline("etcd has no quorum");
  if (!o.paused) return decline("no member answered /cluster: Patroni's pause state is unknown");
  if (*o.paused) return decline("Patroni is paused");
  if (o.switchover_pending) return decline("a switchover is pending in Patroni");
  if (!o.hold.empty()) return decline("held: " + o.hold);
  if (last_fence_at_ && o.at - *last_fence_at_ < s_.cooldown_s) {
    return decline("cooldown: fenced " + fenced_ + " " + seconds(o.at - *last_fence_at_) + " ago (cooldown " +
                   seconds(s_.cooldown_s) + ")");
  }
  const auto& candidates = s_.sync_mode ? last_sync_ : last_streaming_;
  if (candidates.empty()) {
    return decline(s_.sync_mode ? "no synchronous standby while the leader was last healthy"
                                : "no replica was streaming while the leader was last healthy");
  }
  Decision d{Action::suspect, leader_, "leader unanswered for " + seconds(failing), 0, last_streaming_};
  return d;
}

Decision Core::on_replicas(const Observation& o, const std::vector<ReplicaView>& views) {
  std::vector<std::string> confirm;
  for (const auto& v : views) {
    if (!v.answered || !v.self_healthy) continue;
    if (v.reaches_rest || v.reaches_pg) return decline("replica " + v.name + " still reaches the leader");
    confirm.push_back(v.name);
  }
  if (confirm.empty()) return decline("no healthy replica confirms that the leader is unreachable");
  std::string why = "unreachable from the guard and from " + join(confirm);
  if (s_.fencing == Fencing::observer_only) {
    return decline("observer only: the provider cannot fence (static hosts); " + why);
  }
  if (s_.mode == Mode::dry_run) {
    last_fence_at_ = o.at;  // the cooldown applies to what a dry run would have done, too
    fenced_ = leader_;
    return {Action::would_fence, leader_, why, 0, {}};
  }
  fenced_ = leader_;
  return {Action::fence, leader_, why, 0, {}};
}

Decision Core::on_fence(double at, bool confirmed, const std::string& error) {
  last_fence_at_ = at;
  if (!confirmed) {
    Decision d = decline("fence of " + fenced_ + " not confirmed, nothing deleted: " + error);
    d.node = fenced_;
    return d;
  }
  restart_pending_ = fenced_;
  return {Action::release, fenced_, "confirmed stopped", 0, {}};
}

Decision Core::before_release(bool machine_stopped, const std::optional<LeaderKey>& key) {
  Decision d;
  d.node = fenced_;
  if (!machine_stopped) {
    d.action = Action::decline;
    d.reason = "the machine is not stopped on re-read, nothing deleted";
  } else if (!key) {
    d.action = Action::observe;
    d.reason = "the leader key is gone already, nothing deleted";
  } else if (key->member != fenced_) {
    d.action = Action::observe;
    d.reason = "the leader key names " + key->member + " now, nothing deleted";
  } else {
    d.action = Action::release;
    d.mod_revision = key->mod_revision;
    d.reason = "the key still names " + fenced_;
  }
  return d;
}

Decision Core::on_release(bool deleted) {
  Decision d;
  d.node = fenced_;
  if (deleted) {
    d.action = Action::observe;
    d.reason = "released";
  } else {
    d.action = Action::decline;
    d.reason = "the leader key changed between read and delete, nothing deleted";
  }
  return d;
}

}  // namespace pgha::guard
