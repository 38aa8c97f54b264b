// Picks the simulator's VM backing by name: "docker" (real containers) or "null" (bookkeeping only).
#pragma once

#include <memory>
#include <string>

#include "vm_backend.hpp"

namespace pgha::sim {

struct BackendOptions {
  std::string image = "pgha-node:bookworm";  // the node image the Docker provider builds
  std::string network = "pgha-pve-sim";      // a bridge the backend creates, labelled pgha.sim=1
  std::string subnet = "10.88.0.0/24";
  std::string docker_host;  // "" = $DOCKER_HOST or /var/run/docker.sock
};

// nullptr with `error` set when the kind is unknown or the backend cannot start.
std::unique_ptr<VmBackend> make_backend(const std::string& kind, const BackendOptions& options,
                                        std::string& error);

}  // namespace pgha::sim
