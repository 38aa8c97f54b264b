// `pgha up`: converge the cluster to the inventory and print what changed and the endpoints.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/render.hpp"
#include "roles/progress.hpp"

namespace pgha {

int cmd_up(const GlobalOptions& g, const PlanOptions& o) {
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  const Inventory* inv = &c->inv;
  StateDir* state = &c->state;
  if (!o.ca_out.empty() && !inv->tls.enabled) {
    std::cerr
        << "pgha: --ca-out needs tls.enabled: true in the inventory (there is no cluster CA without it)\n";
    return 2;
  }
  auto templates = templates_for(g);
  auto progress = progress_for(g);
  std::vector<std::string> names;
  for (const auto& n : inv->nodes) names.push_back(n.name);
  progress->set_nodes(names);
  UpDeps deps{*c->provider, make_ssh_factory(*state), *templates, *progress, *state, GateTimeouts{}};
  auto report = cluster_up(*inv, deps, o);
  if (!report) {
    FailureSite site = failure_site(report.error());
    progress->node_failed(site.node, site.step, report.error().message);
    progress->finish();
    return report_error(report.error());
  }
  for (const auto& n : names) progress->node_done(n, true);
  progress->finish();
  if (!o.ca_out.empty()) {
    if (auto s = state->copy_cluster_ca(o.ca_out); !s) return report_error(s.error());
    std::cerr << "pgha: the cluster CA certificate is in " << o.ca_out << "\n";
  }
  if (g.output == "json") {
    nlohmann::ordered_json j;  // phases stay in bring-up order
    j["cluster"] = inv->cluster_name;
    j["endpoints"] = {{"write", report->endpoints.write},
                      {"read", report->endpoints.read},
                      {"pooled", report->endpoints.pooled},
                      {"user", report->endpoints.user},
                      {"database", report->endpoints.database}};
    if (inv->tls.enabled) j["endpoints"]["sslrootcert"] = state->tls_dir() + "/cluster-ca.crt";
    j["changes"] = plan_json(Plan{report->changes, {}, {}, false, {}})["changes"];
    j["planned"] = plan_json(Plan{report->planned, {}, {}, false, {}})["changes"];
    j["timings"] = nlohmann::ordered_json::object();
    for (const auto& [phase, s] : report->timings) j["timings"][phase] = s;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cerr << format_timings(report->timings);
  if (report->actions.empty()) {
    std::cout << "no changes: the cluster already matches the inventory\n";
  } else {
    std::cout << report->actions.size() << " changes" << (g.verbose ? ":\n" : " (-v lists each):\n");
    if (g.verbose) {
      for (const auto& a : report->actions) std::cout << "  " << a << "\n";
    } else {
      std::cout << summarize_changes(report->actions);
    }
  }
  std::cout << format_endpoints(*inv, report->endpoints, state->path());
  return 0;
}

}  // namespace pgha
