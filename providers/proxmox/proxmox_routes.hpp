// Which way a new VM reaches its host (HostRoute, decided by proxmox_preflight.hpp), and the route in
// words for up's report, `plan` and `validate`. Pure.
#pragma once

#include <string>

#include "core/inventory.hpp"

namespace pgha::pve {

// How a new VM reaches one host: cloned from the host's own template (provider.proxmox.templates),
// or from provider.proxmox.template on the template's host, then either created there, or sent
// with the clone's `target` (shared storage), or migrated after the clone (local storage).
struct HostRoute {
  int template_vmid = 0;
  std::string template_host;   // where the clone task runs
  bool own = false;            // the host's own template
  std::string target;          // the clone's `target` ("" = the VM stays on template_host)
  std::string migrate_to;      // the migration after the clone ("" = none)
  std::string storage;         // where the clone's disks go
  std::string target_storage;  // the migration's `targetstorage` ("" = the same storage id)
  std::string why;             // "storage ceph is shared", "storage local-lvm is not shared"
};

// The route in words, for up's report and for `plan`: "clone from template 9000 on pve1, then
// migrate to pve2 (storage local-lvm is not shared; targetstorage local-lvm)".
std::string describe(const HostRoute& route);

// What `validate` can say about a VM placed on `host` without asking Proxmox: certain for a host
// with its own template; otherwise both ways, as the storage's shared flag decides.
std::string describe_unobserved(const ProxmoxSettings& settings, const std::string& host);

}  // namespace pgha::pve
