// Reading Patroni's REST answers. Patroni 3.0.2 calls the primary `master` in some places and
// `leader` in /cluster; 4.0 says `primary`. Every consumer goes through is_primary_role().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pgha {

struct PatroniMember {
  std::string name;
  std::string host;
  std::string role;   // leader | master | primary | replica | sync_standby | standby_leader
  std::string state;  // running | streaming | starting | stopped | ...
  int timeline = 0;
  std::optional<int64_t> lag_bytes;  // absent on the leader, or when Patroni says "unknown"
  bool pending_restart = false;      // PostgreSQL has settings it takes only when restarted
};

struct PatroniCluster {
  std::vector<PatroniMember> members;
  const PatroniMember* leader() const;  // the (first) member with a primary role, or nullptr
  int leader_count() const;
};

bool is_primary_role(const std::string& role);

// Parses GET /cluster. Errors: bad_input when the body is not the expected JSON.
Result<PatroniCluster> parse_patroni_cluster(const std::string& body);

// How a replica's lag counts: `zero` for a gate that waits until the replicas caught up; `known` for a
// one-shot preflight under writes, where a healthy replica's lag, as Patroni reports it, is rarely 0
// at the instant of the observation (the gates that follow wait for 0).
enum class LagRule { zero, known };
// Empty when the cluster is healthy for `expected` members: exactly one leader, every other member
// running/streaming on the leader's timeline with its lag as `lag` asks. Otherwise a sentence saying
// what is not.
std::string patroni_unhealthy_reason(const PatroniCluster& c, size_t expected, LagRule lag = LagRule::zero);

}  // namespace pgha
