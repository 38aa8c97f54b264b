#include "roles/patroni_api.hpp"

#include <nlohmann/json.hpp>

namespace pgha {

bool is_primary_role(const std::string& role) {
  return role == "leader" || role == "master" || role == "primary";
}

const PatroniMember* PatroniCluster::leader() const {
  for (const auto& m : members) {
    if (is_primary_role(m.role)) return &m;
  }
  return nullptr;
}

int PatroniCluster::leader_count() const {
  int n = 0;
  for (const auto& m : members) n += is_primary_role(m.role) ? 1 : 0;
  return n;
}

namespace {

// A member's string field; "" when it is absent or not a string (json::value() would throw then).
std::string text_field(const nlohmann::json& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Result<PatroniCluster> parse_patroni_cluster(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("members") || !j["members"].is_array())
    return Error(ErrorKind::bad_input, "Patroni /cluster answer is not the expected JSON");
  PatroniCluster c;
  for (const auto& m : j["members"]) {
    if (!m.is_object()) continue;  // not a member; a Patroni answer never has one
    PatroniMember pm;
    pm.name = text_field(m, "name");
    pm.host = text_field(m, "host");
    pm.role = text_field(m, "role");
    pm.state = text_field(m, "state");
    if (m.contains("timeline") && m["timeline"].is_number_integer()) pm.timeline = m["timeline"].get<int>();
    if (m.contains("lag") && m["lag"].is_number_integer()) pm.lag_bytes = m["lag"].get<int64_t>();
    pm.pending_restart = m.contains("pending_restart") && m["pending_restart"].is_boolean() &&
                         m["pending_restart"].get<bool>();
    c.members.push_back(std::move(pm));
  }
  return c;
}

std::string patroni_unhealthy_reason(const PatroniCluster& c, size_t expected, LagRule lag) {
  int leaders = c.leader_count();
  if (leaders == 0) return "no Patroni leader yet";
  if (leaders > 1) return std::to_string(leaders) + " members claim the leader role";
  if (c.members.size() < expected)
    return std::to_string(c.members.size()) + " of " + std::to_string(expected) +
           " Patroni members registered";
  const PatroniMember* leader = c.leader();
  if (leader->state != "running") return "leader " + leader->name + " is " + leader->state;
  for (const auto& m : c.members) {
    if (&m == leader) continue;
    if (m.state != "running" && m.state != "streaming") return "replica " + m.name + " is " + m.state;
    if (!m.lag_bytes) return "replica " + m.name + " has unknown lag";
    if (lag == LagRule::zero && *m.lag_bytes != 0)
      return "replica " + m.name + " lags " + std::to_string(*m.lag_bytes) + " bytes";
    if (m.timeline != leader->timeline)
      return "replica " + m.name + " is on timeline " + std::to_string(m.timeline);
  }
  return "";
}

}  // namespace pgha
