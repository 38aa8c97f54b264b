// Placeholder until the static provider lands; replaced by its real factory.
#include "providers/provider.hpp"

namespace pgha {

Result<std::unique_ptr<Provider>> make_static_provider(const Inventory&) {
  return Error(ErrorKind::bad_input, "the static provider is not available in this build");
}

}  // namespace pgha
