// The simulator's VM calls: /nodes/{node}/qemu/... (clone, config, resize, status, agent, destroy).
#include <regex>
#include <set>

#include "pve_sim_impl.hpp"
#include "sim_formats.hpp"

namespace pgha::sim {

namespace {

const char* kNotInSchema =
    "property is not defined in schema and the schema does not allow additional properties";

// Unknown parameters -> their errors.
std::map<std::string, std::string> unknown_params(const Params& p, const std::set<std::string>& allowed) {
  std::map<std::string, std::string> errors;
  for (const auto& [k, v] : p) {
    if (allowed.count(k) == 0) errors[k] = kNotInSchema;
  }
  return errors;
}

long long size_bytes(const std::string& s) {
  if (s.empty()) return 0;
  double n = std::stod(s);
  switch (s.back()) {
    case 'K': return static_cast<long long>(n * 1024);
    case 'M': return static_cast<long long>(n * 1024 * 1024);
    case 'G': return static_cast<long long>(n * 1024 * 1024 * 1024);
    case 'T': return static_cast<long long>(n * 1024 * 1024 * 1024 * 1024);
    default: return static_cast<long long>(n);
  }
}

std::string disk_size(const std::string& disk) {
  std::smatch m;
  if (std::regex_search(disk, m, std::regex("size=([0-9.]+[KMGT]?)"))) return m[1];
  return "";
}

std::string locked(const SimVm& vm) {
  return "VM is locked (" + vm.lock + ")";
}

}  // namespace

int PveSim::Impl::next_free_id() const {
  int id = 100;
  while (vms.count(id) != 0) ++id;
  return id;
}

nlohmann::json PveSim::Impl::resource_of(const SimVm& vm) const {
  auto get = [&](const char* k) {
    auto it = vm.config.find(k);
    return it == vm.config.end() ? std::string() : it->second;
  };
  // pve-manager: PVE/API2/Cluster.pm 'resources' takes id, vmid, node and type from the VM list
  // (pmxcfs: current), lock and tags from the config (get_guest_config_properties: current), and
  // name, status, template and the rest from pvestatd's last broadcast (PVE/API2Tools.pm
  // extract_vm_stats): a VM pvestatd has not seen yet has no name and status "unknown".
  nlohmann::json r = {{"id", "qemu/" + std::to_string(vm.vmid)},
                      {"type", "qemu"},
                      {"vmid", vm.vmid},
                      {"node", vm.node},
                      {"status", "unknown"}};
  if (vm.stats) {
    r["name"] = vm.stats->name;
    r["status"] = vm.stats->status;
    r["template"] = vm.stats->is_template ? 1 : 0;
    r["maxcpu"] = get("cores").empty() ? 1 : std::stoi(get("cores"));
    r["maxmem"] = (get("memory").empty() ? 512LL : std::stoll(get("memory"))) * 1024 * 1024;
    r["uptime"] = 0;
  }
  std::string tags = get("tags");
  if (!tags.empty()) {
    std::replace(tags.begin(), tags.end(), ',', ';');
    std::replace(tags.begin(), tags.end(), ' ', ';');
    r["tags"] = tags;
  }
  if (!vm.lock.empty()) r["lock"] = vm.lock;
  return r;
}

VmSpec PveSim::Impl::spec_of(const SimVm& vm) const {
  VmSpec spec;
  spec.vmid = vm.vmid;
  auto get = [&](const char* k) {
    auto it = vm.config.find(k);
    return it == vm.config.end() ? std::string() : it->second;
  };
  spec.name = get("name");
  std::smatch m;
  std::string ipc = get("ipconfig0");
  if (std::regex_search(ipc, m, std::regex("ip=([0-9.]+)/([0-9]+)"))) {
    spec.address = m[1];
    spec.prefix = std::stoi(m[2]);
  }
  if (std::regex_search(ipc, m, std::regex("gw=([0-9.]+)"))) spec.gateway = m[1];
  spec.ciuser = get("ciuser").empty() ? "root" : get("ciuser");
  spec.authorized_keys = unescape_sshkeys(get("sshkeys"));
  spec.nameserver = get("nameserver");
  return spec;
}

SimResponse PveSim::Impl::vm_call(CallCtx& c) {
  const auto& s = c.seg;
  const std::string& node = s[1];
  if (s.size() == 3) {
    if (c.method != "GET") return api_fail(501, "Method '" + c.method + " " + c.path + "' not implemented");
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [id, vm] : vms) {
      if (vm.node == node) out.push_back(resource_of(vm));
    }
    return json_ok(out);
  }
  if (std::string e = check_integer(s[3], 100, 999999999); !e.empty()) return param_fail({{"vmid", e}});
  int vmid = std::stoi(s[3]);
  auto it = vms.find(vmid);
  if (it == vms.end() || it->second.node != node) {
    return api_fail(500,
                    "Configuration file 'nodes/" + node + "/qemu-server/" + s[3] + ".conf' does not exist");
  }
  SimVm& vm = it->second;
  const std::string sub = s.size() > 4 ? s[4] : "";
  const std::string m = c.method;
  // The privileges each call checks on /vms/{vmid} (qemu-server: src/PVE/API2/Qemu.pm, each
  // method's `permissions`; the agent's in src/PVE/API2/Qemu/Agent.pm).
  std::string need = "VM.Audit";
  if (s.size() == 4 && m == "DELETE") need = "VM.Allocate";
  if (sub == "clone") need = "VM.Clone";
  if (sub == "migrate") need = "VM.Migrate";
  if (sub == "resize") need = "VM.Config.Disk";
  if (sub == "status" && m == "POST") need = "VM.PowerMgmt";
  if (sub == "agent") need = opt.version >= 9 ? "VM.GuestAgent.Audit" : "VM.Monitor";
  if (!allowed(need)) return forbidden("/vms/" + s[3], need);
  if (s.size() == 4 && m == "DELETE") return destroy(c, vm);
  if (s.size() == 4 && m == "GET")
    return json_ok(nlohmann::json::array({{{"subdir", "config"}}, {{"subdir", "status"}}}));
  if (sub == "clone" && m == "POST") return clone(c, vm);
  if (sub == "migrate" && m == "POST") return migrate(c, vm);
  if (sub == "config" && m == "GET") {
    nlohmann::json cfg = vm.config;
    cfg["digest"] = "4f3e2d1c0b0a09080706050403020100" + std::to_string(vm.config.size());
    if (cfg.contains("cores")) cfg["cores"] = std::stoi(vm.config.at("cores"));
    if (cfg.contains("template")) cfg["template"] = 1;
    if (!vm.lock.empty()) cfg["lock"] = vm.lock;
    return json_ok(cfg);
  }
  if (sub == "config" && (m == "PUT" || m == "POST")) return set_config(c, vm, m == "POST");
  if (sub == "resize" && m == "PUT") return resize(c, vm);
  if (sub == "status" && s.size() == 6) {
    if (s[5] == "current" && m == "GET") {
      nlohmann::json d = {{"vmid", vm.vmid},
                          {"name", vm.config["name"]},
                          {"status", vm.running ? "running" : "stopped"},
                          {"qmpstatus", vm.running ? "running" : "stopped"},
                          {"cpus", 2},
                          {"ha", {{"managed", 0}}}};
      if (vm.config.count("agent")) d["agent"] = 1;
      if (!vm.lock.empty()) d["lock"] = vm.lock;
      return json_ok(d);
    }
    if (m == "POST" && (s[5] == "start" || s[5] == "stop" || s[5] == "shutdown")) return power(c, vm, s[5]);
  }
  if (sub == "agent" && s.size() == 6) return agent(c, vm, s[5]);
  return api_fail(501, "Method '" + m + " " + c.path + "' not implemented");
}

