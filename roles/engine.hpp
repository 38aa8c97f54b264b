// The role engine: brings a set of reachable machines to the inventory's desired state, role by role,
// doing only the difference. Every step first looks at what exists (packages, file hashes, unit
// states, cluster members) and acts only on a mismatch, so any run — first, repeated, or after an
// interrupted one — converges.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/remote_shell.hpp"
#include "core/render.hpp"
#include "providers/provider.hpp"
#include "roles/change.hpp"
#include "roles/patroni_api.hpp"
#include "roles/progress.hpp"

namespace pgha {

struct ClusterView;

// What one round trip per node saw before anything was changed (observe_nodes). The phases read it
// instead of asking again; a phase that changes something a later phase reads updates it.
struct UnitState {
  bool enabled = false;
  bool active = false;
};
// owner:group:mode (mode in octal), as RemoteFile::attrs holds it and `stat -c %U:%G:%a` prints it.
std::string file_attrs_string(const FileAttrs& a);

struct RemoteFile {
  std::string hash;   // sha256 hex, "-" when absent
  std::string attrs;  // owner:group:mode (mode in octal), "-" when absent
};
struct NodeObservation {
  bool valid = false;
  std::string system_state;         // systemctl is-system-running
  bool dpkg_clean = true;           // `dpkg --audit` printed nothing
  std::set<std::string> installed;  // of the packages the node's roles and extensions need
  bool stock_postgres = false;      // Debian's <version>/main cluster exists
  // That stock cluster's databases besides postgres, template0 and template1: their names when it runs
  // ("" entries stand for databases seen only as directories under base/, when it is stopped), and
  // whether its start.conf says `disabled` (an operator's cluster pgha leaves alone).
  std::vector<std::string> stock_databases;
  bool stock_disabled = false;
  bool stock_etcd = false;  // a stock etcd member dir under /var/lib/etcd
  // Patroni's version (patroni/version.py), "" when it is not installed. From 3.0.3 on, Patroni
  // compare-and-sets its etcd3 leader key itself: patroni_fixed is then true without pgha's fix.
  std::string patroni_version;
  bool etcd_data = false;               // the cluster's own etcd member dir exists
  std::string etcd_scheme;              // http | https: what /etc/default/etcd serves; "" without one
  std::set<std::string> stock_running;  // stock haproxy/pgbouncer units running without pgha's config
  bool patroni_fixed = false;           // the etcd3 leader-key fix is in Debian's Patroni module
  bool patroni_stale = false;           // the running Patroni started before its module last changed
  std::map<std::string, RemoteFile> files;
  std::set<std::string> pending;  // markers under kPendingDir
  std::map<std::string, UnitState> units;
  // The pgBackRest repository's cipher as its archive.info shows it (pgbackrest nodes): "none" (an
  // INI text), "aes-256-cbc" (encrypted), "" when the stanza has no archive.info yet.
  std::string repo_cipher;
};

// What `up` does with a Debian stock cluster (<version>/main) that holds databases of its own:
// refuse (the default: its name and databases in the refusal, nothing changed), or adopt
// (--adopt-stock-cluster: stop it, set its start.conf to disabled and keep its data). A stock cluster
// with only postgres and the templates is dropped either way; a disabled one is left alone.
enum class StockCluster { refuse, adopt };

// The stock cluster holds databases and would start with the machine: dropping it would lose them.
inline bool stock_cluster_in_use(const NodeObservation& o) {
  return o.stock_postgres && !o.stock_databases.empty() && !o.stock_disabled;
}
// An operator's stock cluster that pgha leaves alone: it holds databases and is disabled.
inline bool stock_cluster_kept(const NodeObservation& o) {
  return o.stock_postgres && !o.stock_databases.empty() && o.stock_disabled;
}

// Where a node remembers work a run promised but may not have finished: a marker per role whose
// files were rewritten (its units still need a restart or reload) and "systemd" (daemon-reload). A
// marker is written before the file it stands for and removed only after the work is done, so a run
// killed in between leaves the next run knowing what is owed.
constexpr const char* kPendingDir = "/var/lib/pgha/pending";

struct NodeHandle {
  const Node* node = nullptr;
  Machine machine;
  std::unique_ptr<RemoteShell> shell;
  std::vector<RenderedFile> files;  // desired files for this node's roles
  std::set<Role> changed;           // roles whose files this run rewrote
  std::set<Role> applied;           // roles whose units this run already converged
  NodeObservation seen;             // filled by observe_nodes
  bool leaving = false;             // a node that left the inventory (EngineContext::leaving)
  std::vector<Change> actions;      // what this run did here
  // Records a change this run made on this node.
  void did(ChangeKind kind, std::string target, std::string summary) {
    actions.push_back(Change{kind, node->name, std::move(target), std::move(summary)});
  }
};

// How long each gate may take. Defaults suit a loaded 2-core machine.
struct GateTimeouts {
  int boot_s = 180;
  int etcd_s = 120;
  int patroni_s = 240;
  int service_s = 90;
};

struct Plan;

struct EngineContext {
  const Inventory& inv;
  const ResolvedSecrets& secrets;
  Progress& progress;
  std::vector<NodeHandle>& nodes;  // the inventory's nodes
  GateTimeouts timeouts;
  // Nodes of this cluster that left the inventory (their machines still exist); their handles have
  // no files and a shell only when the machine answered.
  std::vector<NodeHandle>* leaving = nullptr;
  // What this run was planned to do (roles/plan.hpp); unset for callers that only converge.
  const Plan* plan = nullptr;
  // Changes that belong to no single node's handle (an orphan etcd member, a stale DCS key).
  std::vector<Change> cluster_actions;
  NodeHandle* leader = nullptr;  // the Patroni leader, once the Patroni gate has seen it
  // A second connection to a node, for a long check that would otherwise hold the node's shared
  // one while the other gates wait (pgBackRest's check, about a second). Unset: the node's own.
  std::function<Result<std::unique_ptr<RemoteShell>>(const NodeHandle&)> open_extra_shell;
};

// Per node in parallel (the plan's observation, and new machines after provision), one round trip
// each: waits until systemd has booted, then reads everything the later phases would ask (packages,
// stock state, the Patroni fix, file hashes, pending markers, unit states, etcd data) into
// NodeHandle::seen. Changes nothing.
Status observe_nodes(std::vector<NodeHandle*>& nodes, const Inventory& inv, Progress& progress,
                     int boot_timeout_s);
// The same for one node; `units` are the systemd units to report on.
Status observe_node(NodeHandle& n, const Inventory& inv, int boot_timeout_s);
// Whether a Patroni of this version ("3.0.2", "4.0.7") compare-and-sets its etcd3 leader key itself
// (3.0.3 and later), so that pgha's fix for Debian 12's 3.0.2 is neither needed nor applied.
bool patroni_has_leader_cas(const std::string& version);
// The observation script's output, one tab-separated fact per line, as a NodeObservation.
NodeObservation parse_observation(const std::string& text);

// The membership steps of a plan (roles/membership.cpp). Each looks at the current state first, so a
// run killed half-way and run again finishes the step instead of repeating it.
// etcd: `member add --learner`, start with the members etcd lists and state "existing", promote.
Status join_etcd_member(EngineContext& ctx, NodeHandle& joiner, NodeHandle& via);
// Nodes that left: Patroni stopped (replicas first; a leader only after a switchover to a member
// that stays), its member key deleted by compare-and-swap, `member remove` while the staying
// members keep quorum, their services stopped. Then orphan members and stale member keys.
Status remove_leaving_members(EngineContext& ctx);
// Before a former leader's Patroni stops: waits until no HAProxy (of the inventory's nodes or the
// leaving ones) sends new write sessions to `member`, i.e. every one that answers has marked it down
// in its `primary` listener (its `/primary` failed HAProxy's check `fall` times). A Patroni stopped
// before that stops answering those checks (they time out instead of failing at once), and HAProxy
// keeps sending new write sessions to a node that refuses them, held by its connection retries:
// seen in e2e.scale, a 4.7 s write gap where a plain switchover of the same cluster had 2.4 s. Writes
// are not at risk either way, so a wait that runs out (the Patroni gate) is reported and not an error.
// Immediate for a member that was not the leader.
void wait_until_no_writes_routed_to(EngineContext& ctx, const std::string& member);

// Phase 1, per node in parallel: systemd up, packages present, Debian's stock postgres 15/main cluster
// and stock etcd member removed (only before pgha's own config is in place), and Patroni's etcd3
// leader-key fix applied (templates/patroni/etcd3_leader_cas.py).
Status prepare_nodes(EngineContext& ctx);
// Phase 2, per node in parallel: every rendered file present with the right content, owner and mode.
// Unchanged files are not rewritten. Fills NodeHandle::changed.
Status sync_files(EngineContext& ctx);
// Phases 3..: etcd quorum, Patroni leader then replicas, users/databases, PgBouncer, HAProxy,
// keepalived, pgBackRest. Each ends at its health gate.
Status converge_etcd(EngineContext& ctx);
// Starts the units of the roles that do not wait for a healthy database (HAProxy, PgBouncer,
// keepalived) so that their own settling (health checks, the VRRP election) overlaps Patroni's
// bootstrap. Their gates run later, in their own phases.
Status start_edge_units(EngineContext& ctx);
Status converge_patroni(EngineContext& ctx);
// The etcd and Patroni health gates, shared by the phases and by a no-op `up`'s check. With `seen`
// (the plan's observation) a cluster that already passes costs no round trip; otherwise each polls
// as the phases do, within the same timeouts. patroni_gate sets `leader`.
std::string etcd_gate_reason(const ClusterView& view, const std::vector<NodeHandle*>& wanted);
Status etcd_gate(EngineContext& ctx, const std::vector<NodeHandle*>& wanted, const ClusterView* seen);
Status patroni_gate(EngineContext& ctx, const std::vector<NodeHandle*>& nodes, const ClusterView* seen,
                    NodeHandle*& leader);
// What `up` does when the plan is empty: every gate of the phases above, in one pass (roles/verify.cpp).
Status verify_cluster(EngineContext& ctx, const ClusterView& seen);
Status converge_sql_objects(EngineContext& ctx);
Status converge_pgbouncer(EngineContext& ctx);
Status converge_haproxy(EngineContext& ctx);
Status converge_keepalived(EngineContext& ctx);
Status converge_pgbackrest(EngineContext& ctx);
// Once Patroni's gate has passed, the rest depend only on it, not on each other: users and databases,
// their extensions, then pgBackRest on one thread, the PgBouncer, HAProxy and VIP gates each on their
// own. Nodes' shells must be safe to share (SerialShell); only the first thread records actions.
Status converge_services(EngineContext& ctx);

// Brings a unit to "enabled and active". When it was already active: restart or reload it only if
// `changed`. Appends what it did to node.actions.
Status ensure_unit(NodeHandle& node, const std::string& step, const std::string& unit, bool changed,
                   bool reload_on_change);

// Forgets a pending-work marker (see roles/files.cpp) once the work it stands for is done.
Status clear_pending(NodeHandle& node, const std::string& marker);

// ensure_unit() for every unit of the role, with the catalog's reload-or-restart choice; "changed" is
// whether this run rewrote any of the role's files on the node.
Status ensure_role_units(NodeHandle& node, Role role);
// The same for several roles of one node at once: from the observation, one round trip in all.
Status ensure_roles_units(NodeHandle& node, const std::vector<Role>& roles);

// The handles of the nodes that carry `role`, in inventory order.
std::vector<NodeHandle*> nodes_with_role(EngineContext& ctx, Role role);
// Runs task on each node on its own thread; every failure is kept (see for_each_parallel).
Status for_each_node(std::vector<NodeHandle*>& nodes, const std::function<Status(NodeHandle&)>& task);

// A curl config (`curl -K -`, on stdin) with Patroni's admin credentials: never on a command line.
std::string patroni_admin_curl_config(const ResolvedSecrets& secrets);

// Patroni's GET /cluster, asked of each Patroni node in turn until one answers; nullopt when none does.
std::optional<PatroniCluster> read_patroni_cluster(EngineContext& ctx);

// The node whose Patroni is the leader, asked through any Patroni node's REST API; nullptr if none.
NodeHandle* find_leader(EngineContext& ctx, std::string* why = nullptr);

// A libpq conninfo naming `database` ('...' with \\ and \' escaped); psql's -d takes it whole, with
// no meta-command lexing between (names hold no control character: validate refuses them).
std::string conninfo_for(const std::string& database);

// CREATE EXTENSION IF NOT EXISTS, on the leader, for each inventory database's extensions that it
// lacks (roles/extensions.cpp); after the users and databases, and after any rolling restart that
// preloads their libraries. Records a pg_extension change for each one it created.
Status converge_extensions(EngineContext& ctx);
// The SQL converge_extensions feeds psql for one database: per extension of the table (other names
// are skipped), a \gexec that runs CREATE EXTENSION IF NOT EXISTS and prints "created <name>" only
// when pg_extension lacks it.
std::string create_extensions_sql(const std::vector<std::string>& names);

// Runs `sql` through psql as the local postgres superuser (peer auth) on `node`. The SQL travels on
// stdin, so passwords inside it never reach a process list.
Result<CommandResult> run_sql(NodeHandle& node, const std::string& step, const std::string& sql,
                              const std::string& database = "postgres");

// Runs a psql query over TCP (host:port) with the superuser password fed on stdin; returns stdout.
Result<CommandResult> query_tcp(NodeHandle& from, const std::string& step, const std::string& host, int port,
                                const std::string& password, const std::string& sql,
                                const std::string& user = "postgres",
                                const std::string& database = "postgres");

}  // namespace pgha
