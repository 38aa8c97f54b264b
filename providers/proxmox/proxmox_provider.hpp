// The Proxmox VE provider: VMs cloned from a cloud-init template (or a host's own one,
// provider.proxmox.templates; proxmox_preflight.hpp decides each host's route), one per inventory
// node, spread over the inventory's Proxmox hosts (proxmox_placement.hpp), tagged `pgha-<cluster>`,
// their ids recorded in <state_dir>/proxmox-vms.json. Tags decide what is ours: nothing untagged is touched.
// A node removed from the inventory loses its VM (stopped, destroyed with purge); removed with its
// data kept, the VM stays stopped and is also tagged `pgha_kept`, out of list() until the node
// returns or `down` destroys it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/http.hpp"
#include "providers/provider.hpp"
#include "providers/proxmox/proxmox_boot.hpp"
#include "providers/proxmox/proxmox_client.hpp"
#include "providers/proxmox/proxmox_vm_ops.hpp"

namespace pgha::pve {

struct ProviderDeps {
  std::unique_ptr<HttpTransport> http;  // to the inventory's endpoint (TLS already configured)
  Auth auth;
  Clock* clock = nullptr;           // null = real_clock()
  std::unique_ptr<SshProbe> probe;  // null = make_tcp_ssh_probe()
  Timing timing;
  std::function<void(const std::string&)> warn;  // null = "warning: ..." on stderr
};

std::unique_ptr<Provider> make_proxmox_provider(ProviderDeps deps);

// The authentication the inventory and environment ask for: the inventory's API token when both
// its id and secret are set, else ticket auth from PROXMOX_USERNAME / PROXMOX_PASSWORD. Errors:
// bad_input naming what is missing (never a secret).
Result<Auth> auth_from(const ProxmoxSettings& settings);

}  // namespace pgha::pve
