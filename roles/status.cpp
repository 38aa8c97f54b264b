#include "roles/status.hpp"

#include <algorithm>
#include <sstream>

#include "roles/parallel.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

// One round trip per node reads everything that node can tell, each part after an "@@name" line:
// Patroni's /cluster, etcd's health of every member, HAProxy's stats CSV, whether it holds the VIP,
// and its pg_stat_replication (rows only on the leader). A part that fails prints nothing. The stats
// page listens on the node's own address and needs the admin password: curl reads it as a config
// (`user = "admin:..."`) from the command's stdin, kept on fd 3 so that nothing else consumes it.
std::string probe_command(const Inventory& inv, const Node& node) {
  const Reach ep(inv);
  std::string cmd = "exec 3<&0 </dev/null\n";
  if (has_role(node, Role::patroni)) {
    cmd += "echo @@patroni; curl -s --max-time 3 " + ep.patroni_curl(node.address, "/cluster") + "; echo\n";
    cmd +=
        "echo @@replication; PGCONNECT_TIMEOUT=3 timeout 5 runuser -u postgres -- psql -X -q -tA -c "
        "\"SELECT application_name, COALESCE(EXTRACT(epoch FROM replay_lag)::text, 'null') FROM "
        "pg_stat_replication\" 2>/dev/null\n";
  }
  if (has_role(node, Role::etcd)) {
    cmd += "echo @@etcd; " + ep.etcdctl(ep.etcd_client_url("127.0.0.1")) +
           " --command-timeout=3s endpoint health --cluster -w json 2>/dev/null; echo\n";
  }
  if (has_role(node, Role::haproxy)) {
    cmd += "echo @@haproxy; curl -s --max-time 3 -K - " + ep.haproxy_stats_curl(node.address) + " <&3\n";
  }
  if (has_role(node, Role::keepalived) && !inv.network.vip.empty()) {
    cmd += "echo @@vip; ip -o -4 addr show | grep -qF ' " + inv.network.vip + "/' && echo holds\n";
  }
  cmd += backup_probe_part(inv, node);
  return cmd + "true\n";
}

std::map<std::string, std::string> split_parts(const std::string& out) {
  std::map<std::string, std::string> parts;
  std::istringstream in(out);
  std::string line;
  std::string* current = nullptr;
  while (std::getline(in, line)) {
    if (line.rfind("@@", 0) == 0) {
      current = &parts[line.substr(2)];
    } else if (current) {
      *current += line + "\n";
    }
  }
  return parts;
}

std::map<std::string, std::optional<double>> parse_replication(const std::string& rows) {
  std::map<std::string, std::optional<double>> out;
  std::istringstream in(rows);
  std::string line;
  while (std::getline(in, line)) {
    auto bar = line.rfind('|');
    if (bar == std::string::npos) continue;
    std::string value = line.substr(bar + 1);
    std::optional<double> seconds;
    if (value != "null") {
      try {
        seconds = std::stod(value);
      } catch (const std::exception&) {
      }
    }
    out[line.substr(0, bar)] = seconds;
  }
  return out;
}

// Folds the nodes' parts (inventory order) into one status: the first node that answers for the
// cluster-wide facts (Patroni's member table, etcd's health) speaks for the cluster.
void absorb(const std::vector<std::pair<const Node*, std::map<std::string, std::string>>>& reports,
            ClusterStatus& s) {
  bool have_patroni = false;
  bool have_etcd = false;
  for (const auto& [node, parts] : reports) {
    auto part = [&](const char* name) -> const std::string* {
      auto it = parts.find(name);
      return it == parts.end() ? nullptr : &it->second;
    };
    if (const std::string* p = part("patroni"); p && !have_patroni) {
      if (auto c = parse_patroni_cluster(*p)) {
        s.patroni = std::move(c.value());
        have_patroni = true;
      }
    }
    if (const std::string* p = part("etcd"); p && !have_etcd) {
      auto j = nlohmann::json::parse(*p, nullptr, false);
      if (j.is_array()) {
        for (const auto& e : j)
          s.etcd.push_back({e.value("endpoint", ""), e.value("health", false), e.value("error", "")});
        // etcdctl lists them in the order they answered.
        std::sort(s.etcd.begin(), s.etcd.end(), [](const EtcdMemberHealth& a, const EtcdMemberHealth& b) {
          return a.endpoint < b.endpoint;
        });
        have_etcd = true;
      }
    }
    if (const std::string* p = part("haproxy")) {
      auto rows = parse_haproxy_csv(node->name, *p);
      if (rows.empty()) s.haproxy_silent.push_back(node->name);
      s.backends.insert(s.backends.end(), rows.begin(), rows.end());
    }
    if (const std::string* p = part("vip"); p && trim(*p) == "holds") s.vip_holders.push_back(node->name);
    absorb_backup(node->name, part("backup-units"), part("backup"), s.expected.cluster, s.backup);
  }
  if (!have_patroni) s.patroni_error = "no Patroni REST API answered";
  if (const PatroniMember* leader = s.patroni.leader()) {
    for (const auto& [node, parts] : reports) {
      auto it = parts.find("replication");
      if (node->name == leader->name && it != parts.end()) s.replay_lag = parse_replication(it->second);
    }
  }
}

}  // namespace

