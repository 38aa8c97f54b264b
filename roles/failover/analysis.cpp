#include "roles/failover/analysis.hpp"

namespace pgha {

PathResult analyze_path(const ProbeLog& log, const std::set<int64_t>& present, double fault_at,
                        double in_effect_at, double end_at) {
  PathResult p;
  p.via = log.via;
  p.target = log.target;
  if (const WriteAttempt* a = first_ack_sent_after(log, in_effect_at)) p.rto_s = a->done_at - fault_at;
  p.write_gap_s = longest_ack_gap(log, fault_at, end_at);
  p.acked = count_outcome(log, WriteOutcome::acked);
  p.refused = count_outcome(log, WriteOutcome::refused);
  p.unknown = count_outcome(log, WriteOutcome::unknown);
  p.connect_failures = log.connect_failures;
  auto lost = lost_acked_writes(log, present);
  p.lost = static_cast<int>(lost.size());
  for (size_t i = 0; i < lost.size() && i < 10; ++i) p.lost_seqs.push_back(lost[i]);
  p.unknown_committed = unknown_but_committed(log, present);
  return p;
}

AckTimes ack_times(const ProbeLog& log) {
  AckTimes a{log.via, log.target, {}};
  for (const auto& w : log.attempts)
    if (w.outcome == WriteOutcome::acked) a.at.push_back(w.done_at);
  return a;
}

std::string rejoin_missing(const PatroniCluster& c, const std::string& old_primary,
                           const std::set<std::string>& streaming) {
  const PatroniMember* leader = c.leader();
  if (!leader) return "no leader";
  if (c.leader_count() > 1) return "more than one leader";
  if (leader->name == old_primary) return "";  // it recovered in place: nothing to rejoin
  const PatroniMember* m = nullptr;
  for (const auto& x : c.members)
    if (x.name == old_primary) m = &x;
  if (!m) return old_primary + " is not a cluster member";
  if (m->state != "running" && m->state != "streaming") return old_primary + " is " + m->state;
  if (m->timeline != leader->timeline)
    return old_primary + " is on timeline " + std::to_string(m->timeline) + ", the leader on " +
           std::to_string(leader->timeline);
  if (!streaming.count(old_primary)) return old_primary + " is not streaming from " + leader->name;
  return "";
}

}  // namespace pgha
