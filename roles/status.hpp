// `pgha status`: what the cluster looks like now, from the nodes themselves, and a verdict on it
// (healthy / degraded / down, with the reasons) against what the inventory says should exist.
// Collection (status.cpp) does I/O; the verdict (status_judge.cpp) and the text and JSON views
// (status_format.cpp) are pure functions of a ClusterStatus, so tests build one by hand.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "providers/provider.hpp"
#include "roles/backup.hpp"
#include "roles/cluster_ops.hpp"
#include "roles/patroni_api.hpp"

namespace pgha {

struct BackendState {
  std::string haproxy_node;  // whose HAProxy reported it
  std::string listener;      // primary | replicas (the listen sections of templates/haproxy)
  std::string server;        // node name
  std::string status;        // UP | DOWN | "UP 1/2" | MAINT | ...
};

struct EtcdMemberHealth {
  std::string endpoint;
  bool healthy = false;
  std::string error;
};

// What the inventory says should exist; the verdict compares the nodes' answers with it.
struct StatusExpectations {
  std::string cluster;
  std::vector<std::string> patroni_nodes;  // inventory order
  std::vector<std::string> haproxy_nodes;
  std::vector<std::string> etcd_nodes;
  std::set<std::string> noloadbalance;           // Patroni tag: never in the read pool
  std::map<std::string, std::string> addresses;  // node name -> address
  bool sync_mode = false;
  int64_t max_lag_bytes = 1048576;  // maximum_lag_on_failover: a replica further behind is not promotable
  int write_port = 5000;
  int read_port = 5001;
};

StatusExpectations expectations_of(const Inventory& inv);

// HAProxy's stats CSV (`/;csv`) as `node`'s HAProxy reports it: one row per server of each listen
// section (frontends, backends and the stats section left out).
std::vector<BackendState> parse_haproxy_csv(const std::string& node, const std::string& csv);
// The HAProxy nodes among `backends` that still send new write sessions to `server`: it is UP (or
// only going down, "UP 1/3") in their `primary` listener.
std::vector<std::string> haproxies_writing_to(const std::vector<BackendState>& backends,
                                              const std::string& server);

// A scheduled backup (pgha-backup@TYPE.service) whose last run on `node` did not succeed.
struct ScheduledBackupRun {
  std::string node;
  std::string type;    // full | diff
  std::string result;  // systemd's Result=: exit-code, timeout, signal, ...
  std::string at;      // ExecMainExitTimestamp as systemd prints it; "" when it never exited
};

// The repository as the leader's pgBackRest sees it, and the scheduled runs of every pgBackRest node.
struct BackupStatus {
  bool expected = false;  // some node has the pgbackrest role; nothing else here is set otherwise
  bool answered = false;  // the leader's `pgbackrest info` was read
  std::string error;      // why not (no leader, pgBackRest's own words), when expected and not answered
  int64_t now = 0;        // the leader's clock when it answered, epoch seconds: ages are measured on it
  std::optional<BackupSet> last;  // the newest backup; nullopt when the repository has none
  std::string wal_max;            // the newest archived WAL segment, "" when none
  std::vector<ScheduledBackupRun> failed;
};

// The part of a node's status probe (roles/status.cpp) that reads backups: every pgBackRest node
// prints its scheduled units' results (@@backup-units); the Patroni leader of that moment alone adds
// its clock and `pgbackrest info` (@@backup), so a status costs no extra round trip. "" for a node
// without the pgbackrest role.
std::string backup_probe_part(const Inventory& inv, const Node& node);
// Folds one node's @@backup-units and @@backup parts (either may be null) into b.
void absorb_backup(const std::string& node, const std::string* units, const std::string* info,
                   const std::string& stanza, BackupStatus& b);
// "42 s", "5 min", "3 h 12 min", "2 d 4 h".
std::string format_age(int64_t seconds);
// The backup lines of `pgha status` ("" when no node has pgBackRest), and their JSON.
std::string format_backup_status(const BackupStatus& b);
nlohmann::json backup_status_json(const BackupStatus& b);

struct ClusterStatus {
  StatusExpectations expected;
  std::map<std::string, std::string> unreachable;  // node -> why (machine stopped, SSH failed, ...)
  PatroniCluster patroni;
  std::string patroni_error;  // why the member table is missing, if it is
  std::vector<EtcdMemberHealth> etcd;
  std::vector<BackendState> backends;
  std::vector<std::string> haproxy_silent;  // HAProxy nodes reached whose stats page did not answer
  std::string vip;                          // "" when the inventory has none
  std::vector<std::string> vip_holders;     // nodes holding it, normally exactly one
  // The leader's pg_stat_replication: application_name (Patroni sets it to the member name) ->
  // replay_lag in seconds, nullopt where the column is NULL.
  std::map<std::string, std::optional<double>> replay_lag;
  BackupStatus backup;
  // With TLS: the node certificate that expires first (as `up` last issued them), and when.
  struct {
    std::string node;  // "" without TLS
    std::int64_t not_after = 0;
    std::int64_t now = 0;
  } cert_expiry;
};

// Keeps one shell per node across snapshots (`--watch`): a node whose machine was stopped or whose
// shell failed is connected again on the next snapshot.
class StatusProbe {
 public:
  // admin_password opens HAProxy's stats page (it travels to curl on stdin, never in a command line);
  // with "" the page answers 401 and HAProxy's view is missing from the status.
  StatusProbe(const Inventory& inv, Provider& provider, ShellFactory shells, std::string admin_password = "");
  ~StatusProbe();
  // Errors: only the provider's (it cannot list the machines). Nodes that cannot be reached are
  // reported in ClusterStatus::unreachable, and what they would have told is then missing.
  Result<ClusterStatus> snapshot();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The answer to `pgha status` on a cluster without machines, "" when some machine runs.
// inventory_path is the -i argument, quoted back in the hint.
std::string not_running_message(const Inventory& inv, const std::vector<Machine>& machines,
                                const std::string& inventory_path);

enum class Health { healthy, degraded, down };
const char* to_string(Health h);

// One HAProxy instance's view of one server in one pool that differs from what Patroni's health
// checks would answer (write: only the running leader; read: running replicas without noloadbalance).
struct Disagreement {
  std::string haproxy_node;
  std::string pool;  // write | read
  std::string server;
  std::string status;  // what HAProxy says
  std::string why;     // "pg3 is not the leader (pg1 is)"
};

struct StatusVerdict {
  Health health = Health::healthy;
  std::vector<std::string> reasons;  // down reasons first; empty when healthy
  std::vector<Disagreement> disagreements;
};

StatusVerdict judge_status(const ClusterStatus& s);

// A replica's replay lag in seconds: pg_stat_replication.replay_lag on the leader. That column is
// measured by the leader's walsender with the leader's clock, so it needs no clock agreement between
// nodes (pg_last_xact_replay_timestamp() on a replica does, and grows without bound on an idle
// cluster). PostgreSQL resets it to NULL a moment after the replica caught up with an idle primary:
// NULL with Patroni's byte lag 0 is therefore 0 s. nullopt for the leader, a replica the leader does
// not stream to, or NULL with bytes outstanding.
std::optional<double> lag_seconds(const ClusterStatus& s, const PatroniMember& m);

// The summary line: "cluster NAME: healthy", "cluster NAME: degraded: why; why".
std::string format_summary(const ClusterStatus& s, const StatusVerdict& v);
// Summary, members with lag in bytes and seconds, etcd, the HAProxy matrix, the VIP.
std::string format_status(const ClusterStatus& s);
nlohmann::json status_json(const ClusterStatus& s);

}  // namespace pgha
