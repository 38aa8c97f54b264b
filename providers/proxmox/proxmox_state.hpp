// The VM ids a cluster's Proxmox VMs got, kept in <state_dir>/proxmox-vms.json so that `down` and
// a resumed `up` know them even before the VMs carry their tags. Tags stay the authority for
// deciding a VM is ours; this file is the memory of ids.
#pragma once

#include <map>
#include <string>

#include "core/error.hpp"

namespace pgha::pve {

struct VmRecord {
  int vmid = 0;
  std::string host;  // Proxmox node
};

using VmRecords = std::map<std::string, VmRecord>;  // inventory node -> its VM

// Empty when the file does not exist (or state_dir is ""). Errors: io when it cannot be read,
// bad_input when it is not the expected JSON.
Result<VmRecords> load_vm_records(const std::string& state_dir);
// Writes atomically (temp file + rename), creating state_dir. A no-op when state_dir is "".
Status save_vm_records(const std::string& state_dir, const VmRecords& records);

}  // namespace pgha::pve
