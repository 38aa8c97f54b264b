// `pgha upgrade`: a minor upgrade of pgha's packages from the distribution, node by node, leader last.
// Three parts: what apt says (parsers, pure), what to do about it (plan_upgrade, pure over the
// observed versions), and doing it (run_upgrade, over the UpgradeHosts and RollCluster seams). The
// SSH side (roles/upgrade_remote.cpp) only observes and runs commands.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "roles/rolling.hpp"

namespace pgha {

class Progress;

// One package as apt sees it on one node. `installed` is "" when it is not installed, `candidate`
// "" when no source offers it.
struct PackageVersion {
  std::string name, installed, candidate;
};

// Parses `LC_ALL=C apt-cache policy PKG...`: one entry per package heading, in its order. Package
// names and versions are checked against Debian's grammar (they reach shell commands); an entry that
// does not parse is an Error (bad_input) naming the line, as is any text that is no policy listing.
Result<std::vector<PackageVersion>> parse_apt_policy(const std::string& text);
// Parses `dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Status}\n' PKG...`: name -> version
// of the packages whose status is "installed" (others are left out).
std::map<std::string, std::string> parse_dpkg_query(const std::string& text);
// Parses `LC_ALL=C apt-get -s install ...`: each "Inst NAME [OLD] (NEW ...)" line as an upgrade
// (`from` "" for a package apt would newly install); effect left none.
std::vector<struct PackageUpgrade> parse_apt_simulation(const std::string& text);
// Debian's version order (dpkg --compare-versions): <0, 0, >0.
int compare_debian_versions(const std::string& a, const std::string& b);
// Debian's grammar for a version: [epoch:]upstream[-revision] of [A-Za-z0-9.+~:-].
bool valid_debian_version(const std::string& v);

// What a package's new version needs before it runs. Every daemon of pgha's roles is one; clients
// and tools (etcdctl, psql, procps, pgbackrest) take effect on their next run.
enum class Effect { none, etcd, patroni, postgres, haproxy, pgbouncer, keepalived };
const char* to_string(Effect e);
std::optional<Effect> effect_from_string(const std::string& s);
// The effect of `package`, one of node_packages() (roles/catalog.hpp), for a cluster on
// PostgreSQL `postgres_version`. A package the catalog does not list: Effect::none.
Effect package_effect(const std::string& package, int postgres_version);

// The leader-key fix (templates/patroni/etcd3_leader_cas.py) tried on the candidate Patroni's etcd3
// module, unpacked in a scratch directory before anything is installed.
// upstream: the candidate has the leader-key rule itself (Patroni 3.0.3 and later).
enum class FixCheck { not_needed, applies, present, upstream, absent, unknown };

struct NodeUpgradeInput {
  std::string node;
  std::vector<PackageVersion> packages;  // the node's pgha packages (node_packages), as apt sees them
  std::set<Effect> owed;                 // restarts an interrupted upgrade left owed (the node's marker)
  FixCheck patroni_fix = FixCheck::not_needed;  // on patroni's candidate, when patroni is to upgrade
  // What apt would also upgrade or install with them (apt-get -s), e.g. libpq5 with postgresql-15.
  std::vector<struct PackageUpgrade> dependencies;
};

// Whether apt offers a newer version of an installed package.
bool upgrade_pending(const PackageVersion& p);
// Whether a pending patroni may be upgraded: the leader-key fix is known to apply to its candidate.
bool patroni_upgradable(FixCheck fix);

struct UpgradeInput {
  std::vector<NodeUpgradeInput> nodes;  // in inventory order
  std::string leader;                   // Patroni's leader ("" when none)
  int postgres_version = 15;
};

struct PackageUpgrade {
  std::string name, from, to;
  Effect effect = Effect::none;
};

struct NodeUpgrade {
  std::string node;
  bool leader = false;
  std::vector<PackageUpgrade> upgrades;      // what apt installs here, exactly these versions
  std::vector<PackageUpgrade> held;          // pending, but held back (the reason is in the warnings)
  std::vector<PackageVersion> current;       // the node's other pgha packages (up to date, or not installed)
  std::vector<PackageUpgrade> dependencies;  // what apt upgrades or installs with them (not pgha's)
  // In this order: etcd, then patroni (its restart restarts PostgreSQL too) or postgres, then
  // haproxy, pgbouncer, keepalived. Includes what an interrupted run left owed.
  std::vector<Effect> restarts;
  // Patroni restarts here: the leader-key fix is applied first (a new patroni package replaced the
  // fixed module; a run killed after the install left it unfixed) or found present.
  bool patroni_fix = false;
  bool empty() const { return upgrades.empty() && restarts.empty(); }
};

struct UpgradePlan {
  std::vector<NodeUpgrade>
      nodes;  // the order of the run: every other node in inventory order, the leader last
  std::vector<std::string> warnings;
  bool empty() const;
};

// The decision, pure: which packages upgrade where (candidate newer than installed), what each
// node must restart and in which order. patroni is held back where the leader-key fix is not known to
// apply to its candidate (a warning says why): pgha never starts a Patroni without the fix.
UpgradePlan plan_upgrade(const UpgradeInput& in);

// The plan for people: per node, each upgrade "name from -> to (what restarts)", "no upgrades" for
// a node without any, the held ones, then the warnings. "no upgrades" alone when the plan is empty.
std::string format_upgrade_plan(const UpgradePlan& plan);

// The upgrade's side effects on one node. The real one (upgrade_remote.cpp) goes over SSH.
class UpgradeHosts {
 public:
  virtual ~UpgradeHosts() = default;
  // Records on the node the restarts its upgrade will owe, before anything is installed; the next
  // run's observation reads it back (NodeUpgradeInput::owed), so a killed run still restarts them.
  virtual Status mark_owed(const std::string& node, const std::vector<Effect>& restarts) = 0;
  virtual Status clear_owed(const std::string& node) = 0;
  // apt-get install --only-upgrade of exactly these versions; the node's services keep running
  // (their maintainer scripts may not restart them: pgha does, with its gates).
  virtual Status install(const std::string& node, const std::vector<PackageUpgrade>& pkgs) = 0;
  // The leader-key fix on the installed Patroni: "applied", "present" or "absent".
  virtual Result<std::string> apply_patroni_fix(const std::string& node) = 0;
  // The installed versions of `names` (absent: not installed).
  virtual Result<std::map<std::string, std::string>> versions(const std::string& node,
                                                              const std::vector<std::string>& names) = 0;
  virtual Status restart_unit(const std::string& node, const std::string& unit) = 0;
  virtual Status reload_unit(const std::string& node, const std::string& unit) = 0;
  // "" when the unit is active, else what it is.
  virtual std::string unit_problem(const std::string& node, const std::string& unit) = 0;
  // "" when the node's etcd member and every other voting member answer healthy (quorum held), else
  // what is not.
  virtual std::string etcd_problem(const std::string& node) = 0;
  virtual void pause(std::chrono::milliseconds d) = 0;
};

struct UpgradeReport {
  struct Package {
    std::string name, before, after;
  };
  struct Node {
    std::string node;
    std::vector<Package> packages;
    std::vector<std::string> steps;  // "installed 2 packages", "restarted etcd.service", ...
  };
  std::vector<Node> nodes;
  int leader_changes = 0;
};

// Runs the plan node by node, in its order: marks the owed restarts, installs, re-applies the
// leader-key fix where patroni changed, then the restarts, each gated before the next node:
//   etcd: every voting member healthy before, the node's member healthy and quorum held after;
//   patroni: a leader first switches over (the roll's switchover), then Patroni's unit restarts and
//     the member must stream with lag 0 again (the roll's replica gate);
//   postgres: the roll for this one member (a replica restarted and gated; the leader switched over,
//     its demotion restarts PostgreSQL on the new binary, or with opts.primary in_place restarted
//     where it is);
//   haproxy reloaded (its master re-executes the new binary), pgbouncer and keepalived restarted,
//     each gated on the unit being active.
// A leader that would need a switchover while no replica is healthy is refused before its install.
// The first failure stops the run; nothing on later nodes is touched, and the error names the node.
Result<UpgradeReport> run_upgrade(UpgradeHosts& hosts, RollCluster& rc, Progress& progress,
                                  const UpgradePlan& plan, const RollOptions& opts);

struct ClusterView;
// Why the cluster is not fit for a rolling upgrade ("" when it is), from the plan's observation:
// every voting etcd member healthy, Patroni not paused (paused, Patroni's own restart leaves
// PostgreSQL on the old binary and nothing fails over), one leader and every replica streaming on its
// timeline with a known lag (not necessarily 0: under writes it rarely is at the instant of one
// observation; each node's gate waits for lag 0). `etcd_nodes`/`patroni_nodes`: how many nodes carry the
// role.
std::string upgrade_refusal(const ClusterView& view, size_t etcd_nodes, size_t patroni_nodes);

struct EngineContext;
struct NodeHandle;
// The real UpgradeHosts (upgrade_remote.cpp): commands over each node's shell in ctx.nodes.
std::unique_ptr<UpgradeHosts> ssh_upgrade_hosts(EngineContext& ctx);
// One node's observation over its shell: `apt-get update` first when `update`, then `apt-cache
// policy` of node_packages() (a package apt does not list: neither installed nor offered), the
// owed-restart marker, and, when patroni is to upgrade, the leader-key fix tried on its candidate
// (downloaded and unpacked in a scratch directory; nothing else changes).
Result<NodeUpgradeInput> observe_upgrade(NodeHandle& n, const Inventory& inv, bool update);

struct UpDeps;
struct UpgradeOptions {
  bool dry_run = false;
  bool update = true;  // apt-get update on every node first (--no-update: the package lists as they are)
  // How PostgreSQL's restart treats the leader (--primary-restart). Patroni's own restart always
  // hands the leadership over first.
  PrimaryRestart primary = PrimaryRestart::switchover;
};
struct UpgradeOutcome {
  UpgradePlan plan;
  std::optional<UpgradeReport> report;  // unset on a dry run or when nothing was to do
};
// `pgha upgrade`: connects to every node (as `plan` does), refreshes the package lists unless told
// not to, observes each node's pgha packages and the Patroni leader, plans, and unless dry_run runs
// the plan. Refuses (conflict) before any change when a node does not answer or the cluster is not
// healthy (one leader, replicas streaming, every etcd member healthy).
Result<UpgradeOutcome> cluster_upgrade(const Inventory& inv, UpDeps& deps, const UpgradeOptions& opts);

}  // namespace pgha