// qemu-server: src/PVE/API2/Qemu.pm clone_vm. The checks of $load_and_check run at dispatch (HTTP
// 500 with the reason) and again in the worker; the worker writes the new config as a placeholder
// ("lock: clone") on the SOURCE node, clones the disks, drops the lock and only then renames the
// config to the target node.
SimResponse PveSim::Impl::clone(CallCtx& c, SimVm& src) {
  Params& p = c.params;
  auto errors = unknown_params(p, {"newid", "name", "full", "target", "storage", "pool", "description",
                                   "format", "snapname", "bwlimit"});
  if (p.count("newid") == 0) {
    errors["newid"] = "property is missing and it is not optional";
  } else if (std::string e = check_integer(p["newid"], 100, 999999999); !e.empty()) {
    errors["newid"] = e;
  }
  if (p.count("name")) {
    if (std::string e = check_dns_name(p["name"]); !e.empty()) errors["name"] = e;
  }
  if (p.count("full")) {
    if (std::string e = check_bool(p["full"]); !e.empty()) errors["full"] = e;
  }
  bool full = p.count("full") ? p["full"] == "1" : !src.is_template;
  if (p.count("storage") && !full) errors["storage"] = "option is only allowed for full clones";
  if (p.count("target") && node_status.count(p["target"]) == 0)
    errors["target"] = "no such cluster node '" + p["target"] + "'";
  if (!errors.empty()) return param_fail(errors);
  if (!allowed("VM.Allocate")) return forbidden("/vms/" + p["newid"], "VM.Allocate");
  if (!full && !src.is_template)
    return api_fail(500, "Linked clone feature is not supported for drive 'scsi0'");
  const std::string source = c.seg[1];
  std::string target = p.count("target") ? p["target"] : source;
  const bool moves = target != source;  // "$target eq $localnode" undefines $target
  if (node_status[target] != "online") return api_fail(500, "target node '" + target + "' is not online");
  if (p.count("storage")) {
    const SimStorage* st = storage(p["storage"]);
    if (st == nullptr) return api_fail(500, "storage '" + p["storage"] + "' does not exist");
    if (!allowed("Datastore.AllocateSpace"))
      return forbidden("/storage/" + p["storage"], "Datastore.AllocateSpace");
    if (moves && !st->shared)
      return api_fail(500, "can't clone to non-shared storage '" + p["storage"] + "'");
  }
  if (moves && !on_shared_storage(src.config))
    return api_fail(500, "can't clone VM to node '" + target + "' (VM uses local storage)");
  int newid = std::stoi(p["newid"]);
  // config_file($newid) is the local node's: a VM of that id on another node passes this check.
  auto existing = vms.find(newid);
  if (existing != vms.end() && existing->second.node == source)
    return api_fail(500, "unable to create VM " + p["newid"] + ": config file already exists");

  std::map<std::string, std::string> config = src.config;
  config.erase("template");
  config["name"] = p.count("name") ? p["name"] : "Copy-of-VM-" + src.config["name"];
  std::string disk_storage = src.config["scsi0"].substr(0, src.config["scsi0"].find(':'));
  std::string st = p.count("storage") ? p["storage"] : disk_storage;
  config["scsi0"] = st + ":vm-" + p["newid"] + "-disk-0,size=" + disk_size(src.config["scsi0"]);
  if (config.count("ide2")) config["ide2"] = st + ":vm-" + p["newid"] + "-cloudinit,media=cdrom";
  if (p.count("description")) config["description"] = p["description"];
  // The worker starts at once: it takes the new id's config lock (lock_config_full($newid, 1, ...):
  // a second dispatch of the same clone gives up on it), checks again, and writes the placeholder
  // config on the source node. pmxcfs refuses that file when another node has the id
  // (pve-common src/PVE/File.pm file_set_contents: the rename fails with EEXIST).
  const std::string newid_text = p["newid"];
  std::string error;
  if (config_locks.count(newid)) {
    error = "can't lock file '/var/lock/qemu-server/lock-" + newid_text + ".conf' - got timeout";
  } else if (existing != vms.end()) {
    error = "clone failed: close (rename) atomic file '/etc/pve/nodes/" + source + "/qemu-server/" +
            newid_text + ".conf' failed: File exists";
  }
  const bool placeholder = error.empty() && !c.task_fail;
  if (placeholder) {
    config_locks.insert(newid);
    SimVm vm;
    vm.vmid = newid;
    vm.node = source;
    vm.lock = "clone";  // "# qmclone temporary file\nlock: clone\n"
    vms[newid] = vm;
  }
  auto work = [this, newid, config, error]() -> std::string {
    if (!error.empty()) return error;
    std::lock_guard<std::mutex> lock(mu);
    if (vms.count(newid)) vms[newid].config = config;  // write_config after the disks, still locked
    return "";
  };
  std::string upid = start_task(c, source, "qmclone", std::to_string(src.vmid), work,
                                [this, newid, target, placeholder](bool ok) {
                                  if (!placeholder) return;
                                  config_locks.erase(newid);
                                  if (!ok) {
                                    vms.erase(newid);  // "unlink $conffile" on failure
                                    return;
                                  }
                                  vms[newid].lock.clear();
                                  vms[newid].node = target;  // the late rename to the target node
                                });
  tasks[upid].log = {"create " + std::string(full ? "full" : "linked") + " clone of drive scsi0"};
  return json_ok(upid);
}

