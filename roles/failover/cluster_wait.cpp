#include "roles/failover/cluster_wait.hpp"

#include "roles/failover/analysis.hpp"
#include "roles/failover/write_probe.hpp"
#include "roles/remote.hpp"

namespace pgha {

SuperuserLogin superuser_login(const ResolvedSecrets& secrets) {
  return {secrets.superuser_password, secrets.tls.client.ca_file};
}

PgParams superuser_at(const std::string& host, int port, const SuperuserLogin& login) {
  PgParams p;
  p.host = host;
  p.port = port;
  p.password = login.password;
  p.sslrootcert = login.sslrootcert;
  p.application_name = "pgha-probe";
  return p;
}

Result<PgConn> connect_node(const Inventory& inv, const std::string& node, const SuperuserLogin& login,
                            std::chrono::milliseconds timeout) {
  const Node* n = inv.find_node(node);
  if (!n) return Error(ErrorKind::not_found, "no node " + node + " in the inventory");
  PgParams p = superuser_at(n->address, inv.ports.postgres, login);
  p.application_name = "pgha-check";
  auto c = PgConn::connect(p, timeout);
  if (!c) return std::move(c.error()).with("host " + node);
  return c;
}

Status wait_healthy(PatroniRest& rest, const Inventory& inv, std::chrono::seconds timeout) {
  const size_t expected = inv.nodes_with(Role::patroni).size();
  return poll_until("the cluster", timeout, std::chrono::milliseconds(1000), [&](std::string& why) {
    auto c = rest.cluster();
    if (!c) {
      why = c.error().describe();
      return false;
    }
    why = patroni_unhealthy_reason(*c, expected);
    // In sync mode Patroni only fails or switches over to the designated sync standby: until one is
    // designated (right after a previous failover) a cycle would measure nothing.
    if (why.empty() && inv.replication.mode == ReplicationMode::sync_mode && expected > 1) {
      bool designated = false;
      for (const auto& m : c->members) designated = designated || m.role == "sync_standby";
      if (!designated) why = "no sync standby designated yet";
    }
    return why.empty();
  });
}

Result<double> wait_rejoin(PatroniRest& rest, const Inventory& inv, const SuperuserLogin& login,
                           const std::string& old_primary, std::chrono::seconds timeout) {
  double at = 0;
  Status s =
      poll_until("rejoin of " + old_primary, timeout, std::chrono::milliseconds(500), [&](std::string& why) {
        auto c = rest.cluster();
        if (!c) {
          why = c.error().describe();
          return false;
        }
        std::set<std::string> streaming;
        if (const PatroniMember* l = c->leader(); l && l->name != old_primary) {
          auto conn = connect_node(inv, l->name, login);
          if (!conn) {
            why = conn.error().describe();
            return false;
          }
          auto rows = conn->exec("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'",
                                 {}, std::chrono::milliseconds(3000));
          if (!rows) {
            why = rows.error().describe();
            return false;
          }
          for (const auto& r : *rows) streaming.insert(r.at(0));
        }
        why = rejoin_missing(*c, old_primary, streaming);
        if (why.empty()) at = epoch_now();
        return why.empty();
      });
  if (!s) return s.error();
  return at;
}

Status wait_replicas_apply(PatroniRest& rest, const Inventory& inv, const SuperuserLogin& login,
                           std::chrono::seconds timeout) {
  auto c = rest.cluster();
  if (!c) return c.error();
  const PatroniMember* leader = c->leader();
  if (!leader) return Error(ErrorKind::remote_failure, "no leader");
  auto conn = connect_node(inv, leader->name, login);
  if (!conn) return conn.error();
  const std::chrono::milliseconds t(10000);
  auto lsn = conn->exec(
      "INSERT INTO pgha_probe (run, via, seq) VALUES ('apply-check', 'leader', 0) ON CONFLICT (run, via, "
      "seq) DO UPDATE "
      "SET at = clock_timestamp()",
      {}, t);
  if (lsn) lsn = conn->exec("SELECT pg_switch_wal()", {}, t);
  if (lsn) lsn = conn->exec("SELECT pg_current_wal_lsn()::text", {}, t);
  if (!lsn) return std::move(lsn.error()).with("host " + leader->name);
  const std::string target = lsn->at(0).at(0);
  std::set<std::string> expected;
  for (const auto& m : c->members)
    if (m.name != leader->name) expected.insert(m.name);
  return poll_until(
      "WAL replay past " + target, timeout, std::chrono::milliseconds(500), [&](std::string& why) {
        auto rows =
            conn->exec("SELECT application_name FROM pg_stat_replication WHERE replay_lsn >= $1::pg_lsn",
                       {target}, std::chrono::milliseconds(3000));
        if (!rows) {
          why = rows.error().describe();
          return false;
        }
        std::set<std::string> behind = expected;
        for (const auto& r : *rows) behind.erase(r.at(0));
        why.clear();
        for (const auto& b : behind) why += (why.empty() ? "" : ", ") + b;
        if (!why.empty()) why += " not replaying";
        return behind.empty();
      });
}

Result<std::map<std::string, std::set<int64_t>>> probe_rows(PgConn& conn, const std::string& run_id) {
  auto rows =
      conn.exec("SELECT via, seq FROM pgha_probe WHERE run = $1", {run_id}, std::chrono::milliseconds(10000));
  if (!rows) return rows.error();
  std::map<std::string, std::set<int64_t>> out;
  for (const auto& r : *rows) out[r.at(0)].insert(std::stoll(r.at(1)));
  return out;
}

}  // namespace pgha
