// PveSim's insides, shared by pve_sim.cpp (auth, faults, tasks, dispatch) and pve_sim_vms.cpp (the
// VM calls). Private to the simulator.
#pragma once

#include <functional>
#include <set>

#include "pve_sim.hpp"

namespace pgha::sim {

using Params = std::map<std::string, std::string>;

// What pvestatd last broadcast about a VM: /cluster/resources takes name, status and template from
// it, never from the config (pve-manager: PVE/API2Tools.pm extract_vm_stats).
struct SimStats {
  std::string name;
  std::string status;
  bool is_template = false;
};

struct SimVm {
  int vmid = 0;
  std::string node;
  std::map<std::string, std::string> config;
  bool running = false;
  bool is_template = false;
  std::string lock;
  std::chrono::steady_clock::time_point started;
  std::optional<SimStats> stats;  // nullopt until pvestatd has seen the VM
};

struct SimTask {
  std::string upid, node, type, id, user;
  bool running = true;
  std::string exitstatus;
  std::vector<std::string> log;
  long starttime = 0;
};

// What one API call carries through the handlers.
struct CallCtx {
  std::string method;
  std::string path;  // after /api2/json
  std::vector<std::string> seg;
  Params params;
  std::string user;  // USER@REALM!TOKENID or USER@REALM
  std::optional<Fault> task_fail, slow_task;
};

SimResponse json_ok(const nlohmann::json& data);
SimResponse api_fail(int status, const std::string& reason);
SimResponse param_fail(const std::map<std::string, std::string>& errors);

struct PveSim::Impl {
  Impl(SimOptions o, VmBackend& b);

  SimOptions opt;
  VmBackend& backend;
  std::mutex mu;
  std::condition_variable idle;
  std::string fingerprint;  // of the server certificate, for GET /nodes
  std::map<std::string, std::string> node_status;
  std::map<int, SimVm> vms;
  std::map<std::string, SimTask> tasks;
  std::vector<Fault> faults;
  std::map<std::string, std::string> tickets;  // ticket -> CSRF token
  std::vector<std::thread> threads;
  int running_tasks = 0;
  unsigned pid = 0x2f00;
  bool shutting_down = false;
  // VM ids whose config lock (/var/lock/qemu-server/lock-N.conf) a running task holds.
  std::set<int> config_locks;
  std::chrono::steady_clock::time_point next_stats;

  // Creates a template VM `vmid` on `node` from opt's template_* settings.
  void add_template(int vmid, const std::string& node);
  // pvestatd's round: every VM's name/status/template as of now. Call with mu held.
  void refresh_stats();
  // Whether the caller holds `priv` (the same on every path here). Call with mu held.
  bool allowed(const std::string& priv) const;
  // 403 as RPCEnvironment::check answers it.
  static SimResponse forbidden(const std::string& path, const std::string& priv);
  const SimStorage* storage(const std::string& id) const;
  // True when every disk of the config (cloud-init drive included) is on shared storage.
  bool on_shared_storage(const std::map<std::string, std::string>& config) const;

  SimResponse handle(const SimRequest& r);
  SimResponse control(const SimRequest& r);
  SimResponse route(CallCtx& c);  // mu held
  std::optional<Fault> take_fault(Fault::Kind kind, const CallCtx& c);

  // Starts a task; `work` runs without mu after the task's duration and returns "" or the error;
  // `finish` runs with mu held and learns whether it succeeded. Call with mu held.
  std::string start_task(CallCtx& c, const std::string& node, const std::string& type, const std::string& id,
                         std::function<std::string()> work, std::function<void(bool)> finish);

  // VM calls (pve_sim_vms.cpp); mu held.
  SimResponse vm_call(CallCtx& c);
  SimResponse clone(CallCtx& c, SimVm& src);
  SimResponse migrate(CallCtx& c, SimVm& vm);
  SimResponse set_config(CallCtx& c, SimVm& vm, bool async);
  SimResponse resize(CallCtx& c, SimVm& vm);
  SimResponse power(CallCtx& c, SimVm& vm, const std::string& action);
  SimResponse destroy(CallCtx& c, SimVm& vm);
  SimResponse agent(CallCtx& c, SimVm& vm, const std::string& command);
  nlohmann::json resource_of(const SimVm& vm) const;
  VmSpec spec_of(const SimVm& vm) const;
  int next_free_id() const;
};

}  // namespace pgha::sim
