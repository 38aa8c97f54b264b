// VMs as real Docker containers: the node image the Docker provider builds, systemd as PID 1 with
// the same container settings, on a bridge the simulator owns (labelled pgha.sim=1), at the VM's
// ipconfig0 address, with its sshkeys in /root/.ssh/authorized_keys. Container of VM N:
// pgha-pve-sim-N (labels pgha.sim=1, pgha.sim.vmid=N).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "backend_factory.hpp"
#include "net/curl_http.hpp"
#include "providers/docker/docker_client.hpp"
#include "vm_backend.hpp"

namespace pgha::sim {

class DockerBackend final : public VmBackend {
 public:
  explicit DockerBackend(BackendOptions options);
  ~DockerBackend() override;  // removes the network when no container is left on it

  // Connects, builds the node image when missing, makes the network. "" or the error.
  std::string init();

  std::string start(const VmSpec& spec) override;
  std::string kill(int vmid) override;
  std::string remove(int vmid) override;
  bool guest_ready(int vmid) override;

 private:
  std::string container(int vmid) const { return "pgha-pve-sim-" + std::to_string(vmid); }

  BackendOptions options_;
  std::mutex mu_;  // CurlHttp is not shared between threads; tasks run concurrently
  std::unique_ptr<CurlHttp> http_;
  std::unique_ptr<DockerClient> docker_;
};

}  // namespace pgha::sim
