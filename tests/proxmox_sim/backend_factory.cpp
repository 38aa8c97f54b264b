#include "backend_factory.hpp"

#include "docker_backend.hpp"

namespace pgha::sim {

std::unique_ptr<VmBackend> make_backend(const std::string& kind, const BackendOptions& options,
                                        std::string& error) {
  if (kind == "null") return std::make_unique<NullBackend>();
  if (kind == "docker") {
    auto backend = std::make_unique<DockerBackend>(options);
    error = backend->init();
    if (!error.empty()) return nullptr;
    return backend;
  }
  error = "unknown backend '" + kind + "'";
  return nullptr;
}

}  // namespace pgha::sim
