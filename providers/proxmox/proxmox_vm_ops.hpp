// The VM-level operations the provider is made of, each one a Proxmox call (or a few), with task
// dispatches retried (lock time-outs, 5xx) and every UPID waited for. No inventory knowledge here.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
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

// A VM as /cluster/resources lists it. Only vmid, host, lock and tags are current there: name,
// status and template come from pvestatd's last round (about every 10 s; pve-manager
// PVE/API2Tools.pm extract_vm_stats), so a fresh VM has no name yet. with_config() fills name,
// lock and tags from the VM's config, which is the authority.
struct VmInfo {
  int vmid = 0;
  std::string host;
  std::string name;
  std::string status;  // running / stopped / unknown
  bool is_template = false;
  std::vector<std::string> tags;
  std::string lock;  // "" when unlocked
  bool has_tag(const std::string& tag) const;
};

struct CloneSpec {
  std::string source_host;
  int source_vmid = 0;
  std::string name;
  std::string target_host;  // "" or source_host: the clone stays on the source host
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
  // The VM with name, lock and tags read from its config. not_found when it is gone (or moved
  // between the listing and the read).
  Result<VmInfo> with_config(const VmInfo& vm);
  // The Proxmox VE major version (GET /version): 8, 9, ...
  Result<int> major_version();
  // storage id -> shared, as storage.cfg has it (GET /storage), or as available on `host` (GET
  // /nodes/{host}/storage) when host is set.
  Result<std::map<std::string, bool>> storages(const std::string& host = "");
  // The privileges the caller has on `path` (GET /access/permissions?path=...).
  Result<std::set<std::string>> privileges(const std::string& path);

  // Clones into a fresh VM id and waits for the clone task. A VM id taken between nextid and the
  // clone (a race with another client) means another id, whether Proxmox says so at dispatch
  // ("config file already exists": taken on the source host) or inside the task ("File exists":
  // taken on another host); a task that fails on a lock time-out is dispatched again. A retried
  // dispatch that finds its id in use checks whether the VM is our own earlier attempt (locked
  // `clone`, or unlocked with this name): then it waits for the lock to clear and returns it.
  // on_id hears the id as soon as a dispatch succeeded (to record it in state); on_drop hears an
  // id that turned out not to be ours (to remove it from state). Returns the new VM, on
  // target_host (or source_host).
  Result<VmInfo> clone(const CloneSpec& spec, const std::function<void(const VmInfo&)>& on_id,
                       const std::function<void(const VmInfo&)>& on_drop);
  // Moves a stopped VM to `target` (offline migration), its local disks onto `target_storage` when
  // set. Returns the VM on its new host.
  Result<VmInfo> migrate(const VmInfo& vm, const std::string& target, const std::string& target_storage);
  // Waits until VM vmid carries no lock (`clone`, `migrate`, ...), wherever it sits, up to the
  // task time-out. Returns it as with_config() reads it; not_found when it disappeared (a clone
  // that failed), timeout when it stays locked.
  Result<VmInfo> wait_unlocked(int vmid);

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
  // After a dispatch of ours that may have gone through (a lost answer, a retried dispatch): the
  // VM under `id` if it is our clone of spec (locked `clone`, or carrying spec.name once the lock
  // is gone), waited for until unlocked; nullopt when the id is someone else's or free.
  Result<std::optional<VmInfo>> adopt(int id, const CloneSpec& spec);
  // A GET, retried like a dispatch on transient errors (reads are idempotent).
  Result<nlohmann::json> read(const std::string& path, const Params& params = {});
  std::string vm_path(const VmInfo& vm) const;

  Client& client_;
  Clock& clock_;
  Timing timing_;
  Notify warn_;
};

}  // namespace pgha::pve
