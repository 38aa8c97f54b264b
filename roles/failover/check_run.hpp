// The failover check's run loop: for each run, wait for a healthy cluster, start the write probes and
// the monitor, inject the fault on the current primary (or request a switchover), wait for writes to
// resume, lift the fault, wait for the old primary to rejoin and the cluster to be healthy, then
// count what was lost and what was seen.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/render.hpp"
#include "roles/failover/faults.hpp"
#include "roles/failover/monitor.hpp"
#include "roles/failover/report.hpp"
#include "roles/failover/write_probe.hpp"
#include "roles/progress.hpp"

namespace pgha {

struct CheckOptions {
  std::optional<FaultKind> fault;  // nullopt: a planned switchover instead
  std::string switchover_to;       // "" = Patroni picks
  int runs = 1;
  bool direct = false;  // also probe the leader's postgres directly (no HAProxy): the floor
  ProbeSettings probe;
  MonitorSettings monitor;
  std::chrono::seconds recover_timeout{180};  // fault -> writes resume
  std::chrono::seconds heal_timeout{300};     // lift -> rejoined and healthy
  std::chrono::seconds hold{2};               // keep the fault in place this long after writes resume
};

// A guard (`pgha guard`, guard/) running beside the check (`check failover --guard`): a fresh one
// (its own cooldown) from before each fault until the old primary has rejoined. Its phases split the
// RTO further; a machine it fenced is started again through it (the fault's own lift cannot undo a
// fence: unpausing or reconnecting a stopped machine fails).
class CheckGuard {
 public:
  virtual ~CheckGuard() = default;
  virtual void start() = 0;
  virtual void stop() = 0;  // the last run's phases stay readable
  virtual GuardPhases phases(const std::string& node, double after) const = 0;
  virtual Status restart(const std::string& node) = 0;
};

struct CheckDeps {
  const Inventory& inv;
  const ResolvedSecrets& secrets;
  FaultInjector* faults;  // required when options.fault is set
  Progress& progress;
  CheckGuard* guard = nullptr;  // --guard
};

// An Error only when no cycle could start (the cluster is not healthy to begin with, no Patroni
// answers); what goes wrong inside a cycle is recorded in its RunResult (error, verdicts), and the
// remaining runs are skipped once a cycle leaves the cluster unhealthy.
Result<std::vector<RunResult>> run_failover_check(const CheckDeps& deps, const CheckOptions& options);

}  // namespace pgha
