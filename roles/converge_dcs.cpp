// etcd quorum, then Patroni: leader first, replicas after, then the dynamic configuration.
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "roles/cluster_view.hpp"
#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/patroni_api.hpp"
#include "roles/plan.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

// How often a gate looks again. Each look is one or two SSH round trips (tens of ms).
constexpr std::chrono::milliseconds kGatePoll(250);
constexpr const char* kEtcdInitialEnv = "/var/lib/pgha/etcd-initial.env";

}  // namespace

namespace {

// The first start of a new cluster: every member at once, from the same member list.
Status bootstrap_etcd(EngineContext& ctx, std::vector<NodeHandle*>& members) {
  std::string initial;
  for (NodeHandle* n : members) {
    if (!initial.empty()) initial += ",";
    initial += n->node->name + "=" + etcd_peer_url(ctx.inv, *n->node);
  }
  const std::string env =
      "## Written by pgha for the members' first start only (etcd ignores it once it has data).\n"
      "ETCD_INITIAL_CLUSTER=\"" +
      initial +
      "\"\nETCD_INITIAL_CLUSTER_STATE=\"new\"\n"
      "ETCD_INITIAL_CLUSTER_TOKEN=\"" +
      ctx.inv.cluster_name + "\"\n";
  // A lone new member waits for its peers before it serves, so all start together.
  return for_each_node(members, [&](NodeHandle& n) -> Status {
    if (!n.seen.units["etcd.service"].active) {
      auto r = must(*n.shell, "etcd:bootstrap",
                    std::string("mkdir -p /var/lib/pgha && cat > ") + kEtcdInitialEnv, env);
      if (!r) return r.error();
      n.did(ChangeKind::etcd_add, "", "started " + n.node->name + " with the new etcd cluster");
    }
    return ensure_role_units(n, Role::etcd);
  });
}

// A member whose files changed restarts one at a time, each back and healthy before the next:
// restarting them together would lose quorum.
// Nodes that have etcd data but whose etcd is down (a stopped cluster, a rebooted machine) start
// together: each waits for the others' quorum.
Status start_stopped_members(std::vector<NodeHandle*>& with_data) {
  std::vector<NodeHandle*> stopped;
  for (NodeHandle* n : with_data) {
    if (!n->seen.units["etcd.service"].active) stopped.push_back(n);
  }
  return for_each_node(stopped, [](NodeHandle& n) { return ensure_role_units(n, Role::etcd); });
}

// A voting member whose files changed restarts one at a time, each back and healthy before the
// next: restarting them together would lose quorum.
Status restart_voters_in_turn(EngineContext& ctx, std::vector<NodeHandle*>& voters) {
  for (NodeHandle* n : voters) {
    if (n->applied.count(Role::etcd)) continue;
    if (auto s = ensure_role_units(*n, Role::etcd); !s) return s;
    if (auto s = poll_until("etcd on " + n->node->name, std::chrono::seconds(ctx.timeouts.etcd_s), kGatePoll,
                            [&](std::string& why) {
                              auto r = n->shell->run(etcdctl(ctx.inv, *n->node) + " endpoint health");
                              why = r ? tail_lines(r->err, 1) : r.error().describe();
                              return r && r->exit_code == 0;
                            });
        !s)
      return s;
  }
  return {};
}

}  // namespace

std::string etcd_gate_reason(const ClusterView& v, const std::vector<NodeHandle*>& wanted) {
  for (NodeHandle* n : wanted) {
    const EtcdMember* m = nullptr;
    for (const auto& e : v.etcd) {
      if (e.name == n->node->name) m = &e;
    }
    if (!m) return n->node->name + " is not a started etcd member";
    if (m->learner) return n->node->name + " is still a learner";
    if (!m->healthy) return n->node->name + "'s etcd is not healthy";
  }
  return "";
}

