#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace pgha {

int run_cli(int argc, char** argv) {
  CLI::App app{"pgha: highly-available PostgreSQL from a declarative inventory"};
  app.require_subcommand(1);
  GlobalOptions g;

  std::string out_dir;
  bool keep_data = false;
  StatusOptions status;
  PlanOptions plan;
  bool keep_removed = false;
  std::string primary_restart = "switchover";
  RestartOptions restart;
  bool restart_rolling = false, restart_pending = false;
  auto add_primary_restart = [&](CLI::App* s) {
    s->add_option("--primary-restart", primary_restart,
                  "how a rolling restart treats the leader: switchover (to a synchronous standby, then "
                  "restart it as a replica) or in-place")
        ->check(CLI::IsMember({"switchover", "in-place"}));
  };
  auto primary = [&] {
    return primary_restart == "in-place" ? PrimaryRestart::in_place : PrimaryRestart::switchover;
  };
  DownOptions down;
  bool adopt_stock = false;
  auto add_adopt = [&](CLI::App* s) {
    s->add_flag("--adopt-stock-cluster", adopt_stock,
                "keep a Debian stock PostgreSQL cluster that holds databases (stopped, disabled) "
                "instead of refusing");
  };
  GuardOptions guard;
  bool guard_dry_run = false;
  std::function<int()> handler;

  // The subcommand table: name, help, handler.
  struct Entry {
    const char* name;
    const char* help;
    std::function<void(CLI::App*)> extra;
    std::function<int()> run;
  };
  std::vector<Entry> table = {
      {"validate", "check an inventory; every problem at once, as FILE:LINE:COL", nullptr,
       [&] { return cmd_validate(g); }},
      {"render", "write every node's rendered config files into a directory",
       [&](CLI::App* s) { s->add_option("--out", out_dir, "output directory")->required(); },
       [&] { return cmd_render(g, out_dir); }},
      {"plan", "show what `up` would change (machines, members, files, units), changing nothing",
       [&](CLI::App* s) {
         s->add_flag("--force", plan.force, "allow a removal that leaves sync mode without a candidate");
         add_primary_restart(s);
         add_adopt(s);
       },
       [&] {
         plan.primary = primary();
         plan.stock = adopt_stock ? StockCluster::adopt : StockCluster::refuse;
         return cmd_plan(g, plan);
       }},
      {"up", "provision the nodes and converge the cluster to the inventory (adding and removing nodes)",
       [&](CLI::App* s) {
         s->add_flag("-v,--verbose", g.verbose, "list every file written and unit touched");
         s->add_flag("--force", plan.force, "allow a removal that leaves sync mode without a candidate");
         s->add_flag("--keep-data", keep_removed, "keep the volumes of nodes removed from the inventory");
         s->add_option(
             "--ca-out", plan.ca_out,
             "with tls.enabled: also write the cluster CA certificate (what clients verify with) here");
         add_primary_restart(s);
         add_adopt(s);
       },
       [&] {
         plan.data = keep_removed ? DataRetention::keep : DataRetention::remove;
         plan.primary = primary();
         plan.stock = adopt_stock ? StockCluster::adopt : StockCluster::refuse;
         return cmd_up(g, plan);
       }},
      {"restart", "restart PostgreSQL member by member, leader last (replicas gated on streaming with lag 0)",
       [&](CLI::App* s) {
         s->add_option("--node", restart.node, "restart only this node's PostgreSQL");
         s->add_flag("--rolling", restart_rolling, "every member, one at a time, leader last (the default)");
         s->add_flag("--pending", restart_pending, "only the members with a pending restart");
         add_primary_restart(s);
       },
       [&] {
         restart.scope = restart_pending ? RollScope::pending : RollScope::all;
         restart.primary = primary();
         return cmd_restart(g, restart);
       }},
      {"down", "remove every resource of the cluster (static hosts: only pgha's services and files)",
       [&](CLI::App* s) {
         s->add_flag("--keep-data", keep_data, "keep the data volumes");
         s->add_flag("--purge", down.purge, "static hosts: remove the data directories too");
       },
       [&] {
         down.data = keep_data ? DataRetention::keep : DataRetention::remove;
         return cmd_down(g, down);
       }},
      {"status", "the verdict (healthy, degraded, down) and why; members with lag, etcd, HAProxy, VIP",
       [&](CLI::App* s) {
         s->add_flag("-w,--watch", status.watch, "refresh every second until Ctrl-C");
         s->add_option("--count", status.count, "with --watch: stop after N snapshots")
             ->check(CLI::PositiveNumber);
       },
       [&] { return cmd_status(g, status); }},
      {"guard", "watch the leader; fence a dead one through the provider and release its leader key",
       [&](CLI::App* s) { s->add_flag("--dry-run", guard_dry_run, "observe and print what it would do"); },
       [&] {
         guard.mode = guard_dry_run ? guard::Mode::dry_run : guard::Mode::act;
         return cmd_guard(g, guard);
       }},
  };
  for (auto& e : table) {
    CLI::App* sub = app.add_subcommand(e.name, e.help);
    add_common_options(sub, g);
    if (e.extra) e.extra(sub);
    sub->callback([&handler, run = e.run] { handler = run; });
  }
  register_extra_commands(app, g, handler);
  register_backup_commands(app, g, handler);
  register_upgrade_command(app, g, handler);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (!handler) return 2;
  try {
    return handler();
  } catch (const std::exception& e) {
    std::cerr << "pgha: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace pgha
