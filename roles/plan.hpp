// The plan is a value (ninja's Plan vs Builder): observe the cluster, compute the typed difference
// between what the inventory wants and what exists, check the safety rules on it, print it
// (`pgha plan`), then execute exactly it (`pgha up`). compute_plan() is pure; the observation that
// feeds it is roles/cluster_view.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/render.hpp"
#include "roles/change.hpp"
#include "roles/engine.hpp"
#include "roles/patroni_api.hpp"
#include "roles/rolling.hpp"

namespace pgha {

// One entry of `etcdctl member list`. A member added but not started yet has no name.
struct EtcdMember {
  uint64_t id = 0;
  std::string name;
  std::string peer_url;
  std::string client_url;  // empty until the member has started
  bool learner = false;
  bool healthy = false;  // its client URL answered `endpoint health`
};

// A member id as etcdctl prints and takes it (lowercase hex).
std::string etcd_id_hex(uint64_t id);

// What the cluster as a whole looks like, read through whichever node answers.
struct ClusterView {
  bool etcd_answered = false;  // some member listed the members
  std::vector<EtcdMember> etcd;
  std::optional<PatroniCluster> patroni;
  std::map<std::string, int64_t> member_keys;  // Patroni member key's name -> its mod revision
  std::optional<nlohmann::json> dcs_config;    // the leader's GET /config
  bool sql_known = false;                      // the leader listed its roles and databases
  std::set<std::string> sql_roles, sql_databases;
  // The extensions of each inventory database that exists on the leader (plpgsql included); a
  // database missing here was not there or did not answer.
  std::map<std::string, std::set<std::string>> sql_extensions;
  // The leader's pg_stat_replication: the application names of the replicas that stream.
  std::optional<std::set<std::string>> streaming;
};

// A node the plan is about: one of the inventory's, or one that left it (a machine of this cluster
// that the inventory no longer names; `node` then describes it as it was last applied).
struct PlanNode {
  Node node;
  bool leaving = false;
  std::optional<Machine> machine;   // the provider's machine, when it exists
  NodeObservation seen;             // valid when the machine answered
  std::vector<RenderedFile> files;  // the desired files (none for a leaving node)
};

struct PlanInput {
  const Inventory& inv;
  std::vector<PlanNode> nodes;  // the inventory's, in its order, then the leaving ones
  ClusterView view;
  bool force = false;  // allow a removal that leaves sync mode without a candidate
  PrimaryRestart primary = PrimaryRestart::switchover;  // how a rolling restart treats the leader
  StockCluster stock = StockCluster::refuse;            // a stock cluster that holds databases
};

struct Plan {
  std::vector<Change> changes;          // in execution order
  std::vector<std::string> warnings;    // allowed, but the operator should know
  std::vector<std::string> violations;  // safety rules broken: `up` refuses, exit 2
  bool etcd_bootstrap = false;          // no etcd cluster exists: the members start together
  std::string switchover_to;            // the candidate when the leader leaves
  // How each machine to create will be made, as the provider tells it (Provider::creation_routes):
  // node -> "clone from template 9000 on pve1, then migrate to pve2 (...)". Shown with its
  // create_machine change; a node without one is created the provider's plain way.
  std::map<std::string, std::string> routes;
  bool empty() const { return changes.empty(); }
  bool has(ChangeKind kind) const {
    for (const auto& c : changes) {
      if (c.kind == kind) return true;
    }
    return false;
  }
};

Plan compute_plan(const PlanInput& in);

// The JSON form: {"changes": [{"kind", "node", "target", "summary", "route"}], "warnings": [...]};
// "route" only on a create_machine change that has one.
nlohmann::json plan_json(const Plan& plan);

// The text form for people: "no changes", or one line per change; `diffs` (by change_key) holds a
// unified diff for changed, non-secret files.
std::string format_plan(const Plan& plan, const std::map<std::string, std::string>& diffs);

// Parses `etcdctl member list -w json`. Errors: bad_input.
Result<std::vector<EtcdMember>> parse_etcd_members(const std::string& json);
// Parses `etcdctl endpoint health --cluster -w json`: the client URLs that are healthy.
std::set<std::string> parse_etcd_health(const std::string& json);
// Parses `etcdctl get --prefix <prefix> --keys-only -w json`: key suffix after prefix -> mod revision.
std::map<std::string, int64_t> parse_dcs_keys(const std::string& json, const std::string& prefix);

// A cluster-wide PostgreSQL parameter whose value in Patroni's dynamic configuration differs from
// the inventory's (dcs_parameters, core/pg_settings.hpp). `from` is "" when it is not set there;
// `to` is "" when the inventory no longer sets it: it is removed (PostgreSQL's default applies).
struct ParameterChange {
  std::string name, from, to;
  bool restart = false;  // postmaster context: members take it only when restarted
  bool reset() const { return to.empty(); }
  std::string summary() const;  // "set work_mem = 8MB (was 4MB)", "reset work_mem to its default (was 8MB)"
};
std::vector<ParameterChange> parameter_changes(const Inventory& inv, const nlohmann::json& have);

// The keys of Patroni's dynamic configuration that the inventory sets, and those of `have` that
// differ, with postgresql.parameters' changed entries under {"postgresql": {"parameters": ...}}.
nlohmann::json dcs_config_patch(const Inventory& inv, const nlohmann::json& have);

// Patroni's key for a member: /service/<cluster>/members/<name>.
std::string patroni_member_key(const Inventory& inv, const std::string& member);

// The peer URL the inventory gives a node's etcd member.
std::string etcd_peer_url(const Inventory& inv, const Node& node);

}  // namespace pgha
