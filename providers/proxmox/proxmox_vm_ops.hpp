// The VM-level operations the provider is made of, each one a Proxmox call (or a few), with task
// dispatches retried (lock time-outs, 5xx) and every UPID waited for. No inventory knowledge here.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "providers/proxmox/proxmox_client.hpp"
#include "providers/proxmox/proxmox_tasks.hpp"

namespace pgha::pve {

struct Timing {
  TaskPolicy task;
  RetryPolicy retry;
  std::chrono::milliseconds boot_timeout{std::chrono::minutes(10)};  // agent, then SSH
  std::chrono::milliseconds boot_poll{2000};
};

struct HostInfo {
  std::string name;
  std::string status;  // online / offline / unknown
};

struct VmInfo {
  int vmid = 0;
  std::string host;
  std::string name;
  std::string status;  // running / stopped
  bool is_template = false;
  std::vector<std::string> tags;
  std::string lock;  // "" when unlocked
  bool has_tag(const std::string& tag) const;
};

struct CloneSpec {
  std::string source_host;
  int source_vmid = 0;
  std::string name;
  std::string target_host;
  bool full = true;
  std::string storage;  // full clones only; "" = the source's storage
};

class VmOps {
 public:
  using Notify = std::function<void(const std::string&)>;
  VmOps(Client& client, Clock& clock, Timing timing, Notify warn);

  Result<std::vector<HostInfo>> hosts();
  Result<std::vector<VmInfo>> vms();
  Result<int> next_id();
  Result<nlohmann::json> config(const VmInfo& vm);

  // Clones into a fresh VM id and waits for the clone task. A VM id taken between nextid and the
  // clone (a race with another client) means another id; a retried dispatch that finds a VM of
  // this name already on the target is our own earlier attempt: success. on_id hears the id as
  // soon as the dispatch succeeded (to record it in state). Returns the new VM.
  Result<VmInfo> clone(const CloneSpec& spec, const std::function<void(const VmInfo&)>& on_id);

  Status configure(const VmInfo& vm, const Params& params);  // synchronous PUT .../config
  // Grows the boot disk to `gib` when it is smaller; never shrinks.
  Status grow_disk(const VmInfo& vm, int gib);
  Status start(const VmInfo& vm);    // no-op when running
  Status stop(const VmInfo& vm);     // hard stop; no-op when stopped
  Status destroy(const VmInfo& vm);  // purge, with unreferenced disks
  // Waits for the guest agent to answer a ping (agent "not running" = not yet), until deadline.
  Status wait_agent(const VmInfo& vm, std::chrono::steady_clock::time_point deadline);
  Result<std::string> current_status(const VmInfo& vm);

  Clock& clock() { return clock_; }
  const Timing& timing() const { return timing_; }

 private:
  // Dispatches a task-creating call with retries and waits for its UPID (a null answer = done).
  Status run_task(const std::string& method, const std::string& path, const Params& params);
  Status wait_unlocked(const VmInfo& vm);
  // A GET, retried like a dispatch on transient errors (reads are idempotent).
  Result<nlohmann::json> read(const std::string& path, const Params& params = {});
  std::string vm_path(const VmInfo& vm) const;

  Client& client_;
  Clock& clock_;
  Timing timing_;
  Notify warn_;
};

}  // namespace pgha::pve
