// `pgha plan`: what `up` would do, observed and computed the same way, changing nothing on the nodes.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/render.hpp"
#include "net/ssh_shell.hpp"
#include "roles/progress.hpp"

namespace pgha {
namespace {

// A unified diff of each changed, non-secret file against what the node has: `diff` runs on the
// node with the planned content on stdin, so nothing is written anywhere.
std::map<std::string, std::string> file_diffs(ClusterSession& cs) {
  std::map<std::string, std::string> out;
  for (const auto& c : cs.plan.changes) {
    if (c.kind != ChangeKind::write_file || c.secret) continue;
    for (auto& n : cs.nodes) {
      if (n.node->name != c.node || !n.shell) continue;
      for (const auto& f : n.files) {
        if (f.path != c.target) continue;
        auto r = n.shell->run("diff -u --label " + shell_quote(f.path + " (now)") + " --label " +
                                  shell_quote(f.path + " (planned)") + " -- " + shell_quote(f.path) +
                                  " - 2>/dev/null; true",
                              f.content);
        if (r && !r->out.empty()) out[change_key(c)] = r->out;
      }
    }
  }
  return out;
}

// How each machine to create will be made (the provider may ask its API, read-only). A provider
// that cannot tell (its template or storage is wrong, its API does not answer) makes a warning:
// the plan stands, and `up` stops at the same check before its first change.
void describe_routes(Provider& provider, const Inventory& inv, Plan& plan) {
  std::vector<std::string> nodes;
  for (const auto& c : plan.changes) {
    if (c.kind == ChangeKind::create_machine) nodes.push_back(c.node);
  }
  if (nodes.empty()) return;
  auto routes = provider.creation_routes(inv, nodes, RouteSource::provider);
  if (routes) {
    plan.routes = std::move(*routes);
  } else {
    plan.warnings.push_back("how the machines will be made is unknown: " + routes.error().describe());
  }
}

}  // namespace

int cmd_plan(const GlobalOptions& g, const PlanOptions& o) {
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  auto templates = templates_for(g);
  GlobalOptions quiet = g;
  quiet.quiet = quiet.quiet || g.output == "json";
  auto progress = progress_for(quiet);
  UpDeps deps{*c->provider,  make_ssh_factory(c->state, 30000), *templates, *progress, c->state,
              GateTimeouts{}};
  auto session = plan_cluster(c->inv, deps, o);
  progress->finish();
  if (!session) return report_error(session.error());
  Plan& plan = (*session)->plan;
  describe_routes(*c->provider, c->inv, plan);
  if (g.output == "json") {
    std::cout << plan_json(plan).dump(2) << "\n";
  } else {
    std::cout << format_plan(plan, file_diffs(**session));
  }
  if (!plan.violations.empty()) {
    for (const auto& v : plan.violations) std::cerr << "pgha: plan: refused, safety rule: " << v << "\n";
    return 2;
  }
  return 0;
}

}  // namespace pgha
