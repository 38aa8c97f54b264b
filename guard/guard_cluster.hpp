// The real GuardCluster: the leader's Patroni REST API (PatroniRest) and PostgreSQL (PgConn) from
// this machine, Patroni's pause and switchover state from any member's /cluster, the replicas' view
// of the leader over their SSH sessions, and the provider for fencing. Also the hold markers.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/http.hpp"
#include "core/inventory.hpp"
#include "core/remote_shell.hpp"
#include "guard/guard_loop.hpp"
#include "net/pg_conn.hpp"
#include "providers/provider.hpp"
#include "roles/cluster_ops.hpp"
#include "roles/failover/patroni_rest.hpp"

namespace pgha::guard {

// A switchover, restore or rolling change under way says so by a file in <state dir>/hold/ (its name
// is the reason, e.g. "rolling"); the guard declines while any is there. HoldMarker writes one for
// its lifetime.
std::string hold_dir(const std::string& state_dir);
// The names of the markers there, joined ("" when none, or no such directory).
std::string read_holds(const std::string& state_dir);

class HoldMarker {
 public:
  HoldMarker(const std::string& state_dir, const std::string& reason);
  ~HoldMarker();
  HoldMarker(const HoldMarker&) = delete;
  HoldMarker& operator=(const HoldMarker&) = delete;

 private:
  std::string path_;
};

// The command a replica runs to say whether it is healthy and reaches the leader, and its parser.
std::string replica_view_command(const Inventory& inv, const Node& self, const Node& leader);
ReplicaView parse_replica_view(const std::string& name, const CommandResult& r);

struct ClusterSeams {
  const Inventory& inv;
  std::string superuser_password;
  Provider& provider;
  ShellFactory shells;  // connects to a machine (replica asks)
  std::string state_dir;
  TlsClient tls;  // with tls.enabled: the cluster CA and pgha's client certificate
};

class RealGuardCluster final : public GuardCluster {
 public:
  explicit RealGuardCluster(ClusterSeams seams);
  void observe(Observation& o) override;
  std::vector<ReplicaView> ask_replicas(const std::string& leader,
                                        const std::vector<std::string>& replicas) override;
  Status fence(const std::string& node) override;
  Result<PowerState> power_state(const std::string& node) override;
  Status restart(const std::string& node) override;
  // SSH sessions to every Patroni node, opened side by side now, so that asking the replicas at a
  // suspicion costs one command (about a second against a dead leader), not a handshake each. A node
  // that does not answer is connected to again when it is asked.
  void connect_all();

 private:
  void probe_postgres(const Node& leader, Observation& o);
  void read_cluster(const std::string& leader, Observation& o);
  RemoteShell* shell(const std::string& node);

  ClusterSeams s_;
  std::unique_ptr<PatroniRest> rest_;
  std::unique_ptr<HttpTransport> http_;
  std::optional<PgConn> pg_;
  std::string pg_node_;
  std::mutex shells_mu_;
  std::map<std::string, std::unique_ptr<RemoteShell>> shells_;
  std::vector<Machine> machines_;
};

}  // namespace pgha::guard
