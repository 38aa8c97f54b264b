#include "roles/failover/probe_log.hpp"

#include <algorithm>

namespace pgha {

const WriteAttempt* first_ack_sent_after(const ProbeLog& log, double sent_after) {
  const WriteAttempt* best = nullptr;
  for (const auto& a : log.attempts) {
    if (a.outcome != WriteOutcome::acked || a.sent_at < sent_after) continue;
    if (!best || a.done_at < best->done_at) best = &a;
  }
  return best;
}

const WriteAttempt* last_ack_before(const ProbeLog& log, double t) {
  const WriteAttempt* best = nullptr;
  for (const auto& a : log.attempts) {
    if (a.outcome != WriteOutcome::acked || a.done_at >= t) continue;
    if (!best || a.done_at > best->done_at) best = &a;
  }
  return best;
}

double longest_ack_gap(const ProbeLog& log, double from, double to) {
  std::vector<double> acks;
  for (const auto& a : log.attempts)
    if (a.outcome == WriteOutcome::acked) acks.push_back(a.done_at);
  std::sort(acks.begin(), acks.end());
  double gap = 0;
  for (size_t i = 1; i < acks.size(); ++i) {
    if (acks[i] < from || acks[i] > to) continue;
    gap = std::max(gap, acks[i] - acks[i - 1]);
  }
  return gap;
}

std::vector<int64_t> lost_acked_writes(const ProbeLog& log, const std::set<int64_t>& present) {
  std::vector<int64_t> lost;
  for (const auto& a : log.attempts)
    if (a.outcome == WriteOutcome::acked && !present.count(a.seq)) lost.push_back(a.seq);
  return lost;
}

int unknown_but_committed(const ProbeLog& log, const std::set<int64_t>& present) {
  int n = 0;
  for (const auto& a : log.attempts)
    n += (a.outcome == WriteOutcome::unknown && present.count(a.seq)) ? 1 : 0;
  return n;
}

int count_outcome(const ProbeLog& log, WriteOutcome outcome) {
  return static_cast<int>(std::count_if(log.attempts.begin(), log.attempts.end(),
                                        [&](const WriteAttempt& a) { return a.outcome == outcome; }));
}

}  // namespace pgha
