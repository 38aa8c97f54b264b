// Placeholder until the proxmox provider lands; replaced by its real factory.
#include "providers/provider.hpp"

namespace pgha {

Result<std::unique_ptr<Provider>> make_proxmox_provider(const Inventory&) {
  return Error(ErrorKind::bad_input, "the proxmox provider is not available in this build");
}

}  // namespace pgha
