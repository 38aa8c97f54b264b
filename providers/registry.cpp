// The provider name table: one factory per provider, each implemented in its own directory.
#include "providers/provider.hpp"

namespace pgha {

Result<std::unique_ptr<Provider>> make_docker_provider(const Inventory& inv);   // providers/docker/
Result<std::unique_ptr<Provider>> make_proxmox_provider(const Inventory& inv);  // providers/proxmox/
Result<std::unique_ptr<Provider>> make_static_provider(const Inventory& inv);   // providers/static/

Result<std::unique_ptr<Provider>> make_provider(const Inventory& inv) {
  switch (inv.provider.type) {
    case ProviderType::docker: return make_docker_provider(inv);
    case ProviderType::proxmox: return make_proxmox_provider(inv);
    case ProviderType::static_hosts: return make_static_provider(inv);
  }
  return Error(ErrorKind::bad_input, "unknown provider type");
}

}  // namespace pgha