StatusExpectations expectations_of(const Inventory& inv) {
  StatusExpectations e;
  e.cluster = inv.cluster_name;
  for (const auto& n : inv.nodes) {
    e.addresses[n.name] = n.address;
    if (has_role(n, Role::patroni)) e.patroni_nodes.push_back(n.name);
    if (has_role(n, Role::haproxy)) e.haproxy_nodes.push_back(n.name);
    if (has_role(n, Role::etcd)) e.etcd_nodes.push_back(n.name);
    auto tag = n.tags.find("noloadbalance");
    if (tag != n.tags.end() && tag->second == "true") e.noloadbalance.insert(n.name);
  }
  e.sync_mode = inv.replication.mode == ReplicationMode::sync_mode;
  e.max_lag_bytes = inv.timing.maximum_lag_on_failover;
  e.write_port = inv.ports.haproxy_write;
  e.read_port = inv.ports.haproxy_read;
  return e;
}

std::string not_running_message(const Inventory& inv, const std::vector<Machine>& machines,
                                const std::string& inventory_path) {
  bool found = false;
  for (const auto& node : inv.nodes) {
    for (const auto& m : machines) {
      if (m.node != node.name) continue;
      found = true;
      if (m.running) return "";
    }
  }
  const std::string hint = "; `pgha up -i " + inventory_path + "` starts it";
  return "cluster " + inv.cluster_name + " is not running (" +
         (found ? "its machines are stopped" : "no machines found") + ")" + hint;
}

struct StatusProbe::Impl {
  const Inventory& inv;
  Provider& provider;
  ShellFactory shells;
  std::vector<NodeHandle> nodes;  // one per inventory node; shell null until connected
  std::string curl_config;        // the admin credentials for the stats page
};

StatusProbe::StatusProbe(const Inventory& inv, Provider& provider, ShellFactory shells,
                         std::string admin_password)
    : impl_(new Impl{inv, provider, std::move(shells), {}, ""}) {
  ResolvedSecrets secrets;
  secrets.admin_password = std::move(admin_password);
  impl_->curl_config = patroni_admin_curl_config(secrets);
  for (const auto& node : inv.nodes) {
    NodeHandle h;
    h.node = &node;
    impl_->nodes.push_back(std::move(h));
  }
}

StatusProbe::~StatusProbe() = default;

Result<ClusterStatus> StatusProbe::snapshot() {
  auto machines = impl_->provider.list(impl_->inv);
  if (!machines) return machines.error();
  ClusterStatus s;
  s.expected = expectations_of(impl_->inv);
  for (const auto& node : impl_->inv.nodes) {
    if (has_role(node, Role::keepalived)) s.vip = impl_->inv.network.vip;
    if (has_role(node, Role::pgbackrest)) s.backup.expected = true;
  }
  std::vector<std::string> why(impl_->nodes.size());
  std::vector<std::map<std::string, std::string>> parts(impl_->nodes.size());
  std::vector<size_t> index(impl_->nodes.size());
  for (size_t i = 0; i < index.size(); ++i) index[i] = i;
  // Never fails: a node that cannot be read leaves its reason in why[i].
  (void)for_each_parallel<size_t>(index, [&](size_t& i) -> Status {
    NodeHandle& n = impl_->nodes[i];
    const Machine* m = nullptr;
    for (const auto& candidate : *machines) {
      if (candidate.node == n.node->name) m = &candidate;
    }
    if (!m || !m->running) {
      n.shell.reset();
      why[i] = m ? "machine stopped" : "no machine";
      return {};
    }
    if (!n.shell || n.machine.address != m->address) {
      n.machine = *m;
      auto sh = impl_->shells(*m);
      if (!sh) {
        why[i] = sh.error().describe();
        return {};
      }
      n.shell = std::move(sh.value());
    }
    auto r = n.shell->run(probe_command(impl_->inv, *n.node), impl_->curl_config);
    if (!r) {
      n.shell.reset();  // connect again next time
      why[i] = r.error().describe();
      return {};
    }
    parts[i] = split_parts(r->out);
    return {};
  });
  std::vector<std::pair<const Node*, std::map<std::string, std::string>>> reports;
  for (size_t i = 0; i < impl_->nodes.size(); ++i) {
    if (!why[i].empty()) {
      s.unreachable[impl_->nodes[i].node->name] = why[i];
    } else {
      reports.emplace_back(impl_->nodes[i].node, std::move(parts[i]));
    }
  }
  absorb(reports, s);
  return s;
}

std::vector<BackendState> parse_haproxy_csv(const std::string& node, const std::string& csv) {
  std::vector<BackendState> out;
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::string field;
    std::istringstream ls(line);
    while (std::getline(ls, field, ',')) f.push_back(field);
    if (f.size() < 18 || f[1] == "FRONTEND" || f[1] == "BACKEND" || f[0] == "stats") continue;
    out.push_back({node, f[0], f[1], f[17]});
  }
  return out;
}

std::vector<std::string> haproxies_writing_to(const std::vector<BackendState>& backends,
                                              const std::string& server) {
  std::vector<std::string> out;
  for (const auto& b : backends) {
    if (b.listener == "primary" && b.server == server && b.status.rfind("UP", 0) == 0)
      out.push_back(b.haproxy_node);
  }
  return out;
}

}  // namespace pgha