Status etcd_gate(EngineContext& ctx, const std::vector<NodeHandle*>& wanted, const ClusterView* seen) {
  if (seen && seen->etcd_answered && etcd_gate_reason(*seen, wanted).empty()) return {};
  NodeHandle& probe = *wanted.front();
  return poll_until("etcd cluster", std::chrono::seconds(ctx.timeouts.etcd_s), kGatePoll,
                    [&](std::string& why) {
                      ClusterView v;
                      if (!read_etcd_view(ctx.inv, probe, v)) {
                        why = "etcd on " + probe.node->name + " does not list its members";
                        return false;
                      }
                      why = etcd_gate_reason(v, wanted);
                      return why.empty();
                    });
}

namespace {

// Why the Patroni cluster `c` does not pass the gate yet ("" when it does): one leader that is a
// node of this cluster, every wanted member registered and running with lag 0, and — because
// Patroni's "running" does not prove streaming — every replica in the leader's pg_stat_replication.
// `streaming` is asked of the leader only when the rest holds.
std::string patroni_gate_reason(EngineContext& ctx, const PatroniCluster& c,
                                const std::set<std::string>& want, NodeHandle*& leader,
                                const std::function<Result<std::set<std::string>>(NodeHandle&)>& streaming) {
  leader = nullptr;
  if (const PatroniMember* m = c.leader()) {
    for (auto& n : ctx.nodes) {
      if (n.node->name == m->name) leader = &n;
    }
    // A leader that leaves the inventory leads until the switchover (remove_leaving_members).
    if (!leader && ctx.leaving) {
      for (auto& n : *ctx.leaving) {
        if (n.node->name == m->name && n.shell) leader = &n;
      }
    }
  }
  if (!leader)
    return c.leader() ? "leader " + c.leader()->name + " is not in the inventory" : "no Patroni leader yet";
  // Members that leave may still be there; every wanted one must be.
  size_t present = 0;
  for (const auto& m : c.members) present += want.count(m.name);
  if (present < want.size())
    return std::to_string(present) + " of " + std::to_string(want.size()) + " Patroni members registered";
  if (auto w = patroni_unhealthy_reason(c, want.size()); !w.empty()) return w;
  auto names = streaming(*leader);
  if (!names) return names.error().describe();
  for (const auto& name : want) {
    if (name != leader->node->name && !names->count(name))
      return "replica " + name + " is not streaming to " + leader->node->name;
  }
  return "";
}

}  // namespace

Status patroni_gate(EngineContext& ctx, const std::vector<NodeHandle*>& nodes, const ClusterView* seen,
                    NodeHandle*& leader) {
  std::set<std::string> want;
  for (NodeHandle* n : nodes) want.insert(n->node->name);
  if (seen && seen->patroni && seen->streaming) {
    auto known = [&](NodeHandle&) -> Result<std::set<std::string>> { return *seen->streaming; };
    if (patroni_gate_reason(ctx, *seen->patroni, want, leader, known).empty()) return {};
  }
  auto ask = [&](NodeHandle& l) -> Result<std::set<std::string>> {
    auto q = run_sql(l, "patroni:gate",
                     "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming';");
    if (!q) return q.error();
    std::set<std::string> out;
    std::istringstream lines(q->out);
    for (std::string line; std::getline(lines, line);) out.insert(trim(line));
    return out;
  };
  return poll_until("Patroni cluster", std::chrono::seconds(ctx.timeouts.patroni_s), kGatePoll,
                    [&](std::string& w) {
                      auto c = read_patroni_cluster(ctx);
                      if (!c) {
                        w = "no Patroni REST API answers";
                        return false;
                      }
                      w = patroni_gate_reason(ctx, *c, want, leader, ask);
                      return w.empty();
                    });
}

