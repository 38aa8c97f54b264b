#include "backend_factory.hpp"

namespace pgha::sim {

std::unique_ptr<VmBackend> make_backend(const std::string& kind, const BackendOptions& options,
                                        std::string& error) {
  (void)options;
  if (kind == "null") return std::make_unique<NullBackend>();
  error = "unknown backend '" + kind + "'";
  return nullptr;
}

}  // namespace pgha::sim
