// Splitting the recovery time into its phases, from what was observed:
//   detection = fault -> the cluster noticed (the DCS no longer shows the old primary as a running
//               leader: its leader key expired or was released, or its postgres is not running);
//   promotion = noticed -> the new primary took over (the timeline switch Patroni's /history records,
//               or for a primary that recovered in place, its postgres running again);
//   routing   = took over -> the first write acknowledged through the probe's path (HAProxy health
//               checks, the VIP, client reconnects).
// The phases always add up to the total; observations that poll granularity or clock skew put out of
// order are clamped into [fault, first ack].
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pgha {

// One answer of GET /cluster, from any node: who the DCS says leads, and in what state.
struct LeaderSample {
  double at = 0;
  std::string asked;         // the node that answered
  std::string leader;        // "" when the DCS has no leader
  std::string leader_state;  // running | starting | stopped | crashed | ...
  int timeline = 0;
};

// The first sample at or after `fault_at` in which `old_primary` is not a running leader.
std::optional<double> detected_at(const std::vector<LeaderSample>& samples, const std::string& old_primary,
                                  double fault_at);
// The first sample at or after `after` with a running leader (who may be old_primary again).
std::optional<double> leader_running_at(const std::vector<LeaderSample>& samples, double after);

// One line of Patroni's /history: the timeline that ended, and when and to whom.
struct HistoryEntry {
  int timeline = 0;
  double at = 0;  // 0 when Patroni gave no timestamp
  std::string new_leader;
};

// Parses GET /history: [[tl, lsn, reason, "2024-05-01T10:00:00.123456+00:00", "pg2"], ...].
// Errors: bad_input when it is not that shape.
Result<std::vector<HistoryEntry>> parse_patroni_history(const std::string& body);

// ISO 8601 as Patroni writes it (Python isoformat(): optional fraction, offset "+HH:MM" or "Z")
// to epoch seconds; nullopt when malformed.
std::optional<double> parse_iso8601(const std::string& s);

struct RtoBreakdown {
  std::optional<double> total;  // fault -> first acked write; absent when writes never resumed
  double detection = 0;
  double promotion = 0;
  double routing = 0;
  // With a guard that fenced and released (`check failover --guard`): detection ends at its
  // suspicion, then fence = suspicion -> the provider confirmed the machine stopped, release =
  // confirmed -> the leader key deleted, and promotion starts there. Absent otherwise.
  std::optional<double> fence;
  std::optional<double> release;
};

// When a guard running beside the check suspected, confirmed the fence and released the key.
struct GuardPhases {
  std::optional<double> suspected;
  std::optional<double> confirmed;
  std::optional<double> released;
};

RtoBreakdown split_rto(double fault_at, std::optional<double> detected, std::optional<double> promoted,
                       std::optional<double> first_ack);
// As split_rto, with the guard's phases when it got as far as the release (otherwise split_rto's
// answer). The five phases add up to the total, clamped into order like split_rto's.
RtoBreakdown split_rto_guarded(double fault_at, const GuardPhases& guard, std::optional<double> detected,
                               std::optional<double> promoted, std::optional<double> first_ack);

}  // namespace pgha