Status converge_etcd(EngineContext& ctx) {
  auto wanted = nodes_with_role(ctx, Role::etcd);
  if (wanted.empty()) return {};
  std::vector<NodeHandle*> with_data;
  for (NodeHandle* n : wanted) {
    if (n->seen.etcd_data) with_data.push_back(n);
  }
  const bool bootstrap = ctx.plan ? ctx.plan->etcd_bootstrap : with_data.empty();
  if (bootstrap) {
    if (auto s = bootstrap_etcd(ctx, wanted); !s) return s;
  } else {
    if (auto s = start_stopped_members(with_data); !s) return s;
    // Who is a voting member is etcd's to say, not the data dir's: a learner (a join interrupted
    // before its promotion) has data too.
    NodeHandle* via = nullptr;
    ClusterView view;
    Status found = poll_until("etcd quorum", std::chrono::seconds(ctx.timeouts.etcd_s), kGatePoll,
                              [&](std::string& why) {
                                for (NodeHandle* m : with_data) {
                                  view = ClusterView{};
                                  if (read_etcd_view(ctx.inv, *m, view)) {
                                    via = m;
                                    return true;
                                  }
                                }
                                why = "no etcd member lists the members";
                                return false;
                              });
    if (!found) return found;
    std::vector<NodeHandle*> voters, joiners;
    for (NodeHandle* n : wanted) {
      // A listed member whose machine has no etcd data was made again: it joins afresh.
      bool voter = false;
      for (const auto& m : view.etcd) voter |= m.name == n->node->name && !m.learner && n->seen.etcd_data;
      (voter ? voters : joiners).push_back(n);
    }
    if (auto s = restart_voters_in_turn(ctx, voters); !s) return s;
    // Joiners one at a time, each a voting member before the next is added.
    for (NodeHandle* n : joiners) {
      if (auto s = join_etcd_member(ctx, *n, *via); !s) return s;
    }
  }
  // The gate: every wanted node a started, voting, healthy member. Members of nodes that leave are
  // removed later (remove_leaving_members), after Patroni no longer needs them.
  return etcd_gate(ctx, wanted, nullptr);
}

Status converge_patroni(EngineContext& ctx) {
  auto nodes = nodes_with_role(ctx, Role::patroni);
  if (nodes.empty()) return {};
  // Every member starts at once: with an empty DCS they race for the initialize key, one bootstraps
  // and the others wait for its leader key and clone it (Patroni's own protocol); with data they
  // elect the healthiest. Either way no member is held back waiting for another.
  if (auto s = for_each_node(nodes,
                             [&](NodeHandle& n) -> Status {
                               bool joins = !n.seen.units["patroni.service"].active;
                               if (ctx.plan) {
                                 joins = false;
                                 for (const auto& c : ctx.plan->changes)
                                   joins |= c.kind == ChangeKind::patroni_add && c.node == n.node->name;
                               }
                               if (auto st = ensure_role_units(n, Role::patroni); !st) return st;
                               if (joins)
                                 n.did(ChangeKind::patroni_add, "", n.node->name + " joined Patroni");
                               return {};
                             });
      !s)
    return s;

  NodeHandle* leader = nullptr;
  Status gate = patroni_gate(ctx, nodes, nullptr, leader);
  if (!gate) return gate;
  ctx.leader = leader;

  // bootstrap.dcs is read only once; later inventory changes to timing or replication mode reach
  // the running cluster through PATCH /config, and only when they differ.
  auto cfg = must(*leader->shell, "patroni:config",
                  "curl -s -f --max-time 5 " + Reach(ctx.inv).patroni_curl(leader->node->address, "/config"));
  if (!cfg) return cfg.error();
  const auto have = nlohmann::json::parse(cfg->out, nullptr, false);
  nlohmann::json patch = dcs_config_patch(ctx.inv, have);
  for (const auto& p : parameter_changes(ctx.inv, have))
    ctx.cluster_actions.push_back(Change{ChangeKind::pg_parameter, ctx.inv.cluster_name, p.name,
                                         p.summary() + (p.restart ? " (restart)" : " (reload)")});
  if (!patch.empty()) {
    auto r = must(
        *leader->shell, "patroni:config",
        "curl -s -f --max-time 10 -K - -X PATCH -H 'Content-Type: application/json' --data-binary " +
            shell_quote(patch.dump()) + " " + Reach(ctx.inv).patroni_curl(leader->node->address, "/config"),
        patroni_admin_curl_config(ctx.secrets));
    if (!r) return r.error();
    ctx.cluster_actions.push_back(Change{ChangeKind::dcs_patch, ctx.inv.cluster_name, patch.dump(),
                                         "patched Patroni dynamic config: " + patch.dump()});
  }
  return {};
}

}  // namespace pgha
