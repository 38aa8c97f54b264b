#include <map>
#include <sstream>

#include "roles/cluster_ops.hpp"
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
  auto url = [&](const std::string& hostport) {
    return "postgresql://" + e.user + "@" + hostport + "/" + e.database;
  };
  if (!e.write.empty()) out << "  write (primary):    " << url(e.write) << "\n";
  if (!e.read.empty()) out << "  read (replicas):    " << url(e.read) << "\n";
  if (!e.pooled.empty()) out << "  pooled (PgBouncer): " << url(e.pooled) << "\n";
  out << "  passwords:          " << state_dir << "/secrets.json (unless given through the environment)\n";
  return out.str();
}

Result<std::vector<NodeHandle>> connect_nodes(const Inventory& inv, const std::vector<Machine>& machines,
                                              const ShellFactory& shells, Progress& progress) {
  std::vector<NodeHandle> nodes;
  for (const auto& node : inv.nodes) {
    NodeHandle h;
    h.node = &node;
    for (const auto& m : machines) {
      if (m.node == node.name) h.machine = m;
    }
    if (h.machine.node.empty())
      return Error(ErrorKind::internal, "the provider returned no machine").with("node " + node.name);
    nodes.push_back(std::move(h));
  }
  Status s = for_each_parallel<NodeHandle>(nodes, [&](NodeHandle& n) -> Status {
    auto sh = shells(n.machine);
    if (!sh) return std::move(sh.error()).with("step connect").with("host " + n.node->name);
    n.shell = std::make_unique<SerialShell>(std::move(sh.value()));
    progress.node(n.node->name, "connected over SSH to " + n.machine.address);
    return {};
  });
  if (!s) return s.error();
  return nodes;
}

Result<UpReport> cluster_up(const Inventory& inv, UpDeps deps) {
  Progress& progress = deps.progress;
  UpReport report;

  // Plan: secrets and every rendered file, before any remote side effect.
  progress.phase_begin("plan");
  auto secrets = deps.state.resolve_secrets(inv);
  if (!secrets) return secrets.error();
  std::map<std::string, std::vector<RenderedFile>> files;
  for (const auto& node : inv.nodes) {
    auto rendered = render_node(inv, node, *secrets, deps.templates);
    if (!rendered) return std::move(rendered.error()).with("render node " + node.name);
    files[node.name] = std::move(rendered.value());
  }
  auto pubkey = deps.state.ensure_ssh_key();
  if (!pubkey) return pubkey.error();
  progress.phase_end("plan", true);

  auto timed = [&](const std::string& phase, const std::function<Status()>& fn) -> Status {
    progress.phase_begin(phase);
    Status s = fn();
    progress.phase_end(phase, s.ok());
    return s;
  };

  std::vector<Machine> machines;
  if (auto s = timed("provision",
                     [&]() -> Status {
                       auto m = deps.provider.ensure(
                           inv, ProvisionRequest{*pubkey, deps.state.path(), [&](const std::string& line) {
                                                   progress.info(deps.provider.name() + ": " + line);
                                                 }});
                       if (!m) return m.error();
                       machines = std::move(m.value());
                       return {};
                     });
      !s)
    return s.error();

  std::vector<NodeHandle> nodes;
  if (auto s = timed("connect",
                     [&]() -> Status {
                       auto n = connect_nodes(inv, machines, deps.shells, progress);
                       if (!n) return n.error();
                       nodes = std::move(n.value());
                       return {};
                     });
      !s)
    return s.error();
  for (auto& n : nodes) n.files = std::move(files[n.node->name]);

  EngineContext ctx{inv, *secrets, progress, nodes, deps.timeouts};
  ctx.open_extra_shell = [&](const NodeHandle& n) { return deps.shells(n.machine); };
  const std::vector<std::pair<std::string, Status (*)(EngineContext&)>> phases = {
      {"observe", observe_nodes},      {"prepare", prepare_nodes},  {"files", sync_files},
      {"etcd", converge_etcd},         {"start", start_edge_units}, {"patroni", converge_patroni},
      {"services", converge_services},
  };
  for (const auto& [name, fn] : phases) {
    if (auto s = timed(name, [&, fn = fn] { return fn(ctx); }); !s) return s.error();
  }
  for (const auto& n : nodes) {
    for (const auto& a : n.actions) {
      report.actions.push_back(n.node->name + ": " + a.summary);
      report.changes.push_back(a);
    }
  }
  report.timings = progress.timings();
  report.endpoints = endpoints_of(inv);
  return report;
}

}  // namespace pgha
