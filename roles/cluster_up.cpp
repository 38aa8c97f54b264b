#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "net/known_hosts.hpp"
#include "roles/cluster_ops.hpp"
#include "roles/cluster_view.hpp"
#include "roles/parallel.hpp"
#include "roles/serial_shell.hpp"

namespace pgha {

Endpoints endpoints_of(const Inventory& inv) {
  Endpoints e;
  std::string front = inv.network.vip;
  if (front.empty()) {
    auto hap = inv.nodes_with(Role::haproxy);
    front = hap.empty() ? "" : hap.front()->address;
  }
  if (!front.empty()) {
    e.write = front + ":" + std::to_string(inv.ports.haproxy_write);
    e.read = front + ":" + std::to_string(inv.ports.haproxy_read);
  }
  auto bouncers = inv.nodes_with(Role::pgbouncer);
  if (!bouncers.empty()) e.pooled = bouncers.front()->address + ":" + std::to_string(inv.ports.pgbouncer);
  e.user = inv.users.empty() ? "postgres" : inv.users.front().name;
  e.database = inv.databases.empty() ? "postgres" : inv.databases.front().name;
  return e;
}

std::string format_endpoints(const Inventory& inv, const Endpoints& e, const std::string& state_dir) {
  std::ostringstream out;
  out << "cluster " << inv.cluster_name << " is healthy\n";
  // With TLS, clients verify the server against the cluster CA: the VIP, the nodes' names and
  // addresses are in every certificate that may answer there.
  const std::string tls =
      inv.tls.enabled ? "?sslmode=verify-full&sslrootcert=" + state_dir + "/tls/cluster-ca.crt" : "";
  auto url = [&](const std::string& hostport) {
    return "postgresql://" + e.user + "@" + hostport + "/" + e.database + tls;
  };
  if (!e.write.empty()) out << "  write (primary):    " << url(e.write) << "\n";
  if (!e.read.empty()) out << "  read (replicas):    " << url(e.read) << "\n";
  if (!e.pooled.empty()) out << "  pooled (PgBouncer): " << url(e.pooled) << "\n";
  out << "  passwords:          " << state_dir << "/secrets.json (unless given through the environment)\n";
  return out.str();
}

namespace {

// The nodes as the last successful `up` left them (name, address, roles), kept in the state
// directory: a node that leaves the inventory is described by it until it is gone.
std::string applied_path(const StateDir& state) {
  return state.path() + "/nodes.json";
}

std::vector<Node> load_applied(const StateDir& state) {
  std::vector<Node> out;
  std::ifstream in(applied_path(state));
  if (!in) return out;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    Node n;
    n.name = e.value("name", "");
    n.address = e.value("address", "");
    if (e.contains("roles") && e["roles"].is_array()) {
      for (const auto& r : e["roles"]) {
        if (auto role = r.is_string() ? role_from_string(r.get<std::string>()) : std::nullopt)
          n.roles.push_back(*role);
      }
    }
    if (!n.name.empty()) out.push_back(std::move(n));
  }
  return out;
}

Status save_applied(const StateDir& state, const Inventory& inv) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& n : inv.nodes) {
    nlohmann::json roles = nlohmann::json::array();
    for (Role r : n.roles) roles.push_back(to_string(r));
    j.push_back({{"name", n.name}, {"address", n.address}, {"roles", roles}});
  }
  return write_file_atomic(applied_path(state), j.dump(2) + "\n", 0600);
}

Status timed(Progress& progress, const std::string& phase, const std::function<Status()>& fn) {
  progress.phase_begin(phase);
  Status s = fn();
  progress.phase_end(phase, s.ok());
  return s;
}

// Opens a shell on every handle whose machine runs and that has none yet, in parallel. A leaving
// node that does not answer is left without one (its removal then goes through the others).
Status connect_handles(std::vector<NodeHandle*>& handles, const ShellFactory& shells, Progress& progress) {
  return for_each_parallel<NodeHandle*>(handles, [&](NodeHandle*& n) -> Status {
    if (n->shell || !n->machine.running) return {};
    auto sh = shells(n->machine);
    if (!sh) {
      if (n->leaving) return {};
      return std::move(sh.error()).with("step connect").with("host " + n->node->name);
    }
    n->shell = std::make_unique<SerialShell>(std::move(sh.value()));
    progress.node(n->node->name, "connected over SSH to " + n->machine.address);
    return {};
  });
}

