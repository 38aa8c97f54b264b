// The outcome of `pgha check failover` / `pgha switchover`: one RunResult per cycle, the verdicts, and
// the three ways to print them (human table, JSON, JUnit XML). Pure: no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "roles/failover/rto.hpp"
#include "roles/failover/split_brain.hpp"

namespace pgha {

// What one probe path showed in one cycle.
struct PathResult {
  std::string via;              // haproxy | vip | direct
  std::string target;           // host:port
  std::optional<double> rto_s;  // fault -> first ack; absent when writes never resumed
  double write_gap_s = 0;       // longest time without an ack around the event
  int acked = 0;
  int refused = 0;
  int unknown = 0;
  int connect_failures = 0;
  int lost = 0;                    // acked but missing on the new primary
  int unknown_committed = 0;       // no answer, yet committed
  std::vector<int64_t> lost_seqs;  // the first few, for the message
};

// One probe path's acknowledged writes: when each answer came (epoch seconds, in attempt order).
struct AckTimes {
  std::string via;
  std::string target;
  std::vector<double> at;
};

// What a cycle observed over time, kept for the timeline drawing (`--report-svg`, timeline_svg.hpp)
// and left out of the JSON report. Empty when the cycle did not get as far as the fault.
struct RunTrace {
  std::vector<AckTimes> acks;        // one per probe path
  std::vector<PrimarySample> roles;  // the monitor's answers, both signals, every node
  std::optional<double> detected;    // as observed, before split_rto's clamping
  std::optional<double> promoted;
  GuardPhases guard;  // --guard: what the guard recorded
};

struct RunResult {
  int run = 1;
  std::string fault;  // kill-node, ..., or "switchover"
  std::string old_primary;
  std::string new_primary;
  int timeline_before = 0;
  int timeline_after = 0;
  double fault_at = 0;            // epoch seconds: fault injected / switchover requested
  double fault_in_effect_at = 0;  // the inject call returned
  double lifted_at = 0;
  RtoBreakdown rto;  // through the load balancer (the haproxy path)
  std::vector<PathResult> paths;
  SplitBrainReport split;
  bool rejoined = false;
  std::optional<double> rejoin_s;  // lift -> old primary streaming on the new timeline
  std::string rejoin_detail;       // why not, when it did not
  std::string error;               // the cycle could not complete (inject failed, no leader, ...)
  bool guard_fenced = false;       // --guard: the guard fenced the old primary in this cycle
  RunTrace trace;
};

struct Limits {
  double max_rto_s = 0;    // 0 = no limit
  bool sync_mode = false;  // lost acked writes fail only in sync mode
};

// One guarantee checked on one run.
struct Verdict {
  std::string name;  // rto | rpo | split_brain | rejoin | cycle
  bool pass = true;
  std::string message;  // what failed, or the measured value
};

std::vector<Verdict> verdicts(const RunResult& r, const Limits& limits);
bool all_pass(const std::vector<RunResult>& runs, const Limits& limits);

struct Stats {
  double min = 0, median = 0, max = 0;
  int n = 0;
};
// Over the values present; n = 0 when none. The median of an even count is the mean of the middle two.
Stats stats_of(std::vector<double> values);

struct ReportHeader {
  std::string command;  // "check failover" | "switchover"
  std::string cluster;
  std::string profile;
  std::string replication;  // sync | async
  std::string fault_note;   // how the fault was approximated on hosts pgha does not control; "" = as named
};

std::string format_report_text(const ReportHeader& h, const std::vector<RunResult>& runs,
                               const Limits& limits);
nlohmann::json report_json(const ReportHeader& h, const std::vector<RunResult>& runs, const Limits& limits);
std::string report_junit(const ReportHeader& h, const std::vector<RunResult>& runs, const Limits& limits);

// The path result by name, nullptr when that path was not probed.
const PathResult* path_of(const RunResult& r, const std::string& via);

}  // namespace pgha
