// The subcommands' handlers. Each returns the process exit code: 0 ok, 1 failure, 2 invalid input.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "guard/decide.hpp"
#include "providers/provider.hpp"
#include "roles/cluster_ops.hpp"
#include "roles/progress.hpp"
#include "roles/rolling.hpp"
#include "roles/state.hpp"

namespace CLI {
class App;
}

namespace pgha {

struct GlobalOptions {
  std::string inventory = "inventories/docker-local.yml";
  std::string instances;  // --instances FILE: its map replaces the inventory's nodes ("" = none)
  std::string state_root = ".pgha";
  std::string templates_dir;    // "" = the templates compiled in
  std::string output = "text";  // text | json
  bool quiet = false;
  bool verbose = false;  // up: every node message live, and every change listed at the end
};

// -i, --state-dir, --templates, -o, -q on a subcommand.
void add_common_options(CLI::App* sub, GlobalOptions& g);

// Parses and validates the inventory; prints every diagnostic to stderr. nullopt on any error.
std::optional<Inventory> load_inventory(const GlobalOptions& g);

// What every cluster command starts from: the valid inventory, its state directory, its provider.
struct ClusterHandles {
  Inventory inv;
  StateDir state;
  std::unique_ptr<Provider> provider;
};
// nullopt once the reason is printed; *exit_code is then 2 (invalid inventory) or 1.
std::optional<ClusterHandles> open_cluster(const GlobalOptions& g, int* exit_code);

// The templates compiled in, or --templates DIR.
std::unique_ptr<TemplateSource> templates_for(const GlobalOptions& g);

// Progress on stderr: none with -q, per-node lines on a terminal, timestamped lines otherwise.
std::unique_ptr<Progress> progress_for(const GlobalOptions& g);

// Prints "pgha: <context>: <message>" to stderr; returns 2 for bad_input, 1 otherwise.
int report_error(const Error& e);

// The SSH shell factory for a cluster: its key and known_hosts from the state directory.
// The default connect timeout lets a fresh VM or container boot sshd.
ShellFactory make_ssh_factory(const StateDir& state, int connect_timeout_ms = 180000);

int cmd_validate(const GlobalOptions& g);
int cmd_render(const GlobalOptions& g, const std::string& out_dir);
int cmd_up(const GlobalOptions& g, const PlanOptions& o);
// Defined in cli/commands_plan.cpp: observes and prints the plan; changes nothing.
int cmd_plan(const GlobalOptions& g, const PlanOptions& o);
// `down`: Docker and Proxmox remove the cluster's machines (data too unless --keep-data); on static
// hosts, which pgha borrows, only pgha's services and files go (data directories too with --purge).
struct DownOptions {
  DataRetention data = DataRetention::remove;  // owned machines' volumes
  bool purge = false;                          // borrowed hosts' data directories
};
int cmd_down(const GlobalOptions& g, const DownOptions& o);
struct RestartOptions {
  std::string node;                                     // --node: only this member
  RollScope scope = RollScope::all;                     // --pending: only members with a pending restart
  PrimaryRestart primary = PrimaryRestart::switchover;  // --primary-restart
};
// Defined in cli/commands_restart.cpp.
int cmd_restart(const GlobalOptions& g, const RestartOptions& o);
struct StatusOptions {
  bool watch = false;  // a snapshot every second until SIGINT
  int count = 0;       // with watch: stop after this many snapshots (0 = never)
};
// Defined in cli/commands_status.cpp.
int cmd_status(const GlobalOptions& g, const StatusOptions& o);

// `backup`, `backup list` and `restore` (cli/commands_backup.cpp): their options and handlers.
void register_backup_commands(CLI::App& app, GlobalOptions& g, std::function<int()>& handler);
// `check restore` (cli/commands_backup.cpp): the restore drill (roles/restore_drill.hpp); 0 pass,
// 1 the restore is not sound ("check restore FAILED") or the drill could not run ("error"), 2 a bad
// inventory.
int cmd_check_restore(const GlobalOptions& g);

// `upgrade` (cli/commands_upgrade.cpp): its options and handler.
void register_upgrade_command(CLI::App& app, GlobalOptions& g, std::function<int()>& handler);

struct GuardOptions {
  guard::Mode mode = guard::Mode::act;  // --dry-run: observe and say what it would do
};
// Defined in cli/commands_guard.cpp: runs until SIGINT/SIGTERM.
int cmd_guard(const GlobalOptions& g, const GuardOptions& o);
// SSH to the replicas for a guard: a short connect and a bounded command.
ShellFactory guard_ssh_factory(const StateDir& state);

}  // namespace pgha
