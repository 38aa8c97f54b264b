// Observes the cluster as a whole (etcd's members, Patroni's members and keys, the dynamic
// configuration, the leader's users and databases) through whichever node answers. Changes nothing.
#include "roles/cluster_view.hpp"

#include <sstream>

#include "roles/remote.hpp"

namespace pgha {
namespace {

// Splits a command's output at the lines "@@" that separate its sections.
std::vector<std::string> sections(const std::string& out) {
  std::vector<std::string> parts(1);
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line == "@@") {
      parts.emplace_back();
    } else {
      parts.back() += line + "\n";
    }
  }
  return parts;
}

}  // namespace

std::string etcdctl(const Inventory& inv, const Node& at) {
  return "ETCDCTL_API=3 etcdctl --endpoints=http://" + at.address + ":" +
         std::to_string(inv.ports.etcd_client) + " --command-timeout=3s";
}

bool read_etcd_view(const Inventory& inv, NodeHandle& n, ClusterView& view) {
  const std::string e = etcdctl(inv, *n.node);
  const std::string prefix = "/service/" + inv.cluster_name + "/members/";
  auto r = n.shell->run(e + " member list -w json || exit 1; echo @@; " + e +
                        " endpoint health --cluster -w json 2>/dev/null; echo @@; " + e + " get --prefix " +
                        shell_quote(prefix) + " --keys-only -w json; true");
  if (!r || r->exit_code != 0) return false;
  auto parts = sections(r->out);
  auto members = parse_etcd_members(parts[0]);
  if (!members) return false;
  view.etcd = std::move(members.value());
  view.etcd_answered = true;
  if (parts.size() > 1) {
    auto healthy = parse_etcd_health(parts[1]);
    for (auto& m : view.etcd) m.healthy = !m.client_url.empty() && healthy.count(m.client_url);
  }
  if (parts.size() > 2) view.member_keys = parse_dcs_keys(parts[2], prefix);
  return true;
}

ClusterView observe_cluster(const Inventory& inv, const std::vector<NodeHandle*>& nodes) {
  ClusterView view;
  for (NodeHandle* n : nodes) {
    if (!n->shell || !has_role(*n->node, Role::etcd)) continue;
    if (read_etcd_view(inv, *n, view)) break;
  }
  NodeHandle* leader = nullptr;
  for (NodeHandle* n : nodes) {
    if (!n->shell || !has_role(*n->node, Role::patroni)) continue;
    auto r = n->shell->run("curl -s -f --max-time 3 " + patroni_url(inv, *n->node, "/cluster"));
    if (!r || r->exit_code != 0) continue;
    auto c = parse_patroni_cluster(r->out);
    if (!c) continue;
    view.patroni = std::move(c.value());
    break;
  }
  if (view.patroni && view.patroni->leader()) {
    for (NodeHandle* n : nodes) {
      if (n->shell && n->node->name == view.patroni->leader()->name) leader = n;
    }
  }
  if (leader) {
    auto cfg = leader->shell->run("curl -s -f --max-time 3 " + patroni_url(inv, *leader->node, "/config"));
    if (cfg && cfg->exit_code == 0) {
      auto j = nlohmann::json::parse(cfg->out, nullptr, false);
      if (j.is_object()) view.dcs_config = std::move(j);
    }
    auto q = run_sql(*leader, "observe:sql",
                     "SELECT 'r' || chr(9) || rolname FROM pg_roles UNION ALL "
                     "SELECT 'd' || chr(9) || datname FROM pg_database;");
    if (q && q->exit_code == 0) {
      view.sql_known = true;
      std::istringstream in(q->out);
      std::string line;
      while (std::getline(in, line)) {
        auto t = line.find('\t');
        if (t == std::string::npos) continue;
        (line[0] == 'r' ? view.sql_roles : view.sql_databases).insert(line.substr(t + 1));
      }
    }
  }
  return view;
}

}  // namespace pgha
