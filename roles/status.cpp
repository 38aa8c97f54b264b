#include "roles/status.hpp"

#include <iomanip>
#include <sstream>

#include "roles/remote.hpp"

namespace pgha {
namespace {

void read_patroni(EngineContext& ctx, ClusterStatus& out) {
  auto c = read_patroni_cluster(ctx);
  if (!c) {
    out.patroni_error = "no Patroni REST API answered";
    return;
  }
  out.patroni = std::move(*c);
}

void read_etcd(EngineContext& ctx, ClusterStatus& out) {
  for (auto& n : ctx.nodes) {
    if (!has_role(*n.node, Role::etcd)) continue;
    auto r = n.shell->run(
        "ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:" + std::to_string(ctx.inv.ports.etcd_client) +
        " --command-timeout=3s endpoint health --cluster -w json 2>/dev/null");
    if (!r) continue;
    auto j = nlohmann::json::parse(r->out, nullptr, false);
    if (!j.is_array()) continue;
    for (const auto& e : j) {
      out.etcd.push_back({e.value("endpoint", ""), e.value("health", false), e.value("error", "")});
    }
    return;
  }
}

void read_haproxy(EngineContext& ctx, ClusterStatus& out) {
  for (auto& n : ctx.nodes) {
    if (!has_role(*n.node, Role::haproxy)) continue;
    auto r = n.shell->run(
        "curl -s --max-time 3 'http://127.0.0.1:" + std::to_string(ctx.inv.ports.haproxy_stats) + "/;csv'");
    if (!r || r->exit_code != 0) continue;
    std::istringstream in(r->out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> f;
      std::string field;
      std::istringstream ls(line);
      while (std::getline(ls, field, ',')) f.push_back(field);
      if (f.size() < 18 || f[1] == "FRONTEND" || f[1] == "BACKEND") continue;
      if (f[0] == "stats") continue;
      out.backends.push_back({n.node->name, f[0], f[1], f[17]});
    }
  }
}

void read_vip(EngineContext& ctx, ClusterStatus& out) {
  out.vip = ctx.inv.network.vip;
  if (out.vip.empty()) return;
  for (auto& n : ctx.nodes) {
    if (!has_role(*n.node, Role::keepalived)) continue;
    auto r = n.shell->run("ip -o -4 addr show | grep -qF ' " + out.vip + "/' && echo holds");
    if (r && trim(r->out) == "holds") {
      out.vip_holder = n.node->name;
      return;
    }
  }
}

}  // namespace

ClusterStatus collect_status(EngineContext& ctx) {
  ClusterStatus s;
  read_patroni(ctx, s);
  read_etcd(ctx, s);
  read_haproxy(ctx, s);
  read_vip(ctx, s);
  return s;
}

std::string format_status(const ClusterStatus& s) {
  std::ostringstream out;
  out << std::left << std::setw(12) << "Member" << std::setw(16) << "Host" << std::setw(14) << "Role"
      << std::setw(11) << "State" << std::setw(5) << "TL"
      << "Lag in MB\n";
  if (!s.patroni_error.empty()) out << "  (" << s.patroni_error << ")\n";
  for (const auto& m : s.patroni.members) {
    std::string lag =
        is_primary_role(m.role) ? "" : (m.lag_bytes ? std::to_string(*m.lag_bytes / 1048576) : "unknown");
    out << std::setw(12) << m.name << std::setw(16) << m.host << std::setw(14) << m.role << std::setw(11)
        << m.state << std::setw(5) << m.timeline << lag << "\n";
  }
  out << "\netcd:\n";
  if (s.etcd.empty()) out << "  (no etcd member answered)\n";
  for (const auto& e : s.etcd)
    out << "  " << std::setw(28) << e.endpoint << (e.healthy ? "healthy" : "UNHEALTHY " + e.error) << "\n";
  out << "\nHAProxy backends:\n";
  if (s.backends.empty()) out << "  (no HAProxy stats answered)\n";
  for (const auto& b : s.backends)
    out << "  " << std::setw(10) << b.haproxy_node << std::setw(10) << b.listener << std::setw(10) << b.server
        << b.status << "\n";
  if (!s.vip.empty())
    out << "\nVIP " << s.vip << ": " << (s.vip_holder.empty() ? "NOT HELD" : "held by " + s.vip_holder)
        << "\n";
  return out.str();
}

nlohmann::json status_json(const ClusterStatus& s) {
  nlohmann::json j;
  j["members"] = nlohmann::json::array();
  for (const auto& m : s.patroni.members) {
    nlohmann::json mj = {
        {"member", m.name}, {"host", m.host}, {"role", m.role}, {"state", m.state}, {"timeline", m.timeline}};
    mj["lag_bytes"] = m.lag_bytes ? nlohmann::json(*m.lag_bytes) : nlohmann::json(nullptr);
    j["members"].push_back(mj);
  }
  if (!s.patroni_error.empty()) j["patroni_error"] = s.patroni_error;
  j["etcd"] = nlohmann::json::array();
  for (const auto& e : s.etcd)
    j["etcd"].push_back({{"endpoint", e.endpoint}, {"healthy", e.healthy}, {"error", e.error}});
  j["haproxy"] = nlohmann::json::array();
  for (const auto& b : s.backends)
    j["haproxy"].push_back(
        {{"haproxy", b.haproxy_node}, {"listener", b.listener}, {"server", b.server}, {"status", b.status}});
  j["vip"] = {{"address", s.vip},
              {"holder", s.vip_holder.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.vip_holder)}};
  return j;
}

}  // namespace pgha