// Patroni 3.0.3 and later compare-and-set their etcd3 leader key themselves: up says once why pgha's
// fix for Debian 12's 3.0.2 is not applied (capability read on the node, not assumed from the OS).
void note_patroni_leader_cas(const std::vector<NodeHandle>& nodes, Progress& progress) {
  for (const auto& n : nodes) {
    if (!n.seen.valid || !patroni_has_leader_cas(n.seen.patroni_version)) continue;
    progress.info("Patroni " + n.seen.patroni_version + " on " + n.node->name +
                  " compare-and-sets its etcd3 leader key itself (upstream since 3.0.3): pgha's leader-key "
                  "fix for Debian 12's Patroni 3.0.2 is not applied");
    return;
  }
}

}  // namespace

Result<std::unique_ptr<ClusterSession>> plan_cluster(const Inventory& inv, UpDeps& deps,
                                                     const PlanOptions& opts) {
  Progress& progress = deps.progress;
  auto session = std::make_unique<ClusterSession>();
  ClusterSession& cs = *session;
  Status s = timed(progress, "plan", [&]() -> Status {
    // Secrets and every rendered file first: template errors stop here, before any side effect.
    auto secrets = deps.state.resolve_secrets(inv, opts.certs);
    if (!secrets) return secrets.error();
    cs.secrets = std::move(secrets.value());
    for (const std::string& why : cs.secrets.tls.issued) progress.info("certificate " + why);
    auto pubkey = deps.state.ensure_ssh_key();
    if (!pubkey) return pubkey.error();
    cs.public_key = *pubkey;
    for (const auto& node : inv.nodes) {
      auto rendered = render_node(inv, node, cs.secrets, deps.templates);
      if (!rendered) return std::move(rendered.error()).with("render node " + node.name);
      cs.final_files[node.name] = std::move(rendered.value());
    }
    auto machines = deps.provider.list(inv);
    if (!machines) return machines.error();
    // The nodes as their files must name them until the leaving ones are gone: in the order the
    // last run applied, the inventory's definitions, the leaving ones as they were applied.
    const std::vector<Node> applied = load_applied(deps.state);
    cs.during = inv;
    cs.during.nodes.clear();
    auto applied_node = [&](const std::string& name) -> const Node* {
      for (const auto& a : applied) {
        if (a.name == name) return &a;
      }
      return nullptr;
    };
    std::vector<Node> leaving;
    for (const auto& m : *machines) {
      if (inv.find_node(m.node)) continue;
      Node n;
      if (const Node* a = applied_node(m.node)) {
        n = *a;
      } else {
        n.name = m.node;
        n.address = m.address;
        n.roles = inv.default_roles;
      }
      if (n.address.empty()) n.address = m.address;
      leaving.push_back(std::move(n));
    }
    for (const auto& a : applied) {
      if (const Node* d = inv.find_node(a.name)) cs.during.nodes.push_back(*d);
      for (const auto& l : leaving) {
        if (l.name == a.name) cs.during.nodes.push_back(l);
      }
    }
    for (const auto& d : inv.nodes) {
      if (!cs.during.find_node(d.name)) cs.during.nodes.push_back(d);
    }
    for (const auto& l : leaving) {
      if (!cs.during.find_node(l.name)) cs.during.nodes.push_back(l);
    }
    for (const auto& node : inv.nodes) {
      if (leaving.empty()) {
        cs.during_files[node.name] = cs.final_files[node.name];
        continue;
      }
      auto rendered = render_node(cs.during, node, cs.secrets, deps.templates);
      if (!rendered) return std::move(rendered.error()).with("render node " + node.name);
      cs.during_files[node.name] = std::move(rendered.value());
    }
    // Handles: the inventory's nodes (pointing into inv), then the leaving ones (into cs.during).
    for (const auto& node : inv.nodes) {
      NodeHandle h;
      h.node = &node;
      h.machine.node = node.name;
      h.machine.address = node.address;
      for (const auto& m : *machines) {
        if (m.node == node.name) {
          h.machine = m;
          cs.existing.insert(node.name);
        }
      }
      h.files = cs.final_files[node.name];
      cs.nodes.push_back(std::move(h));
    }
    for (const auto& l : leaving) {
      NodeHandle h;
      h.node = cs.during.find_node(l.name);
      h.leaving = true;
      for (const auto& m : *machines) {
        if (m.node == l.name) h.machine = m;
      }
      cs.leaving.push_back(std::move(h));
    }
    std::vector<NodeHandle*> all;
    for (auto& n : cs.nodes) all.push_back(&n);
    for (auto& n : cs.leaving) all.push_back(&n);
    if (auto c = connect_handles(all, deps.shells, progress); !c) return c;
    std::vector<NodeHandle*> reachable;
    for (auto& n : cs.nodes) {
      if (n.shell) reachable.push_back(&n);
    }
    if (auto o = observe_nodes(reachable, inv, progress, deps.timeouts.boot_s); !o) return o;
    cs.view = observe_cluster(inv, all);
    PlanInput in{inv, {}, cs.view, opts.force};
    in.primary = opts.primary;
    in.stock = opts.stock;
    for (const auto& n : cs.nodes) {
      PlanNode p{*n.node, false, std::nullopt, n.seen, n.files};
      if (cs.existing.count(n.node->name)) p.machine = n.machine;
      in.nodes.push_back(std::move(p));
    }
    for (const auto& n : cs.leaving) {
      PlanNode p{*n.node, true, n.machine, n.seen, {}};
      in.nodes.push_back(std::move(p));
    }
    cs.plan = compute_plan(in);
    return {};
  });
  if (!s) return s.error();
  return session;
}

