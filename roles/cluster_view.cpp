// Observes the cluster as a whole (etcd's members, Patroni's members and keys, the dynamic
// configuration, the leader's users, databases and their extensions) through whichever node answers.
// Changes nothing.
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
      std::string& done = parts.back();
      if (done.size() >= 2 && done.compare(done.size() - 2, 2, "\n\n") == 0) done.pop_back();
      if (done == "\n") done.clear();
      parts.emplace_back();
    } else {
      parts.back() += line + "\n";
    }
  }
  return parts;
}

}  // namespace

std::string etcdctl(const Inventory& inv, const Node& at) {
  const Reach ep(inv);
  return ep.etcdctl(ep.etcd_client_url(at.address)) + " --command-timeout=3s";
}

namespace {

// One command that runs `parts` side by side on the node and prints their outputs in order, each
// section after a line "@@". It fails (exit 1) when the first part fails.
std::string side_by_side(const std::vector<std::string>& parts) {
  // A background job's stdin is /dev/null unless redirected: the first part gets the command's.
  std::string s =
      "exec 3<&0; d=$(mktemp -d) || exit 1; { " + parts[0] + "; } <&3 >$d/0 2>/dev/null & p0=$!; ";
  for (size_t i = 1; i < parts.size(); ++i)
    s += "{ " + parts[i] + "; } >$d/" + std::to_string(i) + " 2>/dev/null & ";
  s += "wait $p0; rc=$?; wait; cat $d/0";
  // The separator starts with a newline of its own: a part's output need not end with one (curl's
  // JSON does not); sections() drops the empty line this leaves after one that does.
  for (size_t i = 1; i < parts.size(); ++i) s += "; printf '\\n@@\\n'; cat $d/" + std::to_string(i);
  return s + "; rm -rf $d; exit $rc";
}

// etcd's part of the view from one command's sections: members, health, member keys.
bool parse_etcd_view(const Inventory& inv, const std::vector<std::string>& parts, ClusterView& view) {
  auto members = parse_etcd_members(parts[0]);
  if (!members) return false;
  view.etcd = std::move(members.value());
  view.etcd_answered = true;
  if (parts.size() > 1) {
    auto healthy = parse_etcd_health(parts[1]);
    for (auto& m : view.etcd) m.healthy = !m.client_url.empty() && healthy.count(m.client_url);
  }
  if (parts.size() > 2)
    view.member_keys = parse_dcs_keys(parts[2], "/service/" + inv.cluster_name + "/members/");
  return true;
}

std::vector<std::string> etcd_questions(const Inventory& inv, const Node& at) {
  const std::string e = etcdctl(inv, at);
  return {e + " member list -w json", e + " endpoint health --cluster -w json",
          e + " get --prefix " + shell_quote("/service/" + inv.cluster_name + "/members/") +
              " --keys-only -w json"};
}

}  // namespace

bool read_etcd_view(const Inventory& inv, NodeHandle& n, ClusterView& view) {
  auto r = n.shell->run(side_by_side(etcd_questions(inv, *n.node)));
  if (!r || r->exit_code != 0) return false;
  return parse_etcd_view(inv, sections(r->out), view);
}

ClusterView observe_cluster(const Inventory& inv, const std::vector<NodeHandle*>& nodes) {
  ClusterView view;
  // etcd's three questions and Patroni's /cluster, side by side on the first node that answers.
  for (NodeHandle* n : nodes) {
    if (!n->shell || !has_role(*n->node, Role::etcd)) continue;
    auto questions = etcd_questions(inv, *n->node);
    if (has_role(*n->node, Role::patroni))
      questions.push_back("curl -s -f --max-time 3 " + Reach(inv).patroni_curl(n->node->address, "/cluster"));
    auto r = n->shell->run(side_by_side(questions));
    if (!r || r->exit_code != 0) continue;
    auto parts = sections(r->out);
    if (!parse_etcd_view(inv, parts, view)) continue;
    if (parts.size() > 3) {
      if (auto c = parse_patroni_cluster(parts[3])) view.patroni = std::move(c.value());
    }
    break;
  }
  if (!view.patroni) {
    for (NodeHandle* n : nodes) {
      if (!n->shell || !has_role(*n->node, Role::patroni)) continue;
      auto r =
          n->shell->run("curl -s -f --max-time 3 " + Reach(inv).patroni_curl(n->node->address, "/cluster"));
      if (!r || r->exit_code != 0) continue;
      auto c = parse_patroni_cluster(r->out);
      if (!c) continue;
      view.patroni = std::move(c.value());
      break;
    }
  }
  NodeHandle* leader = nullptr;
  if (view.patroni && view.patroni->leader()) {
    for (NodeHandle* n : nodes) {
      if (n->shell && n->node->name == view.patroni->leader()->name) leader = n;
    }
  }
  if (!leader) return view;
  // The leader's users, databases and streaming replicas (psql, SQL on stdin), and its /config.
  const std::string sql =
      "SELECT 'r' || chr(9) || rolname FROM pg_roles UNION ALL "
      "SELECT 'd' || chr(9) || datname FROM pg_database UNION ALL "
      "SELECT 's' || chr(9) || application_name FROM pg_stat_replication WHERE state = 'streaming';";
  std::vector<std::string> parts_run = {
      "runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -tA -d postgres -f -",
      "curl -s -f --max-time 3 " + Reach(inv).patroni_curl(leader->node->address, "/config") + " </dev/null"};
  // Each inventory database's extensions, one psql each (a database that does not exist yet prints
  // nothing); the name reaches psql as one shell-quoted conninfo, the SQL is constant.
  if (!inv.databases.empty()) {
    std::string ext;
    for (const auto& d : inv.databases)
      ext += "runuser -u postgres -- psql -X -q -tA -d " + shell_quote(conninfo_for(d.name)) + " -c " +
             shell_quote("SELECT current_database() || chr(9) || extname FROM pg_extension") +
             " </dev/null; ";
    parts_run.push_back(ext + "true");
  }
  auto r = leader->shell->run(side_by_side(parts_run), sql);
  if (!r) return view;
  auto parts = sections(r->out);
  if (parts.size() > 1) {
    auto j = nlohmann::json::parse(parts[1], nullptr, false);
    if (j.is_object()) view.dcs_config = std::move(j);
  }
  if (r->exit_code != 0) return view;
  if (parts.size() > 2) {
    std::istringstream ext(parts[2]);
    for (std::string line; std::getline(ext, line);) {
      auto t = line.find('\t');
      if (t != std::string::npos) view.sql_extensions[line.substr(0, t)].insert(line.substr(t + 1));
    }
  }
  view.sql_known = true;
  view.streaming.emplace();
  std::istringstream in(parts[0]);
  for (std::string line; std::getline(in, line);) {
    auto t = line.find('\t');
    if (t == std::string::npos) continue;
    (line[0] == 'r'   ? view.sql_roles
     : line[0] == 'd' ? view.sql_databases
                      : *view.streaming)
        .insert(line.substr(t + 1));
  }
  return view;
}

}  // namespace pgha
