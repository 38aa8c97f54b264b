// The docker provider: one bridge network per cluster with the inventory's subnet, one systemd
// container per node at its fixed address, named volumes for the data, all labelled
// pgha.cluster=<cluster>. Talks to the engine through DockerClient only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/curl_http.hpp"
#include "providers/docker/docker_client.hpp"
#include "providers/docker/docker_engine.hpp"
#include "providers/docker/docker_image.hpp"
#include "providers/provider.hpp"

namespace pgha {

struct DockerProviderDeps {
  std::unique_ptr<StreamingHttpTransport> http;
  std::string base_url = "http://localhost/v1.41";   // its version is replaced by the negotiated one
  EngineAddress address;                             // names the engine in errors; "" = base_url
  std::map<std::string, std::string> templates;      // the image's build context source
  std::function<void(const std::string&)> progress;  // image build steps; may be empty
  RootfsMaker make_rootfs;  // the base image when pulling it fails (debootstrap); empty = no fallback
};

class DockerProvider final : public Provider {
 public:
  explicit DockerProvider(DockerProviderDeps deps);
  std::string name() const override { return "docker"; }

  Result<std::vector<Machine>> ensure(const Inventory& inv, const ProvisionRequest& req) override;
  Result<std::vector<Machine>> list(const Inventory& inv) override;
  Status destroy(const Inventory& inv, DataRetention data) override;
  Status remove(const Inventory& inv, const Machine& machine, DataRetention data) override;
  Status inject(const Inventory& inv, const std::string& node, MachineFault fault) override;
  Status lift(const Inventory& inv, const std::string& node, MachineFault fault) override;
  FenceSupport fence_support() const override { return FenceSupport::stop; }
  Status fence(const Inventory& inv, const std::string& node) override;
  Result<PowerState> power_state(const Inventory& inv, const std::string& node) override;

 private:
  Status ensure_network(const Inventory& inv);
  // Why creating the cluster's network failed, when the answer was an address pool overlap: the
  // engine's networks holding an overlapping subnet, named, and the inventory key to change. Any
  // other failure (or no such network found) is returned as it came.
  Error explain_network_failure(const Inventory& inv, Error failure);
  Status ensure_volumes(const Inventory& inv, const Node& node);
  Result<Machine> ensure_container(const Inventory& inv, const Node& node, const std::string& public_key,
                                   const NodeRuntime& runtime);
  // The node's container, checked to belong to this cluster. Errors: bad_input for an unknown
  // node, not_found when it has no container.
  Result<json> node_container(const Inventory& inv, const std::string& node);
  // docker_.exec() and an error (with `what`) unless it exits 0.
  Status exec_ok(const std::string& id, const std::vector<std::string>& argv, const std::string& what);

  // The engine's API version negotiated and its facts read, once: every public call starts here.
  Result<EngineFacts> engine();

  DockerProviderDeps deps_;
  DockerClient docker_;
  std::mutex engine_mu_;
  std::optional<EngineFacts> facts_;
};

// DOCKER_HOST-style address -> (unix socket path or "", base URL, the address as shown to the
// user). "" is the local socket; tcp:// without a port is Docker's 2375. Errors: bad_input.
struct DockerEndpoint {
  std::string unix_socket;
  std::string base_url;
  std::string address;  // "unix:///var/run/docker.sock", "tcp://10.0.0.5:2375"
};
Result<DockerEndpoint> parse_docker_host(const std::string& host);

}  // namespace pgha
