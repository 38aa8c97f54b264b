// Phase 1: make each machine ready for its roles. See engine.hpp for the contract.

#include "core/embedded.hpp"
#include "core/pg_extensions.hpp"
#include "roles/catalog.hpp"
#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

Status ensure_packages(NodeHandle& n, const Inventory& inv, Progress& progress) {
  // A run killed during dpkg leaves it half-configured; finish that first.
  if (!n.seen.dpkg_clean) {
    if (auto r = must(*n.shell, "prepare:dpkg", "dpkg --configure -a"); !r) return r.error();
  }
  std::string missing;
  int count = 0;
  for (const auto& p : node_packages(*n.node, inv.postgres_version)) {
    if (n.seen.installed.count(p)) continue;
    missing += " " + shell_quote(p);
    ++count;
  }
  // The extensions' packages go in the same apt-get run, each reported as its own change.
  std::vector<std::string> extensions;
  if (has_role(*n.node, Role::patroni)) {
    for (const auto& p : extension_packages(inv)) {
      if (n.seen.installed.count(p)) continue;
      extensions.push_back(p);
      missing += " " + shell_quote(p);
      ++count;
    }
  }
  if (count == 0) return {};
  progress.node(n.node->name, "installing " + std::to_string(count) + " packages");
  const std::string install =
      "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q "
      "--no-install-recommends" +
      missing;
  auto r = n.shell->run(install);
  if (r && r->exit_code != 0) r = n.shell->run("apt-get -q update && " + install);  // stale package lists
  if (!r) return std::move(r.error()).with("step prepare:packages").with("host " + n.node->name);
  if (r->exit_code != 0)
    return Error(ErrorKind::remote_failure,
                 "exit " + std::to_string(r->exit_code) + ": " + tail_lines(r->err))
        .with("command `" + install + "`")
        .with("step prepare:packages")
        .with("host " + n.node->name);
  if (count > static_cast<int>(extensions.size())) n.did(ChangeKind::prepare, "", "installed" + missing);
  for (const auto& p : extensions) n.did(ChangeKind::pg_package, p, "installed " + p);
  // Installing starts Debian's stock services: look again before removing them.
  return observe_node(n, inv, 60);
}

// Debian starts a stock `15/main` cluster and a single-member etcd when the packages are installed.
// Both must go before Patroni and the rendered etcd take over. Only stock state is removed: the
// cluster's own data directories are never touched here.
Status remove_debian_defaults(NodeHandle& n, const Inventory& inv) {
  if (has_role(*n.node, Role::patroni) && stock_cluster_in_use(n.seen)) {
    // Only with --adopt-stock-cluster does the plan get here (plan_stock_cluster refuses otherwise).
    const std::string ver = std::to_string(inv.postgres_version);
    auto r = must(*n.shell, "prepare:disable-stock-postgres",
                  "systemctl stop postgresql@" + ver + "-main && echo disabled > /etc/postgresql/" + ver +
                      "/main/start.conf");
    if (!r) return r.error();
    n.did(ChangeKind::prepare, "",
          "stopped and disabled Debian's stock " + ver + "/main cluster, its data kept");
    n.seen.stock_disabled = true;
  } else if (has_role(*n.node, Role::patroni) && n.seen.stock_postgres && !stock_cluster_kept(n.seen)) {
    const std::string ver = std::to_string(inv.postgres_version);
    auto r = must(*n.shell, "prepare:drop-stock-postgres",
                  "if [ -d /etc/postgresql/" + ver + "/main ]; then pg_dropcluster --stop " + ver +
                      " main && echo dropped; fi");
    if (!r) return r.error();
    if (!trim(r->out).empty())
      n.did(ChangeKind::prepare, "", "dropped Debian's stock " + ver + "/main cluster");
  }
  if (has_role(*n.node, Role::etcd) && n.seen.stock_etcd) {
    const std::string ours = shell_quote(inv.cluster_name);
    auto r = must(
        *n.shell, "prepare:drop-stock-etcd",
        "stock=$(find /var/lib/etcd -mindepth 1 -maxdepth 1 ! -name " + ours +
            " 2>/dev/null); if [ -n \"$stock\" ]; then systemctl stop etcd; rm -rf $stock; echo dropped; fi");
    if (!r) return r.error();
    if (!trim(r->out).empty()) {
      n.did(ChangeKind::prepare, "", "removed Debian's stock etcd member");
      n.seen.units["etcd.service"].active = false;
    }
  }
  // Stock haproxy and pgbouncer are stopped until pgha's own config is in place (stock_services()).
  for (const auto& [role, unit, config] : stock_services()) {
    if (!has_role(*n.node, role) || !n.seen.stock_running.count(unit)) continue;
    auto r = must(*n.shell, std::string("prepare:stop-stock-") + to_string(role),
                  std::string("if ! grep -qs 'Managed by pgha' ") + config + " && systemctl is-active -q " +
                      unit + "; then systemctl stop " + unit + " && echo stopped; fi");
    if (!r) return r.error();
    if (!trim(r->out).empty()) {
      n.did(ChangeKind::prepare, "", std::string("stopped stock ") + unit);
      n.seen.units[unit].active = false;
    }
  }
  return {};
}

// Debian's Patroni 3.0.2 can write its leader key over a newer leader's after a partition heals (see
// templates/patroni/etcd3_leader_cas.py, which applies upstream's rule). A Patroni already running keeps
// the old module until it restarts: the postgres phase restarts it, replicas first (converge_postgres).
Status fix_patroni_leader_key(NodeHandle& n) {
  if (!has_role(*n.node, Role::patroni) || n.seen.patroni_fixed) return {};
  const std::string& script = embedded_templates().at("patroni/etcd3_leader_cas.py");
  auto r = must(*n.shell, "prepare:patroni-leader-key", "python3 -c " + shell_quote(script));
  if (!r) return r.error();
  if (trim(r->out) == "upstream") {
    n.seen.patroni_fixed = true;  // observe says so too (NodeObservation::patroni_version)
    return {};
  }
  if (trim(r->out) != "applied") return {};
  n.did(ChangeKind::prepare, "", "applied the etcd3 leader-key fix to Patroni");
  n.seen.patroni_fixed = true;
  // A running Patroni keeps the old module: the postgres phase restarts it in a roll.
  n.seen.patroni_stale = n.seen.units["patroni.service"].active;
  return {};
}

}  // namespace

Status prepare_nodes(EngineContext& ctx) {
  return for_each_parallel<NodeHandle>(ctx.nodes, [&](NodeHandle& n) -> Status {
    if (!n.seen.valid) {
      ctx.progress.node(n.node->name, "waiting for systemd");
      if (auto s = observe_node(n, ctx.inv, ctx.timeouts.boot_s); !s) return s;
    }
    if (auto s = ensure_packages(n, ctx.inv, ctx.progress); !s) return s;
    if (auto s = remove_debian_defaults(n, ctx.inv); !s) return s;
    if (auto s = fix_patroni_leader_key(n); !s) return s;
    ctx.progress.node(n.node->name, "ready");
    return {};
  });
}

}  // namespace pgha
