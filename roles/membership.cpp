// Membership changes: etcd members joining and leaving, a leader handing over before it leaves,
// Patroni members stopped and forgotten. Safety first (ARCHITECTURE.md "Scaling"): one etcd member at
// a time, a removal only while the members that stay keep quorum, the leader never stopped without a
// switchover, and a DCS key deleted only by a compare-and-swap on the revision that was observed.
#include <nlohmann/json.hpp>
#include <sstream>

#include "roles/cluster_view.hpp"
#include "roles/engine.hpp"
#include "roles/plan.hpp"
#include "roles/remote.hpp"
#include "roles/status.hpp"

namespace pgha {
namespace {

constexpr std::chrono::milliseconds kPoll(250);
constexpr const char* kEtcdInitialEnv = "/var/lib/pgha/etcd-initial.env";

Result<std::vector<EtcdMember>> list_members(const Inventory& inv, NodeHandle& via) {
  ClusterView v;
  if (!read_etcd_view(inv, via, v))
    return Error(ErrorKind::remote_failure, "etcd does not list its members").with("host " + via.node->name);
  return v.etcd;
}

// ETCD_INITIAL_CLUSTER for a member joining a running cluster, the way `etcdctl member add` prints
// it: every member's name (the joiner's for its own entry) and peer URLs.
std::string initial_cluster(const std::vector<EtcdMember>& members, const EtcdMember& joiner,
                            const std::string& joiner_name) {
  std::string out;
  for (const auto& m : members) {
    if (!out.empty()) out += ",";
    out += (m.id == joiner.id ? joiner_name : m.name) + "=" + m.peer_url;
  }
  return out;
}

NodeHandle* handle_named(EngineContext& ctx, const std::string& name) {
  for (auto& n : ctx.nodes) {
    if (n.node->name == name) return &n;
  }
  if (ctx.leaving) {
    for (auto& n : *ctx.leaving) {
      if (n.node->name == name) return &n;
    }
  }
  return nullptr;
}

// A staying etcd member that answers, to run etcdctl through.
NodeHandle* etcd_via(EngineContext& ctx) {
  for (NodeHandle* n : nodes_with_role(ctx, Role::etcd)) {
    ClusterView v;
    if (n->shell && n->seen.etcd_data && read_etcd_view(ctx.inv, *n, v)) return n;
  }
  for (NodeHandle* n : nodes_with_role(ctx, Role::etcd)) {
    ClusterView v;
    if (n->shell && read_etcd_view(ctx.inv, *n, v)) return n;
  }
  return nullptr;
}

bool planned(const EngineContext& ctx, ChangeKind kind, const std::string& node) {
  if (!ctx.plan) return false;
  for (const auto& c : ctx.plan->changes) {
    if (c.kind == kind && c.node == node) return true;
  }
  return false;
}

// Deletes `key` only if its mod revision is still `rev`: a member that came back in between
// rewrote the key, and then it stays.
Result<bool> delete_key_cas(const Inventory& inv, NodeHandle& via, const std::string& key, int64_t rev) {
  const std::string txn = "mod(\"" + key + "\") = \"" + std::to_string(rev) + "\"\n\ndel " + key + "\n\n\n";
  auto r = must(*via.shell, "dcs:delete-key", etcdctl(inv, *via.node) + " txn", txn);
  if (!r) return r.error();
  return r->out.find("SUCCESS") != std::string::npos;
}

// A membership change through etcdctl. etcd refuses one ("unhealthy cluster") unless the member that
// takes the request has been connected to every voting member for 5 s (its strict reconfiguration
// check), e.g. right after a promote or a member's restart. That view is the receiving member's own,
// so a refusal is waited out and the request goes to the next started voting member in turn: one
// member slow to see a restarted peer as connected again does not hold the change up. Any other
// failure is reported.
Result<CommandResult> etcd_reconfigure(EngineContext& ctx, NodeHandle& via, const std::string& step,
                                       const std::string& args) {
  const Reach ep(ctx.inv);
  std::vector<std::string> targets{etcdctl(ctx.inv, *via.node)};
  ClusterView view;
  if (read_etcd_view(ctx.inv, via, view)) {
    for (const auto& m : view.etcd) {
      if (m.learner || !m.healthy || m.client_url.empty() || m.name == via.node->name) continue;
      targets.push_back(ep.etcdctl(shell_quote(m.client_url)) + " --command-timeout=3s");
    }
  }
  Result<CommandResult> last = Error(ErrorKind::internal, "not run");
  size_t attempt = 0;
  Status s = poll_until(step, std::chrono::seconds(ctx.timeouts.etcd_s), kPoll, [&](std::string& why) {
    last = must(*via.shell, step, targets[attempt++ % targets.size()] + " " + args);
    if (last) return true;
    why = last.error().message;
    return why.find("unhealthy cluster") == std::string::npos;
  });
  if (!last) {
    // Still "unhealthy cluster" at the end: say which peers etcd saw as inactive, and the health.
    if (last.error().message.find("unhealthy cluster") != std::string::npos) {
      auto h = via.shell->run(etcdctl(ctx.inv, *via.node) +
                              " endpoint health --cluster; journalctl -q -o cat --no-pager -u etcd "
                              "--since '-10min' | grep -E 'peer became|lost TCP|failed to' | tail -n 8");
      if (h) return std::move(last.error()).with("etcd's view: " + tail_lines(h->out + h->err, 14));
    }
    return last.error();
  }
  if (!s) return s.error();
  return last;
}

}  // namespace

Status join_etcd_member(EngineContext& ctx, NodeHandle& n, NodeHandle& via) {
  const Inventory& inv = ctx.inv;
  const std::string name = n.node->name;
  const std::string url = etcd_peer_url(inv, *n.node);
  auto find = [&](const std::vector<EtcdMember>& ms) -> const EtcdMember* {
    for (const auto& m : ms) {
      if (m.name == name || m.peer_url == url) return &m;
    }
    return nullptr;
  };
  auto members = list_members(inv, via);
  if (!members) return std::move(members.error()).with("step etcd:join").with("host " + name);
  // A member that was started once, while this machine has no etcd data: the machine was made again
  // (destroyed with its volumes behind pgha's back). Started as it is, its etcd would found a cluster
  // of its own. Its old member can never come back, so it is removed, with the node's etcd stopped
  // so that nothing answers for it, and the node joins afresh. Removing a member that cannot run
  // lowers the quorum and never the number of healthy voters.
  if (const EtcdMember* old = find(*members); old && !old->name.empty() && !n.seen.etcd_data) {
    const std::string old_id = etcd_id_hex(old->id);
    ctx.progress.node(name, "removing its stale etcd member " + old_id + " (the machine has no etcd data)");
    if (auto r = must(*n.shell, "etcd:stop-stale", "systemctl stop etcd"); !r)
      return std::move(r.error()).with("host " + name);
    auto r = etcd_reconfigure(ctx, via, "etcd:member-remove", "member remove " + old_id);
    if (!r) return std::move(r.error()).with("replacing " + name + "'s etcd member").with("host " + name);
    n.did(ChangeKind::etcd_replace, old_id, "removed " + name + "'s stale etcd member " + old_id);
    members = list_members(inv, via);
    if (!members) return members.error();
  }
  if (!find(*members)) {
    ctx.progress.node(name, "adding to etcd as a learner");
    auto r =
        etcd_reconfigure(ctx, via, "etcd:member-add",
                         "member add " + shell_quote(name) + " --learner --peer-urls=" + shell_quote(url));
    if (!r) return std::move(r.error()).with("joining " + name);
    n.did(ChangeKind::etcd_add, "", "added " + name + " to etcd as a learner");
    members = list_members(inv, via);
    if (!members) return members.error();
  }
  const EtcdMember* m = find(*members);
  if (!m)
    return Error(ErrorKind::remote_failure, "etcd does not list " + name + " after member add")
        .with("host " + name);
  const uint64_t id = m->id;
  if (m->name.empty()) {
    // Never started: it starts from an empty data dir with exactly the members etcd lists.
    std::string env =
        "## Written by pgha for the member's first start only (etcd ignores it once it has data).\n"
        "ETCD_INITIAL_CLUSTER=\"" +
        initial_cluster(*members, *m, name) +
        "\"\n"
        "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n";
    if (auto s = n.shell->upload_all({{kEtcdInitialEnv, env, FileAttrs{"root", "root", 0644}}}); !s)
      return std::move(s.error()).with("step etcd:join").with("host " + name);
    auto r = must(*n.shell, "etcd:join",
                  "systemctl stop etcd; rm -rf /var/lib/etcd/" + shell_quote(inv.cluster_name) +
                      " && systemctl enable -q etcd && systemctl start --no-block etcd");
    if (!r) return r.error();
    if (n.actions.empty() || n.actions.back().kind != ChangeKind::etcd_add)
      n.did(ChangeKind::etcd_add, "", "started " + name + "'s etcd member");
    n.did(ChangeKind::start_unit, "etcd.service", "started etcd.service");
  }
  if (!m->name.empty()) {
    // Started earlier (by a run killed after starting it): its unit converges as any member's
    // does, from what was observed: enabled if it is not, started if it was not running,
    // restarted if its files were rewritten since (the pending marker says so).
    if (auto s = ensure_role_units(n, Role::etcd); !s) return s;
  }
  if (m->learner) {
    // A learner is promoted once it has caught up with the leader; etcd refuses before that.
    ctx.progress.node(name, "promoting the etcd learner");
    std::string last;
    Status s =
        poll_until("etcd learner " + name + " promoted", std::chrono::seconds(ctx.timeouts.etcd_s), kPoll,
                   [&](std::string& why) {
                     auto r = via.shell->run(etcdctl(inv, *via.node) + " member promote " + etcd_id_hex(id));
                     if (r && r->exit_code == 0) return true;
                     why = r ? tail_lines(r->err.empty() ? r->out : r->err, 2) : r.error().describe();
                     return false;
                   });
    if (!s) return std::move(s.error()).with("step etcd:promote").with("host " + name);
    n.did(ChangeKind::etcd_promote, "", "promoted " + name + " to a voting etcd member");
  }
  n.seen.etcd_data = true;
  n.seen.units["etcd.service"] = UnitState{true, true};
  n.applied.insert(Role::etcd);
  if (n.changed.count(Role::etcd)) {
    if (auto s = clear_pending(n, "etcd"); !s) return s;
  }
  return {};
}

namespace {

// Hands the leader role from `from` (a node that leaves) to a member that stays. In sync mode
// Patroni accepts only a synchronous standby as the candidate, so first wait until the leader has
// picked one among the members that stay (the leaving replicas are stopped by then).
Status switch_over_from(EngineContext& ctx, NodeHandle& from) {
  const bool sync = ctx.inv.replication.mode == ReplicationMode::sync_mode;
  std::set<std::string> staying;
  for (NodeHandle* n : nodes_with_role(ctx, Role::patroni)) staying.insert(n->node->name);
  std::string candidate;
  Status ready = poll_until(
      "a member that stays ready to take over from " + from.node->name,
      std::chrono::seconds(ctx.timeouts.patroni_s), kPoll, [&](std::string& why) {
        auto c = read_patroni_cluster(ctx);
        if (!c || !c->leader()) {
          why = "no Patroni leader";
          return false;
        }
        for (const auto& m : c->members) {
          if (!staying.count(m.name) || (m.state != "running" && m.state != "streaming") || !m.lag_bytes ||
              *m.lag_bytes != 0 || m.timeline != c->leader()->timeline)
            continue;
          if (sync && m.role != "sync_standby") continue;
          if (candidate.empty() || (ctx.plan && m.name == ctx.plan->switchover_to)) candidate = m.name;
        }
        why = sync ? "no synchronous standby among the members that stay" : "no healthy replica that stays";
        return !candidate.empty();
      });
  if (!ready) return std::move(ready.error()).with("step switchover");
  NodeHandle* to = handle_named(ctx, candidate);
  ctx.progress.info("switching over from " + from.node->name + " to " + candidate + " before removing " +
                    from.node->name);
  nlohmann::json body = {{"leader", from.node->name}, {"candidate", candidate}};
  auto r =
      must(*to->shell, "switchover",
           "curl -s -f --max-time 90 -K - -X POST -H 'Content-Type: application/json' --data-binary " +
               shell_quote(body.dump()) + " " + Reach(ctx.inv).patroni_curl(to->node->address, "/switchover"),
           patroni_admin_curl_config(ctx.secrets));
  if (!r) return std::move(r.error()).with("host " + to->node->name);
  Status s = poll_until("switchover to " + candidate, std::chrono::seconds(ctx.timeouts.patroni_s), kPoll,
                        [&](std::string& why) {
                          auto now = read_patroni_cluster(ctx);
                          if (!now || !now->leader()) {
                            why = "no leader yet";
                            return false;
                          }
                          why = "leader is " + now->leader()->name + " (" + now->leader()->state + ")";
                          return now->leader()->name == candidate && now->leader()->state == "running";
                        });
  if (!s) return s;
  ctx.leader = to;
  from.did(ChangeKind::switchover, "", "switched over from " + from.node->name + " to " + candidate);
  return {};
}

}  // namespace

void wait_until_no_writes_routed_to(EngineContext& ctx, const std::string& name) {
  std::vector<NodeHandle*> proxies;
  for (NodeHandle& n : ctx.nodes) {
    if (n.shell && has_role(*n.node, Role::haproxy)) proxies.push_back(&n);
  }
  if (ctx.leaving) {
    for (NodeHandle& n : *ctx.leaving) {
      if (n.shell && has_role(*n.node, Role::haproxy)) proxies.push_back(&n);
    }
  }
  if (proxies.empty()) return;
  const std::string config = patroni_admin_curl_config(ctx.secrets);
  Status s = poll_until(
      "every HAProxy marks " + name + " down for writes", std::chrono::seconds(ctx.timeouts.patroni_s), kPoll,
      [&](std::string& why) {
        std::vector<BackendState> rows;
        for (NodeHandle* p : proxies) {
          auto r = p->shell->run(
              "curl -s --max-time 2 -K - " + Reach(ctx.inv).haproxy_stats_curl(p->node->address), config);
          if (!r || r->exit_code != 0) continue;  // an HAProxy that does not answer routes nothing
          auto seen = parse_haproxy_csv(p->node->name, r->out);
          rows.insert(rows.end(), seen.begin(), seen.end());
        }
        const auto still = haproxies_writing_to(rows, name);
        if (still.empty()) return true;
        why = "HAProxy on " + still.front() + (still.size() > 1 ? " and others" : "") +
              " still sends writes to " + name;
        return false;
      });
  if (!s) ctx.progress.info(name + ": " + s.error().message + "; going on");
}

Status remove_leaving_members(EngineContext& ctx) {
  const Inventory& inv = ctx.inv;
  if (!ctx.leaving) return {};
  NodeHandle* via = etcd_via(ctx);
  // Patroni first: the replicas that leave, then (after handing over) a leader that leaves.
  std::vector<NodeHandle*> order;
  {
    auto c = read_patroni_cluster(ctx);
    const std::string leader = c && c->leader() ? c->leader()->name : "";
    for (NodeHandle& l : *ctx.leaving) {
      if (l.node->name != leader) order.push_back(&l);
    }
    for (NodeHandle& l : *ctx.leaving) {
      if (l.node->name == leader) order.push_back(&l);
    }
  }
  for (NodeHandle* lp : order) {
    NodeHandle& l = *lp;
    const std::string& name = l.node->name;
    if (planned(ctx, ChangeKind::patroni_remove, name)) {
      auto c = read_patroni_cluster(ctx);
      if (c && c->leader() && c->leader()->name == name) {
        if (auto s = switch_over_from(ctx, l); !s) return s;
        c = read_patroni_cluster(ctx);
        if (c && c->leader() && c->leader()->name == name)
          return Error(ErrorKind::conflict,
                       name + " is still the Patroni leader; it is never stopped without a switchover")
              .with("step patroni:remove");
        wait_until_no_writes_routed_to(ctx, name);
      }
      if (l.shell) {
        ctx.progress.node(name, "stopping Patroni");
        auto r = must(*l.shell, "patroni:remove", "systemctl disable -q --now patroni");
        if (!r) return r.error();
        l.did(ChangeKind::patroni_remove, "", "stopped and disabled Patroni on " + name);
      } else if (c) {
        for (const auto& m : c->members) {
          if (m.name == name && m.state != "stopped")
            return Error(ErrorKind::remote_failure,
                         name + " still runs Patroni (" + m.state +
                             ") and does not answer SSH; it cannot be removed safely")
                .with("step patroni:remove");
        }
      }
    }
    // Its member key, if it lingers (Patroni's lease keeps it for a TTL after the stop).
    if (via) {
      ClusterView v;
      if (read_etcd_view(inv, *via, v) && v.member_keys.count(name)) {
        auto del = delete_key_cas(inv, *via, patroni_member_key(inv, name), v.member_keys[name]);
        if (!del) return del.error();
        if (*del)
          l.did(ChangeKind::dcs_delete_key, patroni_member_key(inv, name),
                "deleted " + name + "'s Patroni member key");
      }
    }
  }
  for (NodeHandle& l : *ctx.leaving) {
    const std::string& name = l.node->name;
    // Its etcd member: removed while the members that stay keep quorum.
    if (via) {
      auto members = list_members(inv, *via);
      if (!members) return members.error();
      const std::string url = etcd_peer_url(inv, *l.node);
      for (const auto& m : *members) {
        if (m.name != name && !(m.name.empty() && m.peer_url == url)) continue;
        size_t voters = 0, healthy = 0;
        for (const auto& o : *members) {
          if (o.id == m.id || o.learner) continue;
          ++voters;
          healthy += o.healthy ? 1 : 0;
        }
        if (!m.learner && healthy < voters / 2 + 1)
          return Error(ErrorKind::conflict, "removing " + name + " would leave " + std::to_string(healthy) +
                                                " healthy of " + std::to_string(voters) +
                                                " etcd voters: etcd never loses quorum")
              .with("step etcd:remove");
        // A leader that is removed steps down and the rest wait out an election timeout (2 s here),
        // long enough on a loaded machine for Patroni's leader to miss its key update and demote.
        // Handing etcd's leadership to a member that stays first avoids the election.
        if (!m.learner && !m.client_url.empty()) {
          const EtcdMember* heir = nullptr;
          for (const auto& o : *members) {
            if (o.id != m.id && !o.learner && o.healthy && o.name != name) heir = heir ? heir : &o;
          }
          const Reach ep(ctx.inv);
          auto st = via->shell->run(ep.etcdctl(shell_quote(m.client_url)) +
                                    " --command-timeout=3s endpoint status -w json");
          if (heir && st && st->exit_code == 0) {
            auto j = nlohmann::json::parse(st->out, nullptr, false);
            const bool leads = j.is_array() && !j.empty() && j[0].contains("Status") &&
                               j[0]["Status"].value("leader", uint64_t{0}) == m.id;
            if (leads) {
              ctx.progress.node(name, "handing etcd's leadership to " + heir->name);
              auto moved = must(*via->shell, "etcd:move-leader",
                                ep.etcdctl(shell_quote(m.client_url)) + " --command-timeout=5s move-leader " +
                                    etcd_id_hex(heir->id));
              if (!moved) return std::move(moved.error()).with("removing " + name);
            }
          }
        }
        ctx.progress.node(name, "removing its etcd member");
        auto r = etcd_reconfigure(ctx, *via, "etcd:member-remove", "member remove " + etcd_id_hex(m.id));
        if (!r) return std::move(r.error()).with("removing " + name);
        l.did(ChangeKind::etcd_remove, etcd_id_hex(m.id),
              "removed etcd member " + name + " (" + etcd_id_hex(m.id) + ")");
      }
    }
    if (l.shell) {
      // keepalived first, so the VIP moves at once (its priority-0 advertisement) rather than on a timeout.
      (void)l.shell->run(
          "systemctl disable -q --now keepalived 2>/dev/null; systemctl disable -q --now patroni etcd "
          "haproxy pgbouncer "
          "2>/dev/null; true");
    }
  }
  // Orphans: etcd members no node stands for (a join interrupted for a node since dropped) and
  // member keys of names that are neither wanted nor running.
  if (via) {
    ClusterView v;
    if (read_etcd_view(inv, *via, v)) {
      for (const auto& m : v.etcd) {
        bool known = false;
        for (NodeHandle* n : nodes_with_role(ctx, Role::etcd))
          known |= m.name == n->node->name || m.peer_url == etcd_peer_url(inv, *n->node);
        if (known) continue;
        auto r = etcd_reconfigure(ctx, *via, "etcd:member-remove", "member remove " + etcd_id_hex(m.id));
        if (!r) return r.error();
        ctx.cluster_actions.push_back(Change{ChangeKind::etcd_remove,
                                             m.name.empty() ? inv.cluster_name : m.name, etcd_id_hex(m.id),
                                             "removed orphan etcd member " + m.peer_url});
      }
      for (const auto& [member, rev] : v.member_keys) {
        if (handle_named(ctx, member) && !handle_named(ctx, member)->leaving) continue;
        auto del = delete_key_cas(inv, *via, patroni_member_key(inv, member), rev);
        if (!del) return del.error();
        if (*del)
          ctx.cluster_actions.push_back(Change{ChangeKind::dcs_delete_key, member,
                                               patroni_member_key(inv, member),
                                               "deleted " + member + "'s stale Patroni member key"});
      }
    }
  }
  // The gate: Patroni's members are exactly the inventory's.
  std::set<std::string> want;
  for (NodeHandle* n : nodes_with_role(ctx, Role::patroni)) want.insert(n->node->name);
  if (want.empty()) return {};
  return poll_until("Patroni members match the inventory", std::chrono::seconds(ctx.timeouts.patroni_s),
                    kPoll, [&](std::string& why) {
                      auto c = read_patroni_cluster(ctx);
                      if (!c) {
                        why = "no Patroni REST API answers";
                        return false;
                      }
                      std::set<std::string> have;
                      for (const auto& m : c->members) have.insert(m.name);
                      if (have == want) return true;
                      why = std::to_string(have.size()) + " members registered, " +
                            std::to_string(want.size()) + " wanted";
                      return false;
                    });
}

}  // namespace pgha
