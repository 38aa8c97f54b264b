// The two views of a ClusterStatus: text for a person (summary first, then the tables) and JSON for
// scripts. Both carry the same facts and the same verdict.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "roles/backup.hpp"
#include "roles/status.hpp"

namespace pgha {
namespace {

// A table whose columns are as wide as their widest cell, two spaces apart; a column whose header
// is "|" separates groups.
class Table {
 public:
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Where each column starts, after the indent.
  std::vector<size_t> offsets() const {
    std::vector<size_t> out;
    size_t at = 0;
    for (size_t w : widths()) {
      out.push_back(at);
      at += w + 2;
    }
    return out;
  }
  std::string render(const std::string& indent) const {
    const std::vector<size_t> width = widths();
    std::string out;
    for (const auto& r : rows_) {
      std::string line = indent;
      for (size_t i = 0; i < r.size(); ++i) {
        line += r[i];
        if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<size_t> widths() const {
    std::vector<size_t> width;
    for (const auto& r : rows_) {
      if (width.size() < r.size()) width.resize(r.size(), 0);
      for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    }
    return width;
  }
  std::vector<std::vector<std::string>> rows_;
};

std::string seconds_text(std::optional<double> s) {
  if (!s) return "unknown";
  if (*s == 0) return "0";
  char buf[32];
  std::snprintf(buf, sizeof buf, *s >= 10 ? "%.0f" : *s >= 1 ? "%.1f" : "%.3f", *s);
  return buf;
}

std::vector<std::string> matrix_servers(const ClusterStatus& s) {
  std::vector<std::string> servers = s.expected.patroni_nodes;
  for (const auto& b : s.backends) {
    if (std::find(servers.begin(), servers.end(), b.server) == servers.end()) servers.push_back(b.server);
  }
  return servers;
}

// What HAProxy on `haproxy` says of `server` in `listener`; "-" when it said nothing.
const BackendState* find_backend(const ClusterStatus& s, const std::string& haproxy,
                                 const std::string& listener, const std::string& server) {
  for (const auto& b : s.backends) {
    if (b.haproxy_node == haproxy && b.listener == listener && b.server == server) return &b;
  }
  return nullptr;
}

bool disagrees(const StatusVerdict& v, const BackendState& b) {
  const char* pool = b.listener == "primary" ? "write" : "read";
  return std::any_of(v.disagreements.begin(), v.disagreements.end(), [&](const Disagreement& d) {
    return d.haproxy_node == b.haproxy_node && d.server == b.server && d.pool == pool;
  });
}

std::string haproxy_matrix(const ClusterStatus& s, const StatusVerdict& v) {
  const auto& instances = s.expected.haproxy_nodes;
  const std::pair<const char*, std::string> pools[] = {
      {"primary", "write :" + std::to_string(s.expected.write_port)},
      {"replicas", "read :" + std::to_string(s.expected.read_port)}};
  Table t;
  std::vector<std::string> heads = {"server"};
  std::vector<std::pair<size_t, std::string>> groups;  // column, label over it
  for (size_t p = 0; p < 2; ++p) {
    if (p > 0) {
      groups.emplace_back(heads.size(), "|");
      heads.push_back("|");
    }
    groups.emplace_back(heads.size(), pools[p].second);
    heads.insert(heads.end(), instances.begin(), instances.end());
  }
  t.row(heads);
  for (const auto& server : matrix_servers(s)) {
    std::vector<std::string> cells = {server};
    for (size_t p = 0; p < 2; ++p) {
      if (p > 0) cells.push_back("|");
      for (const auto& h : instances) {
        const BackendState* b = find_backend(s, h, pools[p].first, server);
        cells.push_back(!b ? "-" : b->status + (disagrees(v, *b) ? " !" : ""));
      }
    }
    t.row(cells);
  }
  const std::vector<size_t> at = t.offsets();
  std::string over = "  ";
  for (const auto& [column, label] : groups) {
    if (column >= at.size()) continue;
    over += std::string(std::max<size_t>(2 + at[column], over.size() + 1) - over.size(), ' ') + label;
  }
  return over + "\n" + t.render("  ");
}

std::string member_role(const ClusterStatus& s, const std::string& name) {
  for (const auto& m : s.patroni.members) {
    if (m.name == name) return is_primary_role(m.role) ? "leader" : "replica";
  }
  return "absent";
}

}  // namespace

std::string format_summary(const ClusterStatus& s, const StatusVerdict& v) {
  std::string line = "cluster " + s.expected.cluster + ": " + to_string(v.health);
  for (size_t i = 0; i < v.reasons.size(); ++i) line += (i == 0 ? ": " : "; ") + v.reasons[i];
  return line + "\n";
}

std::string format_status(const ClusterStatus& s) {
  const StatusVerdict v = judge_status(s);
  std::ostringstream out;
  out << format_summary(s, v) << "\n";

  Table members;
  members.row({"Member", "Host", "Role", "State", "TL", "Lag bytes", "Lag s"});
  for (const auto& m : s.patroni.members) {
    const bool primary = is_primary_role(m.role);
    std::string bytes = primary ? "" : m.lag_bytes ? std::to_string(*m.lag_bytes) : "unknown";
    std::string secs = primary ? "" : seconds_text(lag_seconds(s, m));
    std::string timeline = m.timeline > 0 ? std::to_string(m.timeline) : "";  // 0: Patroni did not say
    members.row({m.name, m.host, m.role, m.state, timeline, bytes, secs});
  }
  out << members.render("");
  if (!s.patroni_error.empty()) out << "  (" << s.patroni_error << ")\n";
  for (const auto& [node, why] : s.unreachable) out << "  (" << node << " unreachable: " << why << ")\n";

  size_t healthy = 0;
  for (const auto& e : s.etcd) healthy += e.healthy ? 1 : 0;
  out << "\netcd: " << healthy << " of " << s.expected.etcd_nodes.size() << " members healthy\n";
  Table etcd;
  for (const auto& e : s.etcd) etcd.row({e.endpoint, e.healthy ? "healthy" : "UNHEALTHY " + e.error});
  out << etcd.render("  ");

  if (!s.expected.haproxy_nodes.empty()) {
    out << "\nHAProxy: a row per server, a column per node's HAProxy (! = disagrees with Patroni)\n";
    out << haproxy_matrix(s, v);
    for (const auto& node : s.haproxy_silent) out << "  (HAProxy on " << node << " did not answer)\n";
    for (const auto& d : v.disagreements)
      out << "  ! HAProxy on " << d.haproxy_node << ", " << d.pool << " pool: " << d.why << "\n";
  }

  if (!s.vip.empty()) {
    out << "\nVIP " << s.vip << ": ";
    if (s.vip_holders.empty()) out << "NOT HELD";
    for (size_t i = 0; i < s.vip_holders.size(); ++i)
      out << (i == 0 ? "held by " : " and ") << s.vip_holders[i] << " (" << member_role(s, s.vip_holders[i])
          << ")";
    out << "\n";
  }
  out << format_backup_status(s.backup);
  if (!s.cert_expiry.node.empty()) {
    const std::int64_t days = (s.cert_expiry.not_after - s.cert_expiry.now) / 86400;
    out << "\ncertificates: the first to expire is " << s.cert_expiry.node << "'s, on "
        << format_utc(s.cert_expiry.not_after) << " (in " << days << " days; `up` renews it within 30)\n";
  }
  return out.str();
}

nlohmann::json status_json(const ClusterStatus& s) {
  const StatusVerdict v = judge_status(s);
  auto opt = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  nlohmann::json j;
  j["cluster"] = s.expected.cluster;
  j["health"] = to_string(v.health);
  j["reasons"] = v.reasons;
  j["members"] = nlohmann::json::array();
  for (const auto& m : s.patroni.members) {
    j["members"].push_back({{"member", m.name},
                            {"host", m.host},
                            {"role", m.role},
                            {"state", m.state},
                            {"timeline", m.timeline},
                            {"lag_bytes", opt(m.lag_bytes)},
                            {"lag_seconds", opt(lag_seconds(s, m))}});
  }
  if (!s.patroni_error.empty()) j["patroni_error"] = s.patroni_error;
  j["unreachable"] = s.unreachable;
  j["etcd"] = nlohmann::json::array();
  for (const auto& e : s.etcd)
    j["etcd"].push_back({{"endpoint", e.endpoint}, {"healthy", e.healthy}, {"error", e.error}});
  // "haproxy" stays the flat list scripts already read; the matrix is the same facts by server.
  j["haproxy"] = nlohmann::json::array();
  for (const auto& b : s.backends) {
    j["haproxy"].push_back({{"haproxy", b.haproxy_node},
                            {"listener", b.listener},
                            {"server", b.server},
                            {"status", b.status},
                            {"agrees", !disagrees(v, b)}});
  }
  nlohmann::json matrix;
  matrix["instances"] = s.expected.haproxy_nodes;
  matrix["silent"] = s.haproxy_silent;
  matrix["servers"] = nlohmann::json::array();
  for (const auto& server : matrix_servers(s)) {
    nlohmann::json row = {
        {"server", server}, {"write", nlohmann::json::object()}, {"read", nlohmann::json::object()}};
    for (const auto& h : s.expected.haproxy_nodes) {
      const BackendState* w = find_backend(s, h, "primary", server);
      const BackendState* r = find_backend(s, h, "replicas", server);
      row["write"][h] = w ? nlohmann::json(w->status) : nlohmann::json(nullptr);
      row["read"][h] = r ? nlohmann::json(r->status) : nlohmann::json(nullptr);
    }
    matrix["servers"].push_back(row);
  }
  matrix["disagreements"] = nlohmann::json::array();
  for (const auto& d : v.disagreements) {
    matrix["disagreements"].push_back({{"haproxy", d.haproxy_node},
                                       {"pool", d.pool},
                                       {"server", d.server},
                                       {"status", d.status},
                                       {"why", d.why}});
  }
  j["haproxy_matrix"] = matrix;
  j["vip"] = {{"address", s.vip},
              {"holder", s.vip_holders.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.vip_holders[0])},
              {"holders", s.vip_holders}};
  if (s.backup.expected) j["backup"] = backup_status_json(s.backup);
  if (!s.cert_expiry.node.empty()) {
    j["tls"] = {{"first_expiry", format_utc(s.cert_expiry.not_after)},
                {"first_expiry_node", s.cert_expiry.node},
                {"days_left", (s.cert_expiry.not_after - s.cert_expiry.now) / 86400}};
  }
  return j;
}

}  // namespace pgha
