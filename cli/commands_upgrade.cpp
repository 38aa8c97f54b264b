// `pgha upgrade`: a minor upgrade of pgha's packages, node by node, leader last (roles/upgrade.hpp).
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "roles/upgrade.hpp"

namespace pgha {
namespace {

nlohmann::json upgrade_json(const UpgradeOutcome& o, bool dry_run) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : o.plan.nodes) {
    nlohmann::json j = {{"node", n.node}, {"leader", n.leader}};
    nlohmann::json pkgs = nlohmann::json::array();
    for (const auto& u : n.upgrades)
      pkgs.push_back({{"name", u.name},
                      {"installed", u.from},
                      {"candidate", u.to},
                      {"upgrade", true},
                      {"effect", to_string(u.effect)}});
    for (const auto& h : n.held)
      pkgs.push_back(
          {{"name", h.name}, {"installed", h.from}, {"candidate", h.to}, {"upgrade", false}, {"held", true}});
    for (const auto& c : n.current)
      pkgs.push_back(
          {{"name", c.name}, {"installed", c.installed}, {"candidate", c.candidate}, {"upgrade", false}});
    j["packages"] = pkgs;
    nlohmann::json deps = nlohmann::json::array();
    for (const auto& d : n.dependencies)
      deps.push_back({{"name", d.name}, {"installed", d.from}, {"candidate", d.to}});
    j["dependencies"] = deps;
    nlohmann::json restarts = nlohmann::json::array();
    for (Effect e : n.restarts) restarts.push_back(to_string(e));
    j["restarts"] = restarts;
    if (o.report) {
      for (const auto& r : o.report->nodes) {
        if (r.node != n.node) continue;
        nlohmann::json done = nlohmann::json::array();
        for (const auto& p : r.packages)
          done.push_back({{"name", p.name}, {"before", p.before}, {"after", p.after}});
        j["upgraded"] = done;
        j["steps"] = r.steps;
      }
    }
    nodes.push_back(j);
  }
  nlohmann::json out = {
      {"dry_run", dry_run}, {"upgrades", !o.plan.empty()}, {"nodes", nodes}, {"warnings", o.plan.warnings}};
  if (o.report) out["leader_changes"] = o.report->leader_changes;
  return out;
}

void print_report(const UpgradeReport& r) {
  for (const auto& n : r.nodes) {
    if (n.packages.empty() && n.steps.empty()) continue;
    std::cout << n.node << ":\n";
    for (const auto& p : n.packages)
      std::cout << "  " << p.name << " " << p.before << " -> "
                << (p.after.empty() ? "(not installed)" : p.after) << "\n";
    for (const auto& s : n.steps) std::cout << "  " << s << "\n";
  }
  std::cout << "leader changes: " << r.leader_changes << "\n";
}

}  // namespace

int cmd_upgrade(const GlobalOptions& g, const UpgradeOptions& o) {
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  auto templates = templates_for(g);
  auto progress = progress_for(g);
  UpDeps deps{*c->provider, make_ssh_factory(c->state), *templates, *progress, c->state, GateTimeouts{}};
  auto outcome = cluster_upgrade(c->inv, deps, o);
  progress->finish();
  if (!outcome) return report_error(outcome.error());
  if (g.output == "json") {
    std::cout << upgrade_json(*outcome, o.dry_run).dump(2) << "\n";
    return 0;
  }
  if (!outcome->report) {
    std::cout << format_upgrade_plan(outcome->plan);
    return 0;
  }
  print_report(*outcome->report);
  for (const auto& w : outcome->plan.warnings) std::cout << "warning: " << w << "\n";
  return 0;
}

void register_upgrade_command(CLI::App& app, GlobalOptions& g, std::function<int()>& handler) {
  static UpgradeOptions opts;  // outlives the parse: the handler runs after it
  static bool no_update = false;
  static std::string primary = "switchover";
  CLI::App* u = app.add_subcommand(
      "upgrade", "minor upgrade of pgha's packages from the distribution, node by node, leader last");
  add_common_options(u, g);
  u->add_flag("--dry-run", opts.dry_run,
              "list each node's upgrades (installed -> candidate); change nothing");
  u->add_flag("--no-update", no_update, "skip apt-get update: use the package lists the nodes have");
  u->add_option("--primary-restart", primary,
                "how PostgreSQL's restart treats the leader: switchover (the default) or in-place "
                "(Patroni's own restart always switches over)")
      ->check(CLI::IsMember({"switchover", "in-place"}));
  u->callback([&handler, &g] {
    opts.update = !no_update;
    opts.primary = primary == "in-place" ? PrimaryRestart::in_place : PrimaryRestart::switchover;
    handler = [&g] { return cmd_upgrade(g, opts); };
  });
}

}  // namespace pgha
