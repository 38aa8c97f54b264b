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
  nlohmann::json r = {{"id", "qemu/" + std::to_string(vm.vmid)},
                      {"type", "qemu"},
                      {"vmid", vm.vmid},
                      {"node", vm.node},
                      {"name", get("name")},
                      {"status", vm.running ? "running" : "stopped"},
                      {"template", vm.is_template ? 1 : 0},
                      {"maxcpu", get("cores").empty() ? 1 : std::stoi(get("cores"))},
                      {"maxmem", (get("memory").empty() ? 512LL : std::stoll(get("memory"))) * 1024 * 1024},
                      {"uptime", 0}};
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
  if (s.size() == 4 && m == "DELETE") return destroy(c, vm);
  if (s.size() == 4 && m == "GET")
    return json_ok(nlohmann::json::array({{{"subdir", "config"}}, {{"subdir", "status"}}}));
  if (sub == "clone" && m == "POST") return clone(c, vm);
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
  if (!full && !src.is_template)
    return api_fail(500, "Linked clone feature is not supported for drive 'scsi0'");
  std::string target = p.count("target") ? p["target"] : src.node;
  if (node_status[target] != "online") return api_fail(500, "target node '" + target + "' is not online");
  int newid = std::stoi(p["newid"]);
  if (vms.count(newid))
    return api_fail(500, "unable to create VM " + p["newid"] + ": config file already exists");

  SimVm vm;
  vm.vmid = newid;
  vm.node = target;
  vm.config = src.config;
  vm.config.erase("template");
  vm.config["name"] = p.count("name") ? p["name"] : "Copy-of-VM-" + src.config["name"];
  std::string storage = p.count("storage") ? p["storage"] : "local-lvm";
  vm.config["scsi0"] = storage + ":vm-" + p["newid"] + "-disk-0,size=" + disk_size(src.config["scsi0"]);
  vm.config["ide2"] = storage + ":vm-" + p["newid"] + "-cloudinit,media=cdrom";
  if (p.count("description")) vm.config["description"] = p["description"];
  vm.lock = "clone";
  vms[newid] = vm;
  std::string upid =
      start_task(c, c.seg[1], "qmclone", std::to_string(src.vmid), nullptr, [this, newid](bool ok) {
        if (ok) {
          vms[newid].lock.clear();
        } else {
          vms.erase(newid);
        }
      });
  tasks[upid].log = {"create " + std::string(full ? "full" : "linked") + " clone of drive scsi0"};
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
    if (k == "sshkeys") e = check_sshkeys(v);
    if (k == "tags") e = check_tags(v);
    if (k == "onboot") e = check_bool(v);
    if (k == "description" && v.size() > 8192) e = "value may only be 8192 characters long";
    if (!e.empty()) errors[k] = e;
  }
  if (!errors.empty()) return param_fail(errors);
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
