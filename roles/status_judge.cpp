// The verdict on a ClusterStatus: down when the cluster cannot take writes (no Patroni answer, no or
// several leaders, the leader not running, no etcd quorum); degraded when it can but something is
// missing or disagrees; healthy otherwise.
#include <algorithm>
#include <cstdio>

#include "roles/status.hpp"

namespace pgha {
namespace {

bool is_up(const std::string& haproxy_status) {
  return haproxy_status.rfind("UP", 0) == 0;
}

bool serves_reads(const PatroniMember& m) {
  return !is_primary_role(m.role) && (m.state == "running" || m.state == "streaming");
}

std::string megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1048576.0);
  return buf;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The node whose address an etcd endpoint ("http://10.0.0.13:2379") names, else the endpoint.
std::string etcd_member_name(const StatusExpectations& e, const std::string& endpoint) {
  for (const auto& [name, address] : e.addresses) {
    if (endpoint.find("//" + address + ":") != std::string::npos) return name;
  }
  return endpoint;
}

std::vector<Disagreement> find_disagreements(const ClusterStatus& s) {
  std::vector<Disagreement> out;
  if (!s.patroni_error.empty()) return out;  // nothing to compare with
  const PatroniMember* leader = s.patroni.leader_count() == 1 ? s.patroni.leader() : nullptr;
  for (const auto& b : s.backends) {
    const PatroniMember* m = nullptr;
    for (const auto& candidate : s.patroni.members) {
      if (candidate.name == b.server) m = &candidate;
    }
    std::string what = !m ? b.server + " is not in Patroni's member list"
                       : m->state != "running" && m->state != "streaming"
                           ? b.server + " is " + m->state
                           : b.server + " is " + (is_primary_role(m->role) ? "the leader" : "a replica");
    Disagreement d{b.haproxy_node, "", b.server, b.status, ""};
    if (b.listener == "primary") {
      d.pool = "write";
      bool want = leader && m == leader && leader->state == "running";
      if (is_up(b.status) == want) continue;
      d.why =
          want ? "the leader " + b.server + " is " + b.status
               : what + (leader && m != leader ? " (" + leader->name + " leads)" : "") + ", yet " + b.status;
    } else if (b.listener == "replicas") {
      d.pool = "read";
      bool want = m && serves_reads(*m) && !s.expected.noloadbalance.count(b.server);
      if (is_up(b.status) == want) continue;
      d.why = want ? "replica " + b.server + " is " + b.status : what + ", yet " + b.status;
    } else {
      continue;
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

const char* to_string(Health h) {
  switch (h) {
    case Health::healthy: return "healthy";
    case Health::degraded: return "degraded";
    case Health::down: return "down";
  }
  return "?";
}

std::optional<double> lag_seconds(const ClusterStatus& s, const PatroniMember& m) {
  if (is_primary_role(m.role)) return std::nullopt;
  auto it = s.replay_lag.find(m.name);
  if (it == s.replay_lag.end()) return std::nullopt;
  if (it->second) return it->second;
  if (m.lag_bytes && *m.lag_bytes == 0) return 0.0;
  return std::nullopt;
}

StatusVerdict judge_status(const ClusterStatus& s) {
  StatusVerdict v;
  std::vector<std::string> down;
  std::vector<std::string>& degraded = v.reasons;
  const StatusExpectations& e = s.expected;

  for (const auto& [node, why] : s.unreachable)
    degraded.push_back("node " + node + " is unreachable (" + why + ")");

  const PatroniMember* leader = nullptr;
  if (!s.patroni_error.empty()) {
    down.push_back(s.patroni_error);
  } else if (int n = s.patroni.leader_count(); n == 0) {
    down.push_back("no Patroni leader");
  } else if (n > 1) {
    down.push_back(std::to_string(n) + " members claim the leader role");
  } else {
    leader = s.patroni.leader();
    if (leader->state != "running") down.push_back("leader " + leader->name + " is " + leader->state);
  }
  if (s.patroni_error.empty()) {
    bool has_sync = false;
    for (const auto& name : e.patroni_nodes) {
      auto it = std::find_if(s.patroni.members.begin(), s.patroni.members.end(),
                             [&](const PatroniMember& m) { return m.name == name; });
      if (it == s.patroni.members.end()) {
        degraded.push_back("replica " + name + " is missing from Patroni's member list");
        continue;
      }
      const PatroniMember& m = *it;
      if (is_primary_role(m.role)) continue;
      has_sync = has_sync || m.role == "sync_standby";
      if (!serves_reads(m)) {
        degraded.push_back("replica " + name + " is " + (m.state.empty() ? "in an unknown state" : m.state));
      } else if (!m.lag_bytes) {
        degraded.push_back("replica " + name + " has unknown lag");
      } else if (*m.lag_bytes > e.max_lag_bytes) {
        degraded.push_back("replica " + name + " lags " + megabytes(*m.lag_bytes) +
                           " (over maximum_lag_on_failover)");
      } else if (leader && m.timeline != leader->timeline) {
        degraded.push_back("replica " + name + " is on timeline " + std::to_string(m.timeline) +
                           ", the leader on " + std::to_string(leader->timeline));
      }
    }
    for (const auto& m : s.patroni.members) {
      if (std::find(e.patroni_nodes.begin(), e.patroni_nodes.end(), m.name) == e.patroni_nodes.end())
        degraded.push_back("member " + m.name + " is not in the inventory");
    }
    if (leader && e.sync_mode && e.patroni_nodes.size() > 1 && !has_sync)
      degraded.push_back("no synchronous standby (replication mode sync)");
  }

  if (!e.etcd_nodes.empty()) {
    size_t healthy = 0;
    for (const auto& m : s.etcd) healthy += m.healthy ? 1 : 0;
    const size_t quorum = e.etcd_nodes.size() / 2 + 1;
    if (s.etcd.empty()) {
      down.push_back("no etcd member answered");
    } else if (healthy < quorum) {
      down.push_back("no etcd quorum (" + std::to_string(healthy) + " of " +
                     std::to_string(e.etcd_nodes.size()) + " members healthy)");
    }
    for (const auto& m : s.etcd) {
      if (!m.healthy) degraded.push_back("etcd member " + etcd_member_name(e, m.endpoint) + " is unhealthy");
    }
    if (!s.etcd.empty() && s.etcd.size() < e.etcd_nodes.size())
      degraded.push_back("etcd has " + std::to_string(s.etcd.size()) + " of " +
                         std::to_string(e.etcd_nodes.size()) + " members");
  }

  for (const auto& node : s.haproxy_silent) degraded.push_back("haproxy on " + node + " did not answer");
  v.disagreements = find_disagreements(s);
  for (const auto& node : e.haproxy_nodes) {
    std::vector<std::string> details;
    for (const auto& d : v.disagreements) {
      if (d.haproxy_node == node) details.push_back(d.pool + " pool: " + d.why);
    }
    if (!details.empty())
      degraded.push_back("haproxy on " + node + " disagrees with Patroni (" + join(details, ", ") + ")");
  }

  if (!s.vip.empty()) {
    if (s.vip_holders.empty()) {
      degraded.push_back("VIP " + s.vip + " not held");
    } else if (s.vip_holders.size() > 1) {
      degraded.push_back("VIP " + s.vip + " held by " + join(s.vip_holders, " and "));
    }
  }

  v.health = !down.empty() ? Health::down : !degraded.empty() ? Health::degraded : Health::healthy;
  degraded.insert(degraded.begin(), down.begin(), down.end());
  return v;
}

}  // namespace pgha
