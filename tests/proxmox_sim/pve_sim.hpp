// A simulated Proxmox VE cluster API: the calls pgha's provider makes (reference:
// /work/shared/reference/proxmox-api.md) with the same status lines, bodies, UPIDs and asynchronous
// tasks; parameter formats enforced; faults injectable. Every VM is backed by a VmBackend.
// A test fixture, not product.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim_https.hpp"
#include "vm_backend.hpp"

namespace pgha::sim {

// A storage of storage.cfg as GET /storage answers it. `shared` is the flag Proxmox trusts for
// cross-node clones and migrations (pve-storage: PVE/API2/Storage/Config.pm; qemu-server:
// PVE/API2/Qemu.pm clone_vm).
struct SimStorage {
  std::string id;    // "local-lvm"
  std::string type;  // "lvmthin", "dir", "rbd", "nfs"
  bool shared = false;
  std::vector<std::string> nodes;  // storage.cfg's `nodes`: where it is available; empty = everywhere
};

struct SimOptions {
  std::vector<std::string> nodes{"pve1", "pve2", "pve3"};
  std::string token = "root@pam!pgha=SECRET";  // USER@REALM!TOKENID=SECRET
  std::string user = "root@pam";               // ticket auth; disabled while password is ""
  std::string password;
  int template_vmid = 9000;
  std::string template_node;   // "" = the first node
  bool template_agent = true;  // the template has qemu-guest-agent (agent: 1)
  int template_disk_gb = 2;
  // More templates, one per node (node -> VM id), each like the first on its own node: what
  // provider.proxmox.templates names. The template_* options above apply to each.
  std::map<std::string, int> node_templates;
  std::chrono::milliseconds auth_fail_delay{3000};
  std::chrono::milliseconds task_duration{200};
  std::chrono::milliseconds agent_delay{0};  // after start, before the guest agent answers
  // storage.cfg: a fresh installation's two local storages plus a shared Ceph pool.
  std::vector<SimStorage> storages{
      {"local", "dir", false}, {"local-lvm", "lvmthin", false}, {"ceph", "rbd", true}};
  std::string template_storage = "local-lvm";  // where the template's disks (and cloud-init drive) live
  bool template_cloudinit = true;              // the template has a cloud-init drive (ide2)
  bool template_is_template = true;            // `qm template` was run on it
  int version = 8;                             // Proxmox VE major version, 8 or 9 (privileges differ)
  // The token's privileges, the same on every path; empty = every privilege of `version`.
  std::set<std::string> privileges;
  // pvestatd refreshes the name/status/template that /cluster/resources reports about every 10 s
  // (pve-manager: PVE/Service/pvestatd.pm, PVE/API2Tools.pm extract_vm_stats). 0 = always current.
  std::chrono::milliseconds stats_interval{0};
};

// Every privilege a Proxmox VE version knows (pve-access-control: src/PVE/AccessControl.pm
// $privgroups; VE 9 dropped VM.Monitor in commit 0706945, "privileges: drop VM.Monitor").
std::set<std::string> all_privileges(int version);

struct Fault {
  enum class Kind {
    lock_timeout,       // 500 can't lock file '/var/lock/qemu-server/lock-N.conf' - got timeout
    http_error,         // status + reason, nothing done
    answer_lost,        // the call is done, but the answer is status + reason
    task_fail,          // the task this call starts fails with `message`
    task_lock_timeout,  // the task this call starts fails: can't lock file '...lock-N.conf' - got timeout
    slow_task,          // the task this call starts takes `delay`
    steal_next_id,      // after /cluster/nextid answers N, another client creates VM N (on the last node)
    task_invisible,     // task status answers 400 (not visible yet)
    agent_not_running,  // agent calls answer 500 QEMU guest agent is not running
  };
  Kind kind = Kind::http_error;
  std::string method;  // "" = any
  std::string path;    // a regex searched for in the API path ("/nodes/pve1/qemu/9000/clone"); "" = any
  int count = 1;       // how many matching calls it affects; -1 = all
  int status = 500;
  std::string reason = "Internal Server Error";
  std::string message;
  std::chrono::milliseconds delay{0};
};

// {"kind":"lock_timeout","method":"POST","path":"/clone$","count":1,...}; nullopt when malformed.
std::optional<Fault> fault_from_json(const nlohmann::json& j);

class PveSim {
 public:
  PveSim(SimOptions options, VmBackend& backend);
  ~PveSim();  // waits for running tasks
  PveSim(const PveSim&) = delete;
  PveSim& operator=(const PveSim&) = delete;

  // The whole API, /api2/json/..., plus the control calls under /sim/ (no auth; loopback only):
  // POST /sim/faults (a Fault or {"faults":[...]}), DELETE /sim/faults, GET /sim/state,
  // POST /sim/nodes/{node}/status (status=online|offline).
  SimResponse handle(const SimRequest& request);

  void inject(Fault fault);
  void clear_faults();
  // What GET /nodes reports as every node's ssl_fingerprint.
  void set_fingerprint(const std::string& fingerprint);
  void set_node_status(const std::string& node, const std::string& status);
  // VMs (vmid, node, name, status, lock, config) and task counts, for tests' assertions.
  nlohmann::json state();
  // Creates an unrelated VM, as another Proxmox user would.
  void add_foreign_vm(int vmid, const std::string& node, const std::string& name);
  // Blocks until no task is running.
  void wait_idle();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// PveSim served over HTTPS with its own CA (sim_tls.hpp).
class SimServer {
 public:
  SimServer(SimOptions options, VmBackend& backend);
  ~SimServer();
  // Makes or reuses the TLS files in cert_dir, then listens. False with `error` set on failure.
  bool start(const std::string& cert_dir, const std::string& host, int port, std::string& error);
  void stop();

  PveSim& sim() { return sim_; }
  std::string endpoint() const;  // https://127.0.0.1:PORT
  const std::string& ca_file() const { return ca_file_; }
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  PveSim sim_;
  std::unique_ptr<HttpsServer> server_;
  std::string host_, ca_file_, fingerprint_;
  int port_ = 0;
};

}  // namespace pgha::sim
