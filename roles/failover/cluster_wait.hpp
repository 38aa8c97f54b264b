// Waiting on the cluster from this machine: Patroni's REST API for member states, a direct superuser
// connection to the leader for pg_stat_replication and the probe's rows.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "core/inventory.hpp"
#include "core/render.hpp"
#include "net/pg_conn.hpp"
#include "roles/failover/patroni_rest.hpp"

namespace pgha {

// How pgha logs in as the superuser from this machine: the password and, with TLS, the cluster CA it
// verifies each server against.
struct SuperuserLogin {
  std::string password;
  std::string sslrootcert;  // "" without TLS
};
SuperuserLogin superuser_login(const ResolvedSecrets& secrets);
// PgParams for the superuser at host:port.
PgParams superuser_at(const std::string& host, int port, const SuperuserLogin& login);

// A superuser connection to a node's postgres (not through HAProxy).
Result<PgConn> connect_node(const Inventory& inv, const std::string& node, const SuperuserLogin& login,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

// Until Patroni reports one running leader, every member running on its timeline with lag 0, and in
// sync mode a designated sync standby.
// Errors: timeout carrying the last reason.
Status wait_healthy(PatroniRest& rest, const Inventory& inv, std::chrono::seconds timeout);

// Until old_primary streams from the leader on its timeline (or leads again itself). Returns the
// epoch time it was first seen so. Errors: timeout carrying what was still missing.
Result<double> wait_rejoin(PatroniRest& rest, const Inventory& inv, const SuperuserLogin& login,
                           const std::string& old_primary, std::chrono::seconds timeout);

// Proves replication applies new WAL: writes a row and switches the WAL segment on the leader, then
// waits until every other member replays past that point (pg_stat_replication.replay_lsn). Catches a
// rejoined replica that streams but cannot apply (a diverged timeline that was not rewound).
// Errors: timeout naming the members still behind.
Status wait_replicas_apply(PatroniRest& rest, const Inventory& inv, const SuperuserLogin& login,
                           std::chrono::seconds timeout);

// The probe rows of one run on `node`, as via -> seqs.
Result<std::map<std::string, std::set<int64_t>>> probe_rows(PgConn& conn, const std::string& run_id);

}  // namespace pgha
