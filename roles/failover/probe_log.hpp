// What a write probe saw, and the pure questions asked of it: when did writes stop and resume, which
// acknowledged writes are missing afterwards. Times are seconds since the Unix epoch (system clock),
// the same clock Patroni's /history uses, so the two can be compared.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pgha {

enum class WriteOutcome {
  acked,    // COMMIT answered success: the write must survive any failover (in sync mode)
  refused,  // the server answered an error: the write surely did not commit
  unknown,  // no answer (timeout, connection lost mid-commit): it may or may not have committed
};

struct WriteAttempt {
  int64_t seq = 0;
  double sent_at = 0;  // statement sent (connection already open)
  double done_at = 0;  // answer received, or given up
  WriteOutcome outcome = WriteOutcome::unknown;
  std::string server;  // inet_server_addr() of the acked write: which node actually took it
};

// A probe's whole record, in the order attempts were made. Failed connection attempts are not
// attempts (nothing was sent) but are counted.
struct ProbeLog {
  std::string via;     // "haproxy", "vip", "direct"
  std::string target;  // host:port it connected to ("leader" for direct)
  std::vector<WriteAttempt> attempts;
  int connect_failures = 0;
};

// The first write sent at or after `sent_after` that was acknowledged; nullptr when none.
const WriteAttempt* first_ack_sent_after(const ProbeLog& log, double sent_after);

// The last acknowledged write acknowledged before `t`; nullptr when none.
const WriteAttempt* last_ack_before(const ProbeLog& log, double t);

// The longest time between two consecutive acknowledgements whose later one falls in [from, to];
// 0 when there are fewer than two such acks. For a switchover this is the write gap clients see.
double longest_ack_gap(const ProbeLog& log, double from, double to);

// Acknowledged sequence numbers that are not in `present` (what the new primary holds): the RPO.
std::vector<int64_t> lost_acked_writes(const ProbeLog& log, const std::set<int64_t>& present);

// Attempts with no answer whose row did reach the new primary: harmless, reported for insight.
int unknown_but_committed(const ProbeLog& log, const std::set<int64_t>& present);

int count_outcome(const ProbeLog& log, WriteOutcome outcome);

}  // namespace pgha