// qemu-server: src/PVE/API2/Qemu.pm migrate_vm (checks at dispatch) and src/PVE/QemuMigrate.pm
// (the worker sets `lock: migrate`, moves the disks to `targetstorage` or the same storage id,
// moves the config to the target, clears the lock). Offline migration only.
SimResponse PveSim::Impl::migrate(CallCtx& c, SimVm& vm) {
  Params& p = c.params;
  auto errors = unknown_params(p, {"target", "online", "force", "migration_type", "migration_network",
                                   "with-local-disks", "targetstorage", "bwlimit", "with-conntrack-state"});
  if (p.count("target") == 0) errors["target"] = "property is missing and it is not optional";
  for (const char* k : {"online", "force", "with-local-disks"}) {
    if (p.count(k)) {
      if (std::string e = check_bool(p[k]); !e.empty()) errors[k] = e;
    }
  }
  if (errors.empty() && p["target"] == c.seg[1]) errors["target"] = "target is local node.";
  if (errors.empty() && node_status.count(p["target"]) == 0)
    return api_fail(500, "no such cluster node '" + p["target"] + "'");
  if (!errors.empty()) return param_fail(errors);
  if (!vm.lock.empty()) return api_fail(500, locked(vm));
  if (vm.running && p["online"] != "1") return api_fail(500, "can't migrate running VM without --online");
  std::string targetstorage = p.count("targetstorage") ? p["targetstorage"] : "";
  if (!targetstorage.empty()) {
    if (storage(targetstorage) == nullptr)
      return param_fail({{"targetstorage", "storage '" + targetstorage + "' does not exist"}});
    if (!allowed("Datastore.AllocateSpace"))
      return forbidden("/storage/" + targetstorage, "Datastore.AllocateSpace");
  }
  const std::string target = p["target"];
  if (node_status[target] != "online") return api_fail(500, "target node '" + target + "' is not online");
  const int vmid = vm.vmid;
  vm.lock = "migrate";
  std::string upid = start_task(c, vm.node, "qmigrate", std::to_string(vmid), nullptr,
                                [this, vmid, target, targetstorage](bool ok) {
                                  auto it = vms.find(vmid);
                                  if (it == vms.end()) return;
                                  it->second.lock.clear();
                                  if (!ok) return;
                                  it->second.node = target;
                                  if (targetstorage.empty()) return;
                                  for (auto& [key, value] : it->second.config) {
                                    if (key != "scsi0" && key != "ide2") continue;
                                    value = targetstorage + value.substr(value.find(':'));
                                  }
                                });
  tasks[upid].log = {"starting migration of VM " + std::to_string(vmid) + " to node '" + target + "'"};
  return json_ok(upid);
}

