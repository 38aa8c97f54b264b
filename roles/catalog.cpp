#include "roles/catalog.hpp"

#include <algorithm>

namespace pgha {
namespace {

RoleSpec make(Role role, std::vector<std::string> packages, std::vector<std::string> units,
              ApplyAction on_change, std::vector<Role> after, std::string stock_config = "") {
  return RoleSpec{role,      std::move(packages), role_files(role),       std::move(units),
                  on_change, std::move(after),    std::move(stock_config)};
}

std::vector<RoleSpec> build_catalog() {
  return {
      // etcd reads its environment only at start.
      make(Role::etcd, {"etcd-server", "etcd-client"}, {"etcd.service"}, ApplyAction::restart, {}),
      // Patroni's etcd3 DCS talks to etcd's gRPC gateway through urllib3 but imports python-etcd
      // (python3-etcd, which brings python3-dnspython); SIGHUP (reload) re-reads config.yml. The
      // engine asks Patroni's REST API with curl on the node (a bare host may not have it).
      make(Role::patroni,
           {"patroni", "postgresql-15", "postgresql-client-15", "python3-psycopg2", "python3-etcd", "curl",
            "procps"},
           {"patroni.service"}, ApplyAction::reload, {Role::etcd}),
      // haproxy.service's reload checks the config first and keeps established sessions.
      make(Role::haproxy, {"haproxy"}, {"haproxy.service"}, ApplyAction::reload, {Role::patroni},
           "/etc/haproxy/haproxy.cfg"),
      // pgrep (procps) is its HAProxy check; `ip` (iproute2) shows status who holds the VIP.
      make(Role::keepalived, {"keepalived", "procps", "iproute2"}, {"keepalived.service"},
           ApplyAction::reload, {Role::haproxy}),
      // pgbouncer re-reads its ini and auth_file on SIGHUP (listen_addr changes need a restart).
      make(Role::pgbouncer, {"pgbouncer"}, {"pgbouncer.service"}, ApplyAction::reload, {Role::haproxy},
           "/etc/pgbouncer/pgbouncer.ini"),
      // No daemon: archive_command and backups read the file on every run. The timers of the
      // scheduled backups are restarted when their files change; they start once the stanza exists
      // (converge_pgbackrest).
      make(Role::pgbackrest, {"pgbackrest"}, {"pgha-backup-full.timer", "pgha-backup-diff.timer"},
           ApplyAction::restart, {Role::patroni}),
  };
}

}  // namespace

const std::vector<RoleSpec>& role_catalog() {
  static const std::vector<RoleSpec> catalog = build_catalog();
  return catalog;
}

const RoleSpec& role_spec(Role role) {
  for (const auto& spec : role_catalog()) {
    if (spec.role == role) return spec;
  }
  return role_catalog().front();  // unreachable: every Role has a spec (catalog_test checks it)
}

std::vector<std::string> node_packages(const Node& node, int postgres_version) {
  std::vector<std::string> out;
  for (const auto& spec : role_catalog()) {
    if (!has_role(node, spec.role)) continue;
    for (const auto& p : role_packages(spec.role, postgres_version)) {
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

const std::vector<StockService>& stock_services() {
  static const std::vector<StockService> stock = [] {
    std::vector<StockService> out;
    for (const auto& spec : role_catalog()) {
      if (!spec.stock_config.empty()) out.push_back({spec.role, spec.units.front(), spec.stock_config});
    }
    return out;
  }();
  return stock;
}

std::vector<std::string> role_packages(Role role, int postgres_version) {
  std::vector<std::string> out = role_spec(role).packages;
  const std::string v = std::to_string(postgres_version);
  for (auto& p : out) {
    if (p == "postgresql-15") p = "postgresql-" + v;
    if (p == "postgresql-client-15") p = "postgresql-client-" + v;
  }
  return out;
}

}  // namespace pgha
