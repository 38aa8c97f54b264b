#include "roles/rolling.hpp"

#include <algorithm>

#include "roles/progress.hpp"

namespace pgha {
namespace {

const PatroniMember* member(const PatroniCluster& c, const std::string& name) {
  for (const auto& m : c.members) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

bool healthy_replica(const PatroniMember& m, const PatroniMember& leader) {
  return !is_primary_role(m.role) && (m.state == "running" || m.state == "streaming") &&
         m.timeline == leader.timeline && m.lag_bytes && *m.lag_bytes == 0;
}

// The switchover candidate: a healthy synchronous standby, else a healthy replica; "" when none.
std::string candidate_of(const PatroniCluster& c) {
  const PatroniMember* leader = c.leader();
  if (!leader) return "";
  const PatroniMember* best = nullptr;
  for (const auto& m : c.members) {
    if (&m == leader || !healthy_replica(m, *leader)) continue;
    if (!best || (m.role == "sync_standby" && best->role != "sync_standby")) best = &m;
  }
  return best ? best->name : "";
}

// Polls until probe says "" (healthy) or the gate's time is up; the error names what was last wrong.
Status wait_for(RollCluster& rc, const RollOptions& opts, const std::function<std::string()>& probe,
                std::string* last) {
  const auto attempts = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(opts.gate).count() / opts.poll.count());
  for (int64_t i = 0; i < attempts; ++i) {
    *last = probe();
    if (last->empty()) return {};
    rc.pause(opts.poll);
  }
  return make_error(ErrorKind::timeout, *last);
}

// Why `name` is not back as a healthy replica of `leader_name` yet ("" when it is).
std::string replica_back(RollCluster& rc, const std::string& name, const std::string& leader_name) {
  auto c = rc.cluster();
  if (!c) return "Patroni does not answer: " + c.error().describe();
  const PatroniMember* leader = c->leader();
  if (!leader) return "no leader";
  if (leader->name != leader_name) return "the leader is " + leader->name + ", not " + leader_name;
  const PatroniMember* m = member(*c, name);
  if (!m) return name + " is not a Patroni member";
  if (!healthy_replica(*m, *leader))
    return name + " is " + (m->state.empty() ? "not running" : m->state) +
           (m->lag_bytes ? ", lag " + std::to_string(*m->lag_bytes) + " bytes" : ", lag unknown");
  auto s = rc.streaming(leader_name);
  if (!s) return s.error().describe();
  if (!s->count(name)) return name + " is not streaming from " + leader_name;
  auto p = rc.pending_restart(name);
  if (!p) return p.error().describe();
  if (*p) return name + " still has a pending restart";
  return "";
}

std::string stopped(RollCluster& rc, const std::string& name, const std::string& what,
                    const std::string& leader, bool leader_untouched) {
  std::string msg = "the roll stopped: " + name + " " + what;
  if (leader_untouched) msg += "; the leader " + leader + " was not touched";
  const std::string tail = rc.log_tail(name);
  if (!tail.empty()) msg += ". Last lines of " + name + "'s log:\n" + tail;
  return msg;
}

}  // namespace

std::vector<std::string> roll_order(const PatroniCluster& c, const std::set<std::string>& targets,
                                    const RollOptions& opts) {
  std::vector<std::string> out;
  const PatroniMember* leader = c.leader();
  const std::string what = opts.action == RollAction::patroni ? "Patroni on " : "";
  // Patroni's own restart on a leader would release the leader key: always a switchover first.
  const bool patroni = opts.action == RollAction::patroni;
  if (leader && opts.order == RollOrder::leader_first && !patroni) {
    out.push_back("restart " + what + "the leader " + leader->name +
                  " in place first (a lowered max_connections-like setting: writes stop while it restarts)");
    for (const auto& name : targets)
      if (name != leader->name)
        out.push_back("restart " + what + name + ", then wait for it to stream with lag 0");
    return out;
  }
  for (const auto& name : targets) {
    if (!leader || name != leader->name)
      out.push_back("restart " + what + name + ", then wait for it to stream with lag 0");
  }
  if (leader && targets.count(leader->name)) {
    if (opts.primary == PrimaryRestart::in_place && !patroni) {
      out.push_back("restart " + what + "the leader " + leader->name +
                    " in place (writes stop while it restarts)");
    } else {
      const std::string to = candidate_of(c);
      const std::string whom = opts.replication == ReplicationMode::sync_mode
                                   ? "the synchronous standby" + (to.empty() ? "" : " (" + to + " now)")
                                   : (to.empty() ? "a healthy replica (none is healthy now)" : to);
      out.push_back("switch over from " + leader->name + " to " + whom + ", then restart " + what +
                    leader->name + " as a replica if it still needs it");
    }
  }
  return out;
}

Result<RollReport> rolling_restart(RollCluster& rc, Progress& progress, const RollOptions& opts) {
  RollReport report;
  auto c = rc.cluster();
  if (!c) return c.error().with("step rolling-restart");
  const PatroniMember* leader_m = c->leader();
  if (!leader_m)
    return Error(ErrorKind::conflict, "no Patroni leader: a rolling restart needs a running cluster");
  const std::string leader = leader_m->name;
  std::vector<std::string> names;
  for (const auto& m : c->members) names.push_back(m.name);
  std::sort(names.begin(), names.end());
  if (!opts.only_node.empty() && !member(*c, opts.only_node))
    return Error(ErrorKind::bad_input, opts.only_node + " is not a Patroni member of this cluster");
  std::set<std::string> targets;
  for (const auto& n : names) {
    if (!opts.only_node.empty() && n != opts.only_node) continue;
    if (opts.scope == RollScope::all || (opts.scope == RollScope::given && opts.members.count(n))) {
      targets.insert(n);
      continue;
    }
    if (opts.scope == RollScope::given) continue;
    auto p = rc.pending_restart(n);
    if (!p) return p.error().with("step rolling-restart").with("host " + n);
    if (*p) targets.insert(n);
  }
  if (targets.empty()) return report;
  for (const auto& line : roll_order(*c, targets, opts)) progress.info("rolling restart: " + line);

  const bool patroni = opts.action == RollAction::patroni;
  const std::string step = patroni ? "patroni:restart" : "postgres:restart";
  auto restart = [&](const std::string& n) { return patroni ? rc.restart_patroni(n) : rc.restart(n); };
  // A Patroni restart does not clear a pending PostgreSQL restart: that is not what it waits for.
  auto back = [&](const std::string& n, const std::string& of) {
    auto w = replica_back(rc, n, of);
    return patroni && w.find("pending restart") != std::string::npos ? "" : w;
  };
  // The leader restarted where it is: gated on it leading again with nothing pending, and every
  // other member streaming from it (their own pending restarts aside).
  auto leader_in_place = [&]() -> Status {
    progress.node_step(leader, step);
    if (auto s = restart(leader); !s)
      return Error(ErrorKind::remote_failure,
                   stopped(rc, leader, "did not restart (" + s.error().describe() + ")", leader, false));
    std::string why;
    auto leads = [&]() -> std::string {
      for (const auto& n : names) {
        if (n == leader) continue;
        if (auto w = replica_back(rc, n, leader);
            !w.empty() && w.find("pending restart") == std::string::npos)
          return w;
      }
      auto c = rc.cluster();
      if (!c) return c.error().describe();
      const PatroniMember* l = c->leader();
      if (!l || l->name != leader || l->state != "running") return leader + " does not lead yet";
      if (patroni) return "";
      auto p = rc.pending_restart(leader);
      if (!p) return p.error().describe();
      return *p ? leader + " still has a pending restart" : "";
    };
    if (auto s = wait_for(rc, opts, leads, &why); !s)
      return Error(ErrorKind::timeout,
                   stopped(rc, leader, "did not come back as the leader (" + why + ")", leader, false));
    report.steps.push_back("restarted " + std::string(patroni ? "Patroni on " : "") + "the leader " + leader +
                           " in place");
    return {};
  };
  // Patroni's own restart on a leader would release the leader key: never in place.
  const bool leader_first = opts.order == RollOrder::leader_first && targets.count(leader) && !patroni;
  if (leader_first) {
    if (auto s = leader_in_place(); !s) return s.error();
  }

  // Replicas one at a time; the first that does not come back ends the roll.
  for (const auto& n : targets) {
    if (n == leader) continue;
    progress.node_step(n, step);
    if (auto s = restart(n); !s)
      return Error(ErrorKind::remote_failure,
                   stopped(rc, n, "did not restart (" + s.error().describe() + ")", leader, !leader_first));
    std::string why;
    if (auto s = wait_for(
            rc, opts, [&] { return back(n, leader); }, &why);
        !s)
      return Error(
          ErrorKind::timeout,
          stopped(rc, n, "did not come back within " + std::to_string(opts.gate.count()) + " s (" + why + ")",
                  leader, !leader_first));
    report.steps.push_back("restarted " + std::string(patroni ? "Patroni on " : "") + n);
    progress.node(n, "restarted, streaming with lag 0");
  }
  if (leader_first || !targets.count(leader)) return report;

  if (opts.primary == PrimaryRestart::in_place && !patroni) {
    if (auto s = leader_in_place(); !s) return s.error();
    return report;
  }

  // Switch over to a synchronous standby (or a healthy replica), then the old leader, now a
  // replica, is restarted if the demotion did not already apply everything. A replica restarted a
  // moment ago may not be the synchronous standby again yet: wait for one, within the gate.
  const bool sync = opts.replication == ReplicationMode::sync_mode;
  std::string why;
  std::string candidate;
  auto has_candidate = [&]() -> std::string {
    auto now = rc.cluster();
    if (!now) return now.error().describe();
    candidate = candidate_of(*now);
    const PatroniMember* m = nullptr;
    for (const auto& x : now->members) m = x.name == candidate ? &x : m;
    if (!m) return "no replica of " + leader + " is healthy with lag 0";
    if (sync && m->role != "sync_standby") return "no synchronous standby yet";
    return "";
  };
  if (auto s = wait_for(rc, opts, has_candidate, &why); !s)
    return Error(ErrorKind::conflict,
                 "the roll stopped before the leader: " + why +
                     " to switch over to (--primary-restart in-place restarts the leader where it is)");
  progress.node_step(leader, "patroni:switchover");
  if (auto s = rc.switchover(leader, sync ? "" : candidate); !s)
    return Error(ErrorKind::remote_failure, "switchover from " + leader + " failed: " + s.error().describe());
  std::string to;
  auto new_leader = [&]() -> std::string {
    auto now = rc.cluster();
    if (!now) return now.error().describe();
    const PatroniMember* l = now->leader();
    if (!l || l->name == leader) return "the leader is still " + leader;
    if (l->state != "running") return l->name + " leads but is " + l->state;
    to = l->name;
    return "";
  };
  if (auto s = wait_for(rc, opts, new_leader, &why); !s)
    return Error(ErrorKind::timeout, "after the switchover from " + leader + ": " + why);
  ++report.leader_changes;
  report.steps.push_back("switched over from " + leader + " to " + to);
  auto old_back = [&]() -> std::string {
    auto w = replica_back(rc, leader, to);
    return w.find("pending restart") != std::string::npos ? "" : w;
  };
  if (auto s = wait_for(rc, opts, old_back, &why); !s)
    return Error(ErrorKind::timeout,
                 stopped(rc, leader, "did not rejoin as a replica of " + to + " (" + why + ")", to, false));
  // The demotion restarted PostgreSQL, so the old leader's needs another restart only if it still has
  // one pending; Patroni's own service was not restarted by it.
  bool again = patroni;
  if (!patroni) {
    auto p = rc.pending_restart(leader);
    if (!p) return p.error().with("host " + leader);
    again = *p;
  }
  if (again) {
    progress.node_step(leader, step);
    if (auto s = restart(leader); !s)
      return Error(ErrorKind::remote_failure,
                   stopped(rc, leader, "did not restart (" + s.error().describe() + ")", to, false));
    if (auto s = wait_for(
            rc, opts, [&] { return back(leader, to); }, &why);
        !s)
      return Error(ErrorKind::timeout, stopped(rc, leader, "did not come back (" + why + ")", to, false));
    report.steps.push_back("restarted " + std::string(patroni ? "Patroni on " : "") + leader +
                           " as a replica");
  }
  progress.node(leader, "rejoined as a replica of " + to);
  return report;
}

Status replica_gate(RollCluster& rc, const std::string& member, const std::string& leader,
                    const RollOptions& opts) {
  std::string why;
  if (auto s = wait_for(
          rc, opts, [&] { return replica_back(rc, member, leader); }, &why);
      !s)
    return Error(ErrorKind::timeout,
                 stopped(rc, member,
                         "did not come back within " + std::to_string(opts.gate.count()) + " s (" + why + ")",
                         leader, false));
  return {};
}

Status parameters_gate(RollCluster& rc, const WantedSettings& wanted, const RollOptions& opts) {
  std::string why;
  auto probe = [&]() -> std::string {
    for (const auto& [m, want] : wanted) {
      if (want.empty()) continue;
      std::vector<std::string> names;
      for (const auto& [k, v] : want) names.push_back(k);
      auto s = rc.settings(m, names);
      if (!s) return m + ": " + s.error().describe();
      for (const auto& [name, value] : want) {
        auto it = s->find(name);
        if (it == s->end()) return m + " does not list " + name;
        if (it->second.first != value && !it->second.second)
          return m + " shows " + name + " = " + it->second.first + ", not " + value;
      }
    }
    return "";
  };
  if (auto s = wait_for(rc, opts, probe, &why); !s)
    return make_error(ErrorKind::timeout, "the new parameters did not reach every member: " + why);
  return {};
}

}  // namespace pgha
