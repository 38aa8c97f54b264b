// `pgha upgrade`'s run, over its seams: node by node in the plan's order, each node's restarts gated
// before the next node is touched. PostgreSQL's and Patroni's restarts go through the rolling
// restart's own steps and gates (roles/rolling.hpp).
#include <algorithm>
#include <functional>

#include "roles/progress.hpp"
#include "roles/upgrade.hpp"

namespace pgha {
namespace {

// Polls until probe says "" or the gate's time is up; the Error (timeout) carries the last answer.
Status gate(UpgradeHosts& hosts, const RollOptions& opts, const std::string& what,
            const std::function<std::string()>& probe) {
  const auto attempts = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(opts.gate).count() / opts.poll.count());
  std::string why;
  for (int64_t i = 0; i < attempts; ++i) {
    why = probe();
    if (why.empty()) return {};
    hosts.pause(opts.poll);
  }
  return Error(ErrorKind::timeout,
               what + " not healthy after " + std::to_string(opts.gate.count()) + " s: " + why);
}

Result<std::string> current_leader(RollCluster& rc) {
  auto c = rc.cluster();
  if (!c) return c.error();
  const PatroniMember* l = c->leader();
  if (!l) return Error(ErrorKind::conflict, "no Patroni leader");
  return l->name;
}

// A unit restarted or reloaded, then gated on being active.
Status cycle_unit(UpgradeHosts& hosts, Progress& progress, const RollOptions& opts, const std::string& node,
                  const std::string& unit, bool reload, UpgradeReport::Node& rep) {
  progress.node_step(node, std::string(reload ? "upgrade:reload " : "upgrade:restart ") + unit);
  if (auto s = reload ? hosts.reload_unit(node, unit) : hosts.restart_unit(node, unit); !s) return s;
  if (auto s = gate(hosts, opts, node + "'s " + unit, [&] { return hosts.unit_problem(node, unit); }); !s)
    return s;
  rep.steps.push_back(std::string(reload ? "reloaded " : "restarted ") + unit);
  return {};
}

Status restart_etcd(UpgradeHosts& hosts, Progress& progress, const RollOptions& opts, const std::string& node,
                    UpgradeReport::Node& rep) {
  // Restarting one member is safe only while every other one is healthy: quorum survives it.
  if (auto why = hosts.etcd_problem(node); !why.empty())
    return Error(ErrorKind::conflict, "etcd is not healthy on every member, so " + node +
                                          "'s etcd is not restarted (quorum could be lost): " + why);
  progress.node_step(node, "upgrade:restart etcd.service");
  if (auto s = hosts.restart_unit(node, "etcd.service"); !s) return s;
  if (auto s = gate(hosts, opts, "etcd after restarting " + node + "'s member",
                    [&] { return hosts.etcd_problem(node); });
      !s)
    return s;
  rep.steps.push_back("restarted etcd.service (member healthy, quorum held)");
  return {};
}

// Patroni's own restart stops and starts its PostgreSQL; a leader hands over first, through the
// roll's switchover, so the restart only ever meets a replica.
Status restart_patroni(UpgradeHosts& hosts, RollCluster& rc, Progress& progress, const RollOptions& opts,
                       const std::string& node, UpgradeReport& report, UpgradeReport::Node& rep) {
  auto leader = current_leader(rc);
  if (!leader) return leader.error();
  if (*leader == node) {
    RollOptions o = opts;
    o.only_node = node;
    o.scope = RollScope::all;
    o.primary = PrimaryRestart::switchover;
    auto r = rolling_restart(rc, progress, o);
    if (!r) return r.error();
    report.leader_changes += r->leader_changes;
    for (const auto& s : r->steps) rep.steps.push_back(s);
    leader = current_leader(rc);
    if (!leader) return leader.error();
    if (*leader == node)
      return Error(ErrorKind::conflict, node + " is still the leader after its switchover");
  }
  progress.node_step(node, "upgrade:restart patroni.service");
  if (auto s = hosts.restart_unit(node, "patroni.service"); !s) return s;
  if (auto s = replica_gate(rc, node, *leader, opts); !s) return s;
  rep.steps.push_back("restarted patroni.service (streaming from " + *leader + " with lag 0)");
  return {};
}

Status restart_postgres(RollCluster& rc, Progress& progress, const RollOptions& opts, const std::string& node,
                        UpgradeReport& report, UpgradeReport::Node& rep) {
  RollOptions o = opts;  // opts.primary: the leader switches over, or restarts in place
  o.only_node = node;
  o.scope = RollScope::all;
  auto r = rolling_restart(rc, progress, o);
  if (!r) return r.error();
  report.leader_changes += r->leader_changes;
  for (const auto& s : r->steps) rep.steps.push_back(s);
  return {};
}

// A leader whose restarts need a switchover (Patroni's own always; PostgreSQL's unless in place) is
// not touched, not even by apt, while no replica could take over.
Status handover_possible(RollCluster& rc, const RollOptions& opts, const NodeUpgrade& n) {
  auto has = [&](Effect e) { return std::find(n.restarts.begin(), n.restarts.end(), e) != n.restarts.end(); };
  if (!has(Effect::patroni) && !(has(Effect::postgres) && opts.primary == PrimaryRestart::switchover))
    return {};
  auto c = rc.cluster();
  if (!c) return c.error();
  const PatroniMember* leader = c->leader();
  if (!leader || leader->name != n.node) return {};
  for (const auto& m : c->members) {
    if (m.name != leader->name && !is_primary_role(m.role) &&
        (m.state == "running" || m.state == "streaming") && m.timeline == leader->timeline && m.lag_bytes &&
        *m.lag_bytes == 0)
      return {};
  }
  return Error(
      ErrorKind::conflict,
      "nothing was installed on " + n.node +
          ": it leads, its restart needs a switchover, and no replica is "
          "healthy with lag 0 to take over" +
          (has(Effect::patroni) ? "" : " (--primary-restart in-place restarts PostgreSQL where it is)"));
}

Status upgrade_node(UpgradeHosts& hosts, RollCluster& rc, Progress& progress, const RollOptions& opts,
                    const NodeUpgrade& n, UpgradeReport& report) {
  UpgradeReport::Node rep;
  rep.node = n.node;
  if (auto s = handover_possible(rc, opts, n); !s) return s;
  // The marker first: a run killed after the install still owes these restarts.
  if (!n.restarts.empty()) {
    if (auto s = hosts.mark_owed(n.node, n.restarts); !s) return s;
  }
  if (!n.upgrades.empty()) {
    progress.node_step(n.node, "upgrade:install");
    if (auto s = hosts.install(n.node, n.upgrades); !s) return s;
    std::vector<std::string> names;
    for (const auto& u : n.upgrades) names.push_back(u.name);
    auto after = hosts.versions(n.node, names);
    if (!after) return after.error();
    for (const auto& u : n.upgrades) {
      auto it = after->find(u.name);
      rep.packages.push_back({u.name, u.from, it == after->end() ? "" : it->second});
    }
    rep.steps.push_back("installed " + std::to_string(n.upgrades.size()) + " package" +
                        (n.upgrades.size() == 1 ? "" : "s"));
  }
  if (n.patroni_fix) {
    auto fix = hosts.apply_patroni_fix(n.node);
    if (!fix) return fix.error();
    if (*fix != "applied" && *fix != "present")
      return Error(ErrorKind::conflict,
                   "patroni was upgraded, but pgha's leader-key fix does not apply to its new etcd3 "
                   "module; Patroni was not restarted and still runs the fixed code it started with. "
                   "Restart it only once its etcd3 module compare-and-sets the leader key");
    if (*fix == "applied") rep.steps.push_back("re-applied the leader-key fix to Patroni");
  }
  for (Effect e : n.restarts) {
    Status s;
    switch (e) {
      case Effect::etcd: s = restart_etcd(hosts, progress, opts, n.node, rep); break;
      case Effect::patroni: s = restart_patroni(hosts, rc, progress, opts, n.node, report, rep); break;
      case Effect::postgres: s = restart_postgres(rc, progress, opts, n.node, report, rep); break;
      case Effect::haproxy:
        s = cycle_unit(hosts, progress, opts, n.node, "haproxy.service", true, rep);
        break;
      case Effect::pgbouncer:
        s = cycle_unit(hosts, progress, opts, n.node, "pgbouncer.service", false, rep);
        break;
      case Effect::keepalived:
        s = cycle_unit(hosts, progress, opts, n.node, "keepalived.service", false, rep);
        break;
      case Effect::none: break;
    }
    if (!s) return s;
  }
  if (!n.restarts.empty()) {
    if (auto s = hosts.clear_owed(n.node); !s) return s;
  }
  progress.node(n.node, n.empty() ? "no upgrades" : "upgraded");
  report.nodes.push_back(std::move(rep));
  return {};
}

}  // namespace

Result<UpgradeReport> run_upgrade(UpgradeHosts& hosts, RollCluster& rc, Progress& progress,
                                  const UpgradePlan& plan, const RollOptions& opts) {
  UpgradeReport report;
  for (const auto& n : plan.nodes) {
    if (n.empty()) {
      report.nodes.push_back(UpgradeReport::Node{n.node, {}, {}});
      continue;
    }
    if (auto s = upgrade_node(hosts, rc, progress, opts, n, report); !s) {
      std::string untouched;
      bool after = false;
      for (const auto& m : plan.nodes) {
        if (after && !m.empty()) untouched += (untouched.empty() ? "" : ", ") + m.node;
        if (m.node == n.node) after = true;
      }
      Error e = s.error();
      e.message = "the upgrade stopped at " + n.node + ": " + e.message +
                  (untouched.empty() ? "" : " (not touched: " + untouched + ")");
      const std::string host = "host " + n.node;
      if (std::find(e.context.begin(), e.context.end(), host) == e.context.end()) e.with(host);
      return e;
    }
  }
  return report;
}

}  // namespace pgha
