#include "providers/proxmox/proxmox_preflight.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace pgha::pve {

namespace {

std::string value_of(const nlohmann::json& obj, const std::string& key) {
  if (!obj.is_object() || !obj.contains(key)) return "";
  return obj[key].is_string() ? obj[key].get<std::string>() : obj[key].dump();
}

// ide0, scsi1, virtio2, sata3, efidisk0, tpmstate0: the keys whose values are volumes.
bool is_drive_key(const std::string& key) {
  for (const char* prefix : {"ide", "sata", "scsi", "virtio", "efidisk", "tpmstate"}) {
    std::string p = prefix;
    if (key.size() > p.size() && key.compare(0, p.size(), p) == 0 &&
        std::all_of(key.begin() + static_cast<long>(p.size()), key.end(),
                    [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return true;
    }
  }
  return false;
}

// "local-lvm:vm-100-disk-0,size=2G" -> "local-lvm"; "" for "none", "cdrom" and the like.
std::string volume_storage(const std::string& value) {
  size_t colon = value.find(':');
  size_t comma = value.find(',');
  if (colon == std::string::npos || (comma != std::string::npos && comma < colon)) return "";
  return value.substr(0, colon);
}

// "1", "enabled=1", "1,fstrim_cloned_disks=1" -> true.
bool agent_enabled(const std::string& agent) {
  return agent.rfind("1", 0) == 0 || agent.find("enabled=1") != std::string::npos;
}

}  // namespace

Result<TemplateInfo> check_template(VmOps& ops, int vmid, const std::vector<VmInfo>& all) {
  const std::string id = std::to_string(vmid);
  const VmInfo* listed = nullptr;
  for (const VmInfo& vm : all) {
    if (vm.vmid == vmid) listed = &vm;
  }
  if (listed == nullptr) return Error(ErrorKind::not_found, "template VM " + id + " does not exist");
  const std::string where = "VM " + id + " on " + listed->host;
  Result<nlohmann::json> cfg = ops.config(*listed);
  if (!cfg) return std::move(cfg.error()).with("template " + where);
  TemplateInfo out;
  out.vm = *listed;
  out.vm.name = value_of(*cfg, "name");
  out.vm.is_template = value_of(*cfg, "template") == "1";
  if (!out.vm.is_template) {
    return Error(ErrorKind::bad_input,
                 where + " is not a template (make it one with `qm template " + id + "`)");
  }
  bool cloudinit = false;
  for (const auto& [key, value] : cfg->items()) {
    if (!is_drive_key(key) || !value.is_string()) continue;
    const std::string v = value.get<std::string>();
    if (v.find("cloudinit") != std::string::npos) cloudinit = true;
    std::string st = volume_storage(v);
    if (st.empty()) continue;
    if (std::find(out.storages.begin(), out.storages.end(), st) == out.storages.end())
      out.storages.push_back(st);
  }
  if (!cloudinit) {
    return Error(ErrorKind::bad_input, "template " + where +
                                           " has no cloud-init drive, so its clones would never get their "
                                           "address or SSH key (add one: `qm set " +
                                           id + " --ide2 <storage>:cloudinit`)");
  }
  if (!agent_enabled(value_of(*cfg, "agent"))) {
    return Error(ErrorKind::bad_input, "template " + where + " lacks the agent option (`qm set " + id +
                                           " --agent enabled=1`, with qemu-guest-agent installed in it)");
  }
  for (const char* key : {"scsi0", "virtio0", "sata0", "ide0"}) {
    std::string st = volume_storage(value_of(*cfg, key));
    if (!st.empty() && value_of(*cfg, key).find("cloudinit") == std::string::npos) {
      out.disk_storage = st;
      break;
    }
  }
  return out;
}

Result<CloneRoute> check_storage(VmOps& ops, const ProxmoxSettings& s, const TemplateInfo& tmpl,
                                 const std::vector<std::string>& hosts) {
  Result<std::map<std::string, bool>> cluster = ops.storages();
  if (!cluster) return std::move(cluster.error()).with("storage configuration");
  CloneRoute route;
  route.storage = s.full_clone && !s.storage.empty() ? s.storage : tmpl.disk_storage;
  auto it = cluster->find(route.storage);
  if (it == cluster->end()) {
    // GET /storage lists only the storages the caller may audit (pve-storage API2/Storage/Config.pm).
    return Error(ErrorKind::bad_input,
                 "storage '" + route.storage + "' does not exist in the Proxmox cluster" +
                     (s.storage.empty() ? " (the template's disk storage)" : "") +
                     ", or the token lacks Datastore.Audit on /storage/" + route.storage);
  }
  // Shared when the clone's storage and every volume of the template is (Qemu.pm clone_vm checks
  // both: "can't clone to non-shared storage", $check_storage_access_clone).
  route.shared = it->second;
  std::string local = it->second ? "" : route.storage;
  for (const std::string& st : tmpl.storages) {
    auto t = cluster->find(st);
    if (t == cluster->end() || !t->second) {
      route.shared = false;
      if (local.empty()) local = st;
    }
  }
  if (!route.shared) {
    route.why = "storage " + local + " is not shared";
    if (s.full_clone && !s.storage.empty()) route.target_storage = s.storage;
  }
  for (const std::string& host : hosts) {
    Result<std::map<std::string, bool>> here = ops.storages(host);
    if (!here) return std::move(here.error()).with("Proxmox host " + host);
    if (here->count(route.storage) == 0) {
      return Error(ErrorKind::bad_input,
                   "storage '" + route.storage + "' is not available on Proxmox host " + host);
    }
  }
  return route;
}

std::vector<Privilege> required_privileges(int major_version, const ProxmoxSettings& s,
                                           const std::map<std::string, HostRoute>& routes) {
  // qemu-server PVE/API2/Qemu.pm: clone_vm (VM.Clone on the template, VM.Allocate on the new id,
  // Datastore.AllocateSpace on the storage, SDN.Use on the bridge), update_vm
  // ($check_vm_modify_config_perm), resize_vm, vm_start/vm_stop, destroy_vm, migrate_vm;
  // PVE/API2/Qemu/Agent.pm for the ping.
  std::vector<Privilege> out;
  for (const char* p :
       {"VM.Allocate", "VM.Clone", "VM.Audit", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network",
        "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.Options", "VM.PowerMgmt"}) {
    out.push_back({"/vms", p});
  }
  std::set<std::string> storages;
  bool migrates = false;
  for (const auto& [host, route] : routes) {
    migrates = migrates || !route.migrate_to.empty();
    storages.insert(route.storage);
    if (!route.migrate_to.empty() && !route.target_storage.empty()) storages.insert(route.target_storage);
  }
  if (migrates) out.push_back({"/vms", "VM.Migrate"});
  out.push_back({"/vms", major_version >= 9 ? "VM.GuestAgent.Audit" : "VM.Monitor"});
  for (const std::string& st : storages) out.push_back({"/storage/" + st, "Datastore.AllocateSpace"});
  out.push_back({"/sdn/zones/localnetwork/" + s.bridge, "SDN.Use"});
  return out;
}

Status check_privileges(VmOps& ops, const ProxmoxSettings& s,
                        const std::map<std::string, HostRoute>& routes) {
  Result<int> version = ops.major_version();
  if (!version) return version.error();
  std::map<std::string, std::set<std::string>> held;
  std::string missing;
  for (const Privilege& p : required_privileges(*version, s, routes)) {
    if (held.count(p.path) == 0) {
      Result<std::set<std::string>> privs = ops.privileges(p.path);
      if (!privs) return std::move(privs.error()).with("privileges on " + p.path);
      held[p.path] = std::move(*privs);
    }
    if (held[p.path].count(p.name) != 0) continue;
    missing += (missing.empty() ? "" : ", ") + p.name + " on " + p.path;
  }
  if (missing.empty()) return {};
  std::string message = "the Proxmox VE " + std::to_string(*version) + " user or API token lacks " + missing;
  if (*version >= 9 && missing.find("VM.GuestAgent.Audit") != std::string::npos) {
    message += " (VE 9 replaced VM.Monitor with the VM.GuestAgent.* privileges)";
  }
  return Error(ErrorKind::auth, message);
}

Result<std::map<std::string, HostRoute>> preflight(VmOps& ops, const ProxmoxSettings& s,
                                                   const std::vector<VmInfo>& all,
                                                   const std::vector<std::string>& hosts) {
  std::map<std::string, HostRoute> routes;
  // Hosts with a template of their own: the clone stays where it is made, whatever the storage.
  std::vector<std::string> from_main;
  for (const std::string& host : hosts) {
    auto own = s.templates.find(host);
    if (own == s.templates.end()) {
      from_main.push_back(host);
      continue;
    }
    const std::string key = "provider.proxmox.templates." + host;
    Result<TemplateInfo> tmpl = check_template(ops, own->second, all);
    if (!tmpl) return std::move(tmpl.error()).with(key);
    if (tmpl->vm.host != host) {
      return Error(ErrorKind::bad_input, "template VM " + std::to_string(own->second) + " is on " +
                                             tmpl->vm.host + ", not on " + host)
          .with(key);
    }
    Result<CloneRoute> route = check_storage(ops, s, *tmpl, {host});
    if (!route) return std::move(route.error()).with(key);
    routes[host] = HostRoute{own->second, host, true, "", "", route->storage, "", ""};
  }
  if (!from_main.empty()) {
    if (s.template_vmid <= 0) {
      return Error(ErrorKind::bad_input,
                   "provider.proxmox.template is not set and provider.proxmox.templates "
                   "names no template for " +
                       from_main.front());
    }
    Result<TemplateInfo> tmpl = check_template(ops, s.template_vmid, all);
    if (!tmpl) return std::move(tmpl.error()).with("provider.proxmox.template");
    Result<CloneRoute> route = check_storage(ops, s, *tmpl, from_main);
    if (!route) return route.error();
    for (const std::string& host : from_main) {
      HostRoute r{s.template_vmid, tmpl->vm.host, false, "", "", route->storage, "", ""};
      if (host != tmpl->vm.host) {
        (route->shared ? r.target : r.migrate_to) = host;
        r.why = route->shared ? "storage " + route->storage + " is shared" : route->why;
        if (!route->shared) r.target_storage = route->target_storage;
      }
      routes[host] = r;
    }
  }
  if (Status st = check_privileges(ops, s, routes); !st) return st.error();
  return routes;
}

}  // namespace pgha::pve
