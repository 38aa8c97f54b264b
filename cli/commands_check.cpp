// `pgha check failover` and `pgha switchover`: connect to the running cluster, run the cycles, print
// the report (text or JSON, optionally JUnit and an SVG timeline to files), exit 1 when any guarantee
// failed.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "cli/app.hpp"
#include "cli/commands.hpp"
#include "guard/guard_runner.hpp"
#include "roles/failover/check_run.hpp"
#include "roles/failover/faults.hpp"
#include "roles/failover/timeline_svg.hpp"

namespace pgha {
namespace {

struct CheckArgs {
  std::string fault = "kill-node";
  std::string to;
  int runs = 1;
  double max_rto_s = 0;
  bool direct = false;
  bool guard = false;  // --guard: a guard runs beside each cycle
  std::string junit;
  std::string report_svg;  // --report-svg: the runs' timelines, one panel per run
  int probe_interval_ms = 100;
  int probe_timeout_ms = 2000;
  int heal_timeout_s = 300;
};

int run_check(const GlobalOptions& g, const CheckArgs& a, bool switchover) {
  if (!switchover && !fault_from_string(a.fault)) {
    std::cerr << "pgha: error: unknown fault '" << a.fault << "'\n";
    return 2;
  }
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  const Inventory* inv = &c->inv;
  if (switchover && !a.to.empty() && !inv->find_node(a.to)) {
    std::cerr << "pgha: error: --to " << a.to << ": no such node in " << g.inventory << "\n";
    return 2;
  }
  StateDir* state = &c->state;
  auto secrets = state->resolve_secrets(*inv);
  if (!secrets) return report_error(secrets.error());
  auto* provider = &c->provider;
  auto progress = progress_for(g);

  // Shells only for the faults that act inside a node; connected on first use.
  std::map<std::string, std::unique_ptr<RemoteShell>> shells;
  ShellFactory factory = make_ssh_factory(*state);
  std::vector<Machine> machines;
  ShellLookup lookup = [&](const std::string& node) -> RemoteShell* {
    if (auto it = shells.find(node); it != shells.end()) return it->second.get();
    if (machines.empty()) {
      auto m = (*provider)->list(*inv);
      if (!m) return nullptr;
      machines = std::move(m.value());
    }
    for (const auto& m : machines) {
      if (m.node != node) continue;
      auto sh = factory(m);
      if (!sh) return nullptr;
      return (shells[node] = std::move(sh.value())).get();
    }
    return nullptr;
  };

  CheckOptions o;
  if (!switchover) o.fault = fault_from_string(a.fault);
  o.switchover_to = a.to;
  o.runs = a.runs;
  o.direct = a.direct;
  o.probe.interval = std::chrono::milliseconds(a.probe_interval_ms);
  o.probe.timeout = std::chrono::milliseconds(a.probe_timeout_ms);
  o.heal_timeout = std::chrono::seconds(a.heal_timeout_s);
  std::unique_ptr<FaultInjector> injector;
  if (o.fault) injector = make_fault_injector(*o.fault, **provider, *inv, lookup);
  if (injector && !injector->approximation().empty()) progress->warn(injector->approximation());
  CheckDeps deps{*inv, *secrets, injector.get(), *progress};
  // The guard gets a provider of its own: a provider's transport is not shared between threads.
  std::unique_ptr<Provider> guard_provider;
  std::unique_ptr<guard::GuardThread> guard;
  if (a.guard) {
    auto p = make_provider(*inv);
    if (!p) return report_error(p.error());
    guard_provider = std::move(p.value());
    guard::Settings gs = guard::settings_for(*inv, guard_provider->fence_support(), guard::Mode::act);
    Progress* pr = progress.get();
    guard = std::make_unique<guard::GuardThread>(
        guard::ClusterSeams{*inv, secrets->superuser_password, *guard_provider, guard_ssh_factory(*state),
                            state->path(), secrets->tls.client},
        gs, [pr](const guard::Event& e) {
          if (e.event != "observed") pr->info("guard: " + guard::event_json(e));
        });
    deps.guard = guard.get();
  }
  auto runs = run_failover_check(deps, o);
  if (!runs) return report_error(runs.error());

  ReportHeader h{switchover ? "switchover" : "check failover", inv->cluster_name, inv->timing.profile,
                 inv->replication.mode == ReplicationMode::sync_mode ? "sync" : "async"};
  if (injector) h.fault_note = injector->approximation();
  Limits limits{a.max_rto_s, inv->replication.mode == ReplicationMode::sync_mode};
  if (g.output == "json") {
    std::cout << report_json(h, *runs, limits).dump(2) << "\n";
  } else {
    std::cout << format_report_text(h, *runs, limits);
  }
  if (!a.junit.empty()) {
    std::ofstream out(a.junit, std::ios::binary | std::ios::trunc);
    out << report_junit(h, *runs, limits);
    if (!out) return report_error(Error(ErrorKind::io, "cannot write " + a.junit));
  }
  if (!a.report_svg.empty()) {
    std::ofstream out(a.report_svg, std::ios::binary | std::ios::trunc);
    out << timeline_svg(h, *runs);
    if (!out) return report_error(Error(ErrorKind::io, "cannot write " + a.report_svg));
  }
  return all_pass(*runs, limits) ? 0 : 1;
}

void add_report_options(CLI::App* sub, CheckArgs& a) {
  sub->add_option("--runs", a.runs, "repeat the cycle N times; min/median/max are reported")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  sub->add_option("--max-rto", a.max_rto_s,
                  "fail when the RTO through the load balancer exceeds this (seconds)");
  sub->add_option("--junit", a.junit, "also write a JUnit XML report to FILE");
  sub->add_option(
      "--report-svg", a.report_svg,
      "also write the timeline to FILE as a self-contained SVG: per run (one panel each, stacked), "
      "the acknowledged writes of each probe path, each node's role, and the fault, detection, "
      "fence, key release, promotion, first write, lift and rejoin");
  sub->add_flag("--direct", a.direct, "also probe the leader's postgres directly (the no-HAProxy floor)");
  sub->add_flag("--guard", a.guard,
                "run a guard (pgha guard) beside each cycle; the RTO splits into detection, fence, release, "
                "promotion and routing");
  sub->add_option("--probe-interval-ms", a.probe_interval_ms, "one probe write this often")
      ->check(CLI::Range(10, 5000))
      ->capture_default_str();
  sub->add_option("--probe-timeout-ms", a.probe_timeout_ms, "give up on a connect or write after this long")
      ->check(CLI::Range(100, 60000))
      ->capture_default_str();
  sub->add_option("--heal-timeout", a.heal_timeout_s, "seconds to wait for the rejoin and a healthy cluster")
      ->check(CLI::Range(10, 3600))
      ->capture_default_str();
}

}  // namespace

void register_extra_commands(CLI::App& app, GlobalOptions& g, std::function<int()>& handler) {
  static CheckArgs args;  // outlives the parse: the handler runs after it
  CLI::App* check = app.add_subcommand("check", "prove properties of a running cluster");
  check->require_subcommand(1);
  CLI::App* failover = check->add_subcommand(
      "failover", "inject a fault on the primary; measure RTO, lost writes, split brain and rejoin");
  add_common_options(failover, g);
  add_report_options(failover, args);
  failover->add_option("--fault", args.fault, "kill-node | stop-postgres | stop-patroni | partition | freeze")
      ->check(CLI::IsMember(fault_names()))
      ->capture_default_str();
  failover->callback([&handler, &g] { handler = [&g] { return run_check(g, args, false); }; });

  CLI::App* restore = check->add_subcommand(
      "restore",
      "restore drill: the latest backup restored on a replica, the whole archive replayed, removed");
  add_common_options(restore, g);
  restore->callback([&handler, &g] { handler = [&g] { return cmd_check_restore(g); }; });

  CLI::App* sw = app.add_subcommand("switchover",
                                    "planned switchover through Patroni's REST API; measures the write gap");
  add_common_options(sw, g);
  add_report_options(sw, args);
  sw->add_option("--to", args.to, "the node to promote (default: Patroni's choice)");
  sw->callback([&handler, &g] { handler = [&g] { return run_check(g, args, true); }; });
}

}  // namespace pgha
