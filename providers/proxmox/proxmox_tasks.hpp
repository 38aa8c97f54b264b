// Proxmox's asynchronous tasks: a call answers a UPID, the work runs on the node, and the client
// polls /nodes/{node}/tasks/{upid}/status until it stops. Also the bounded retry-with-backoff used
// for task dispatches. Time goes through Clock so unit tests run without real waits.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "providers/proxmox/proxmox_client.hpp"

namespace pgha::pve {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep(std::chrono::milliseconds duration) = 0;
};

// The real steady clock and std::this_thread::sleep_for.
Clock& real_clock();

struct TaskPolicy {
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds timeout{std::chrono::minutes(15)};
  // A task is not always visible right after dispatch: this many 400 answers are "not yet".
  int invisible_polls = 5;
  int log_lines = 20;  // task log lines surfaced on failure (the last ones)
};

struct TaskOutcome {
  std::string exitstatus;  // "OK" or "WARNINGS: N"
  int warnings = 0;
};

// The node a UPID belongs to ("UPID:pve2:..." -> "pve2"); nullopt when it is not a UPID.
std::optional<std::string> upid_node(const std::string& upid);

// The kind of a failed task's exit status. Workers report errors as their exit status, not as
// HTTP errors: timeout for a config lock not acquired ("can't lock file ... - got timeout"),
// conflict for a VM id taken ("File exists" from pmxcfs, "config file already exists"), bad_input
// for is_permanent() texts, remote_failure for the rest.
ErrorKind task_error_kind(const std::string& exitstatus);
// True for a lock time-out (HTTP 500 or task exit status): another task held the VM's config lock.
bool is_lock_timeout(const Error& error);

// Polls the task until it stops. Success: exit status "OK" or "WARNINGS: N". Errors:
// task_error_kind() with the exit status and the task log's last lines when it failed; timeout when
// it is still running after policy.timeout; bad_input for something that is not a UPID; poll
// errors (after retrying transient ones) as they come.
Result<TaskOutcome> wait_task(Client& client, const std::string& upid, Clock& clock,
                              const TaskPolicy& policy);

struct RetryPolicy {
  int attempts = 4;  // the first try included
  std::chrono::milliseconds first_delay{1000};
  std::chrono::milliseconds max_delay{8000};
};

// Calls fn until it succeeds, fails with a non-retryable error (is_retryable), or attempts run
// out; sleeps first_delay, then twice that, ... (capped) between tries. on_retry, when set, hears
// about each retried error. Returns fn's last result.
Result<nlohmann::json> retry_call(Clock& clock, const RetryPolicy& policy,
                                  const std::function<Result<nlohmann::json>()>& fn,
                                  const std::function<void(const Error&)>& on_retry = {});

}  // namespace pgha::pve