Result<UpReport> cluster_up(const Inventory& inv, UpDeps deps, const PlanOptions& opts) {
  Progress& progress = deps.progress;
  UpReport report;
  PlanOptions keep = opts;
  keep.certs = NodeCerts::save;
  auto planned = plan_cluster(inv, deps, keep);
  if (!planned) return planned.error();
  ClusterSession& cs = **planned;
  if (!cs.plan.violations.empty()) {
    std::string why;
    for (const auto& v : cs.plan.violations) why += (why.empty() ? "" : "; ") + v;
    return Error(ErrorKind::bad_input, "the plan breaks a safety rule: " + why).with("plan");
  }
  for (const auto& w : cs.plan.warnings) progress.warn(w);
  report.planned = cs.plan.changes;

  // Nothing to change: no phase runs, only their gates, in one pass (roles/verify.cpp).
  const bool all_seen = std::all_of(cs.nodes.begin(), cs.nodes.end(),
                                    [](const NodeHandle& n) { return n.shell && n.seen.valid; });
  if (cs.plan.empty() && cs.leaving.empty() && all_seen) {
    EngineContext ctx{inv, cs.secrets, progress, cs.nodes, deps.timeouts};
    ctx.plan = &cs.plan;
    ctx.open_extra_shell = [&](const NodeHandle& n) { return deps.shells(n.machine); };
    if (auto s = timed(progress, "verify", [&] { return verify_cluster(ctx, cs.view); }); !s)
      return s.error();
    if (auto s = save_applied(deps.state, inv); !s) return s.error();
    report.timings = progress.timings();
    report.endpoints = endpoints_of(inv);
    return report;
  }

  std::vector<Change> cluster_changes;
  if (auto s = timed(
          progress, "provision",
          [&]() -> Status {
            auto m = deps.provider.ensure(
                inv, ProvisionRequest{cs.public_key, deps.state.path(), [&](const std::string& line) {
                                        progress.info(deps.provider.name() + ": " + line);
                                      }});
            if (!m) return m.error();
            for (auto& n : cs.nodes) {
              for (const auto& machine : *m) {
                if (machine.node != n.node->name) continue;
                n.machine = machine;
                if (cs.existing.count(machine.node)) continue;
                n.did(ChangeKind::create_machine, "", "created the machine of " + machine.node);
                // A machine made just now has a host key of its own: a pin left by an
                // earlier machine of that name (destroyed behind pgha's back) is stale.
                if (auto st =
                        KnownHosts(deps.state.known_hosts_path()).forget(machine.address, machine.ssh_port);
                    !st)
                  return st;
              }
            }
            std::vector<NodeHandle*> fresh;
            for (auto& n : cs.nodes) {
              if (!n.shell) fresh.push_back(&n);
            }
            if (auto c = connect_handles(fresh, deps.shells, progress); !c) return c;
            return observe_nodes(fresh, inv, progress, deps.timeouts.boot_s);
          });
      !s)
    return s.error();
  note_patroni_leader_cas(cs.nodes, progress);
  // Until the leaving nodes are gone the others' files still name them (HAProxy keeps routing to a
  // leader that has not handed over yet); the final files follow their removal.
  for (auto& n : cs.nodes) n.files = cs.during_files[n.node->name];

  EngineContext ctx{inv, cs.secrets, progress, cs.nodes, deps.timeouts};
  ctx.leaving = &cs.leaving;
  ctx.plan = &cs.plan;
  ctx.open_extra_shell = [&](const NodeHandle& n) { return deps.shells(n.machine); };
  const std::vector<std::pair<std::string, Status (*)(EngineContext&)>> phases = {
      {"prepare", prepare_nodes},  {"files", sync_files},         {"etcd", converge_etcd},
      {"start", start_edge_units}, {"patroni", converge_patroni},
  };
  for (const auto& [name, fn] : phases) {
    if (auto s = timed(progress, name, [&, fn = fn] { return fn(ctx); }); !s) return s.error();
  }
  if (!cs.leaving.empty() || cs.plan.has(ChangeKind::dcs_delete_key) ||
      cs.plan.has(ChangeKind::etcd_remove)) {
    if (auto s =
            timed(progress, "members",
                  [&]() -> Status {
                    if (auto st = remove_leaving_members(ctx); !st) return st;
                    // The final files, without the nodes that left; reloads where they changed.
                    for (auto& n : cs.nodes) {
                      n.files = cs.final_files[n.node->name];
                      n.changed.clear();
                      n.applied.clear();
                    }
                    if (auto st = sync_files(ctx); !st) return st;
                    if (auto st = for_each_parallel<NodeHandle>(
                            cs.nodes, [](NodeHandle& n) { return ensure_roles_units(n, n.node->roles); });
                        !st)
                      return st;
                    for (auto& l : cs.leaving) {
                      if (auto st = deps.provider.remove(inv, l.machine, opts.data); !st)
                        return std::move(st.error()).with("step remove-machine").with("host " + l.node->name);
                      l.did(ChangeKind::remove_machine, "", "removed the machine of " + l.node->name);
                      // A node added back later is a new machine with a new host key.
                      if (auto st = KnownHosts(deps.state.known_hosts_path())
                                        .forget(l.machine.address, l.machine.ssh_port);
                          !st)
                        return st;
                    }
                    return {};
                  });
        !s)
      return s.error();
  }
  if (cs.plan.has(ChangeKind::pg_parameter) || cs.plan.has(ChangeKind::pg_restart) ||
      cs.plan.has(ChangeKind::write_file)) {
    if (auto s = timed(progress, "postgres", [&] { return converge_postgres(ctx, opts.primary); }); !s)
      return s.error();
  }
  if (auto s = timed(progress, "services", [&] { return converge_services(ctx); }); !s) return s.error();
  if (auto s = save_applied(deps.state, inv); !s) return s.error();

  // What was done, each change once, node by node, then the cluster's own.
  std::set<std::string> seen;
  auto record = [&](const Change& c) {
    if (!seen.insert(change_key(c)).second) return;
    report.actions.push_back(c.node + ": " + c.summary);
    report.changes.push_back(c);
  };
  for (const auto& n : cs.nodes) {
    for (const auto& a : n.actions) record(a);
  }
  for (const auto& n : cs.leaving) {
    for (const auto& a : n.actions) record(a);
  }
  for (const auto& a : ctx.cluster_actions) record(a);
  report.timings = progress.timings();
  report.endpoints = endpoints_of(inv);
  return report;
}

}  // namespace pgha
