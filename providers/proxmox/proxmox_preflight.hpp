// What the provider checks before its first clone, so that a wrong template, storage or token
// fails at once with an error naming it instead of as a task failure or a 10-minute time-out:
// each template VMs are cloned from exists (on its own host, for a host's own template), is a
// template, has a cloud-init drive and the agent option; the clone's storage exists on every host
// VMs go to; the caller holds the privileges this Proxmox VE version needs. Also decides how new
// VMs reach their hosts (HostRoute).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "providers/proxmox/proxmox_routes.hpp"
#include "providers/proxmox/proxmox_vm_ops.hpp"

namespace pgha::pve {

struct TemplateInfo {
  VmInfo vm;                          // the template, its name from its config
  std::vector<std::string> storages;  // of its volumes (disks and the cloud-init drive)
  std::string disk_storage;           // of its boot disk
};

// How a new VM reaches its host from one template. Proxmox clones onto another node only when all
// the source's volumes are on shared storage (qemu-server PVE/API2/Qemu.pm clone_vm: "can't clone
// VM to node '...' (VM uses local storage)"); otherwise pgha clones on the template's host and
// migrates the stopped VM (POST .../migrate with `targetstorage`).
struct CloneRoute {
  bool shared = false;         // clone with `target` straight onto the VM's host
  std::string storage;         // where the clone's disks go
  std::string target_storage;  // `targetstorage` for migrations ("" = keep the storage id)
  std::string why;             // "storage local-lvm is not shared", for the report
};

// Errors: not_found when VM `vmid` does not exist; bad_input when it is not a template or lacks a
// cloud-init drive or the agent option (each message names the VM and host).
Result<TemplateInfo> check_template(VmOps& ops, int vmid, const std::vector<VmInfo>& all);

// The route from `tmpl`, after checking the clone's storage exists in the cluster and is available
// on each of `hosts`. Errors: bad_input naming the storage and the host.
Result<CloneRoute> check_storage(VmOps& ops, const ProxmoxSettings& settings, const TemplateInfo& tmpl,
                                 const std::vector<std::string>& hosts);

// A privilege and the ACL path it is checked on.
struct Privilege {
  std::string path;
  std::string name;
};

// What pgha's calls need on Proxmox VE `major_version` (8, 9, ...) for these routes (usable host
// -> route): VM.Migrate only when some route migrates; the guest agent ping needs VM.Monitor
// before VE 9 and VM.GuestAgent.Audit from VE 9 on (pve-access-control commits 922f710 and
// 0706945). Pure.
std::vector<Privilege> required_privileges(int major_version, const ProxmoxSettings& settings,
                                           const std::map<std::string, HostRoute>& routes);

// Errors: auth listing every missing privilege with its path and the Proxmox version.
Status check_privileges(VmOps& ops, const ProxmoxSettings& settings,
                        const std::map<std::string, HostRoute>& routes);

// The whole preflight for VMs going to `hosts` (the usable ones): every template they are cloned
// from (each listed one on its own host), the storages, then the privileges. Returns each host's
// route. Errors as the checks above, the template's errors naming the inventory key.
Result<std::map<std::string, HostRoute>> preflight(VmOps& ops, const ProxmoxSettings& settings,
                                                   const std::vector<VmInfo>& all,
                                                   const std::vector<std::string>& hosts);

}  // namespace pgha::pve