SimResponse PveSim::Impl::set_config(CallCtx& c, SimVm& vm, bool async) {
  Params& p = c.params;
  auto errors = unknown_params(
      p, {"cores",      "sockets",      "memory", "balloon",    "name",    "net0",     "ipconfig0",
          "nameserver", "searchdomain", "ciuser", "cipassword", "sshkeys", "tags",     "description",
          "agent",      "onboot",       "boot",   "digest",     "delete",  "skiplock", "cpu"});
  for (const auto& [k, v] : p) {
    std::string e;
    if (k == "cores" || k == "sockets") e = check_integer(v, 1, 1024);
    if (k == "memory") e = check_integer(v, 16, 4178944);
    if (k == "name") e = check_dns_name(v);
    if (k == "net0") e = check_net(v);
    if (k == "ipconfig0") e = check_ipconfig(v);
    if (k == "nameserver") e = check_nameserver(v);
    if (k == "ciuser") e = check_username(v);
    if (k == "sshkeys") e = check_sshkeys_encoding(v);
    if (k == "tags") e = check_tags(v);
    if (k == "onboot") e = check_bool(v);
    if (k == "description" && v.size() > 8192) e = "value may only be 8192 characters long";
    if (!e.empty()) errors[k] = e;
  }
  if (!errors.empty()) return param_fail(errors);
  // qemu-server: src/PVE/API2/Qemu.pm $check_vm_modify_config_perm: CPU, memory, network and
  // cloud-init options each need their VM.Config.* privilege, everything else VM.Config.Options.
  for (const auto& [k, v] : p) {
    if (k == "digest" || k == "skiplock" || k == "delete") continue;
    std::string need = "VM.Config.Options";
    if (k == "cores" || k == "sockets" || k == "cpu") need = "VM.Config.CPU";
    if (k == "memory" || k == "balloon") need = "VM.Config.Memory";
    if (k == "net0") need = "VM.Config.Network";
    if (k == "ipconfig0" || k == "nameserver" || k == "searchdomain" || k == "ciuser" || k == "cipassword" ||
        k == "sshkeys") {
      need = allowed("VM.Config.Cloudinit") ? "VM.Config.Cloudinit" : "VM.Config.Network";
    }
    if (!allowed(need)) return forbidden("/vms/" + std::to_string(vm.vmid), need);
  }
  // update_vm: PVE::Tools::validate_ssh_public_keys (pve-common: src/PVE/Tools.pm) runs ssh-keygen
  // on each key and dies "SSH public key validation error" - a plain 500, not a parameter error.
  if (p.count("sshkeys") && !check_sshkeys(p["sshkeys"]).empty())
    return api_fail(500, "SSH public key validation error");
  if (!vm.lock.empty() && p["skiplock"] != "1") return api_fail(500, locked(vm));
  for (const auto& [k, v] : p) {
    if (k == "delete") {
      std::stringstream ss(v);
      std::string key;
      while (std::getline(ss, key, ',')) vm.config.erase(key);
    } else if (k != "digest" && k != "skiplock") {
      vm.config[k] = v;
    }
  }
  if (!async) return json_ok(nullptr);
  return json_ok(start_task(c, vm.node, "qmconfig", std::to_string(vm.vmid), nullptr, nullptr));
}

