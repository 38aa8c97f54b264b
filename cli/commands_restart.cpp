// `pgha restart`: PostgreSQL restarted through the rolling mechanism `up` uses (roles/rolling.hpp).
#include <iostream>

#include "cli/commands.hpp"
#include "roles/rolling.hpp"

namespace pgha {

int cmd_restart(const GlobalOptions& g, const RestartOptions& o) {
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  if (!o.node.empty() && !c->inv.find_node(o.node)) {
    std::cerr << "pgha: restart: --node " << o.node << " is not a node of " << c->inv.source_name << "\n";
    return 2;
  }
  auto templates = templates_for(g);
  auto progress = progress_for(g);
  UpDeps deps{*c->provider, make_ssh_factory(c->state), *templates, *progress, c->state, GateTimeouts{}};
  RollOptions ro;
  ro.primary = o.primary;
  ro.scope = o.scope;
  ro.only_node = o.node;
  auto report = cluster_restart(c->inv, deps, ro);
  progress->finish();
  if (!report) return report_error(report.error());
  if (report->steps.empty()) std::cout << "nothing to restart\n";
  for (const auto& s : report->steps) std::cout << s << "\n";
  return 0;
}

}  // namespace pgha
