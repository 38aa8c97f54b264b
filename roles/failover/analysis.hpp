// Turning a cycle's raw observations into its numbers. Pure.
#pragma once

#include <set>
#include <string>

#include "roles/failover/probe_log.hpp"
#include "roles/failover/report.hpp"
#include "roles/patroni_api.hpp"

namespace pgha {

// RTO of a path: fault_at -> the first ack of a write sent once the fault was in effect (a write
// already in flight at the fault, answered by a primary not yet gone, does not count as recovery).
// write_gap: the longest ack-to-ack gap whose end falls in [fault_at, end_at]. present: the seqs of
// this path that the new primary holds.
PathResult analyze_path(const ProbeLog& log, const std::set<int64_t>& present, double fault_at,
                        double in_effect_at, double end_at);

// The done_at of every acknowledged attempt, in attempt order.
AckTimes ack_times(const ProbeLog& log);

// Empty when old_primary is back as a replica: a member in state running or streaming, on the
// leader's timeline, and listed in the leader's pg_stat_replication as streaming (`streaming` holds
// the application_names seen there). Otherwise what is still missing.
std::string rejoin_missing(const PatroniCluster& c, const std::string& old_primary,
                           const std::set<std::string>& streaming);

}  // namespace pgha