SimResponse PveSim::Impl::resize(CallCtx& c, SimVm& vm) {
  Params& p = c.params;
  auto errors = unknown_params(p, {"disk", "size", "digest", "skiplock"});
  if (p.count("disk") == 0) errors["disk"] = "property is missing and it is not optional";
  if (p.count("size") == 0) {
    errors["size"] = "property is missing and it is not optional";
  } else if (!std::regex_match(p["size"], std::regex("\\+?[0-9]+(\\.[0-9]+)?[KMGT]?"))) {
    errors["size"] = "value does not match the regex pattern";
  }
  if (!errors.empty()) return param_fail(errors);
  if (!vm.lock.empty()) return api_fail(500, locked(vm));
  auto disk = vm.config.find(p["disk"]);
  if (disk == vm.config.end()) return api_fail(500, "disk '" + p["disk"] + "' does not exist");
  std::string current = disk_size(disk->second);
  std::string size = p["size"];
  long long wanted = size[0] == '+' ? size_bytes(current) + size_bytes(size.substr(1)) : size_bytes(size);
  if (wanted < size_bytes(current)) return api_fail(500, "shrinking disks is not supported");
  std::string new_size = std::to_string(wanted / (1024LL * 1024 * 1024)) + "G";
  std::string value = std::regex_replace(disk->second, std::regex("size=[0-9.]+[KMGT]?"), "size=" + new_size);
  int vmid = vm.vmid;
  std::string key = p["disk"];
  return json_ok(
      start_task(c, vm.node, "resize", std::to_string(vmid), nullptr, [this, vmid, key, value](bool ok) {
        if (ok && vms.count(vmid)) vms[vmid].config[key] = value;
      }));
}

