// Rolling changes to PostgreSQL: parameters that a reload applies are gated on every member showing
// them; parameters that need a restart are applied member by member, leader last. The roll is
// derived from what it observes (each member's pending_restart), not from a journal, so a run that
// was killed in the middle finishes when it runs again.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "roles/patroni_api.hpp"

namespace pgha {

class Progress;

// The cluster as the roll sees and moves it: Patroni's REST API and each member's PostgreSQL.
// The real one (rolling_patroni.cpp) goes over SSH; tests use a fake.
class RollCluster {
 public:
  virtual ~RollCluster() = default;
  // Patroni's GET /cluster.
  virtual Result<PatroniCluster> cluster() = 0;
  // Whether the member's PostgreSQL has settings it takes only when restarted (pg_settings).
  virtual Result<bool> pending_restart(const std::string& member) = 0;
  // The given settings on the member: name -> (pg_settings.setting, its pending_restart).
  virtual Result<std::map<std::string, std::pair<std::string, bool>>> settings(
      const std::string& member, const std::vector<std::string>& names) = 0;
  // The application names streaming from the leader (its pg_stat_replication).
  virtual Result<std::set<std::string>> streaming(const std::string& leader) = 0;
  // Patroni's POST /restart on the member; returns once Patroni says it restarted.
  virtual Status restart(const std::string& member) = 0;
  // Patroni itself restarted (its systemd unit): it stops PostgreSQL and starts it again, as a
  // replica unless it holds the leader key. For a Patroni that runs an older module than the one on
  // disk (pgha's leader-key fix applied after it started).
  virtual Status restart_patroni(const std::string& member) = 0;
  // Patroni's POST /switchover away from leader; candidate "" lets Patroni pick (in synchronous
  // mode only its synchronous standby, by its own view of the sync key).
  virtual Status switchover(const std::string& leader, const std::string& candidate) = 0;
  // The member's last log lines, for a message; "" when they cannot be read.
  virtual std::string log_tail(const std::string& member) = 0;
  virtual void pause(std::chrono::milliseconds d) = 0;
};

enum class PrimaryRestart { switchover, in_place };  // --primary-restart
// members with pending_restart, every one, or RollOptions::members
enum class RollScope { pending, all, given };
// What a member's restart is: PostgreSQL through Patroni, or Patroni's own service.
enum class RollAction { postgres, patroni };
// replicas_first: replicas, then the leader (the usual order, and the one raising a setting that a
// standby must have at least as high as its primary needs). leader_first: the leader in place, then
// the replicas: lowering such a setting (max_connections, ...) needs the primary to run with the lower
// value and log it before a standby may start with it (Patroni starts a standby with the value in its
// pg_control meanwhile, and reports it pending).
enum class RollOrder { replicas_first, leader_first };

struct RollOptions {
  PrimaryRestart primary = PrimaryRestart::switchover;
  // In synchronous mode the switchover waits for a synchronous standby and lets Patroni hand over
  // to it: naming one that the leader's Patroni no longer sees as synchronous is refused (412).
  ReplicationMode replication = ReplicationMode::sync_mode;
  RollOrder order = RollOrder::replicas_first;
  RollAction action = RollAction::postgres;
  std::set<std::string> members;  // RollScope::given
  RollScope scope = RollScope::pending;
  std::string only_node;                // restart just this member ("" = every one in scope)
  std::chrono::seconds gate{180};       // how long a member may take to come back
  std::chrono::milliseconds poll{500};  // how often a gate looks again
};

struct RollReport {
  std::vector<std::string> steps;  // "restarted pg2", "switched over from pg1 to pg2", ...
  int leader_changes = 0;
};

// The order a roll would take now, in words: replicas by name, then the leader's switchover (or
// in-place restart) and its restart as a replica. Empty when nothing is to restart.
std::vector<std::string> roll_order(const PatroniCluster& c, const std::set<std::string>& targets,
                                    const RollOptions& opts);

// Restarts the members in scope: replicas one at a time, each gated on running on the leader's
// timeline, streaming with lag 0 and no pending restart; then a switchover to a synchronous standby
// (else a healthy replica) and the old leader restarted as a replica if it still needs it; or the
// leader in place. A member that does not come back stops the roll (timeout) with its name and its
// last log lines, and nothing after it is touched.
Result<RollReport> rolling_restart(RollCluster& rc, Progress& progress, const RollOptions& opts);

// The roll's gate for one replica, for a restart made outside the roll (Patroni's own unit, by
// `pgha upgrade`): waits until `member` runs as a replica of `leader` on its timeline, streaming with
// lag 0 and no pending restart. Timeout names the member and what was last wrong, with its log lines.
Status replica_gate(RollCluster& rc, const std::string& member, const std::string& leader,
                    const RollOptions& opts);

// Waits until every member shows each of its wanted settings (member -> name -> value as
// pg_settings shows it, see pg_setting_form) or has it pending a restart. Timeout names the member
// and the setting.
using WantedSettings = std::map<std::string, std::map<std::string, std::string>>;
Status parameters_gate(RollCluster& rc, const WantedSettings& wanted, const RollOptions& opts);

struct EngineContext;
// `up`'s phase after Patroni's: the parameters gate for the inventory's postgresql.parameters on
// every member, then a rolling restart of the members with a pending restart (observed, so a roll
// that was killed resumes). Records what it did in ctx.cluster_actions.
Status converge_postgres(EngineContext& ctx, PrimaryRestart primary);

// The real RollCluster (rolling_patroni.cpp): Patroni's REST API and psql over the nodes' shells.
std::unique_ptr<RollCluster> patroni_roll_cluster(EngineContext& ctx);

struct UpDeps;
// `pgha restart`: observes the cluster (as `plan` does), then restarts PostgreSQL through the same
// roll: every member (RollScope::all) or opts.only_node, or those with a pending restart.
Result<RollReport> cluster_restart(const Inventory& inv, UpDeps& deps, const RollOptions& opts);

}  // namespace pgha