SimResponse PveSim::Impl::power(CallCtx& c, SimVm& vm, const std::string& action) {
  auto errors = unknown_params(c.params, {"timeout", "skiplock", "forceStop", "keepActive",
                                          "overrule-shutdown", "migratedfrom", "stateuri"});
  if (!errors.empty()) return param_fail(errors);
  const int vmid = vm.vmid;
  const std::string id = std::to_string(vmid);
  if (action == "start") {
    if (vm.is_template) return api_fail(500, "you can't start a vm if it's a template");
    if (!vm.lock.empty()) return api_fail(500, locked(vm));
    if (vm.running) {
      return json_ok(start_task(
          c, vm.node, "qmstart", id, [id] { return "VM " + id + " already running"; }, nullptr));
    }
    VmSpec spec = spec_of(vm);
    return json_ok(start_task(
        c, vm.node, "qmstart", id, [this, spec] { return backend.start(spec); },
        [this, vmid](bool ok) {
          if (ok && vms.count(vmid)) {
            vms[vmid].running = true;
            vms[vmid].started = std::chrono::steady_clock::now();
          }
        }));
  }
  // stop (a hard stop) and shutdown (graceful; the simulation cuts power the same way).
  return json_ok(start_task(
      c, vm.node, action == "stop" ? "qmstop" : "qmshutdown", id, [this, vmid] { return backend.kill(vmid); },
      [this, vmid](bool ok) {
        if (ok && vms.count(vmid)) vms[vmid].running = false;
      }));
}

SimResponse PveSim::Impl::destroy(CallCtx& c, SimVm& vm) {
  auto errors = unknown_params(c.params, {"purge", "destroy-unreferenced-disks", "skiplock"});
  for (const char* k : {"purge", "destroy-unreferenced-disks", "skiplock"}) {
    if (c.params.count(k)) {
      if (std::string e = check_bool(c.params[k]); !e.empty()) errors[k] = e;
    }
  }
  if (!errors.empty()) return param_fail(errors);
  const std::string id = std::to_string(vm.vmid);
  if (vm.running) return api_fail(500, "VM " + id + " is running - destroy failed");
  if (!vm.lock.empty()) return api_fail(500, locked(vm));
  const int vmid = vm.vmid;
  vm.lock = "destroyed";
  return json_ok(start_task(
      c, vm.node, "qmdestroy", id, [this, vmid] { return backend.remove(vmid); },
      [this, vmid](bool ok) {
        if (ok) {
          vms.erase(vmid);
        } else if (vms.count(vmid)) {
          vms[vmid].lock.clear();
        }
      }));
}

SimResponse PveSim::Impl::agent(CallCtx& c, SimVm& vm, const std::string& command) {
  const std::string id = std::to_string(vm.vmid);
  bool ping = command == "ping" && c.method == "POST";
  bool nics = command == "network-get-interfaces" && c.method == "GET";
  if (!ping && !nics) return api_fail(501, "Method '" + c.method + " " + c.path + "' not implemented");
  if (!vm.running) return api_fail(500, "VM " + id + " is not running");
  if (vm.config.count("agent") == 0 || vm.config["agent"].rfind("0", 0) == 0) {
    return api_fail(500, "No QEMU guest agent configured");
  }
  bool early = std::chrono::steady_clock::now() - vm.started < opt.agent_delay;
  if (take_fault(Fault::Kind::agent_not_running, c) || early || !backend.guest_ready(vm.vmid)) {
    return api_fail(500, "QEMU guest agent is not running");
  }
  if (ping) return json_ok({{"result", nlohmann::json::object()}});
  VmSpec spec = spec_of(vm);
  nlohmann::json lo = {
      {"name", "lo"},
      {"hardware-address", "00:00:00:00:00:00"},
      {"ip-addresses", {{{"ip-address", "127.0.0.1"}, {"ip-address-type", "ipv4"}, {"prefix", 8}}}}};
  nlohmann::json eth = {
      {"name", "eth0"}, {"hardware-address", "bc:24:11:00:00:02"}, {"ip-addresses", nlohmann::json::array()}};
  if (!spec.address.empty()) {
    eth["ip-addresses"].push_back(
        {{"ip-address", spec.address}, {"ip-address-type", "ipv4"}, {"prefix", spec.prefix}});
  }
  return json_ok({{"result", {lo, eth}}});
}

}  // namespace pgha::sim
