// make_docker_provider for the registry: the engine's address (inventory, else $DOCKER_HOST, else
// the local socket) turned into a CurlHttp, and the embedded templates as the image's source.
#include <cstdlib>
#include <iostream>

#include "core/embedded.hpp"
#include "providers/docker/debootstrap.hpp"
#include "providers/docker/docker_provider.hpp"

namespace pgha {

Result<std::unique_ptr<Provider>> make_docker_provider(const Inventory& inv) {
  std::string host = inv.provider.docker.host;
  EngineAddress address;
  if (!host.empty()) address.setting = "provider.docker.host in the inventory";
  if (host.empty()) {
    const char* env = std::getenv("DOCKER_HOST");
    host = env ? env : "";
  }
  auto endpoint = parse_docker_host(host);
  if (!endpoint) return endpoint.error();
  CurlHttpOptions options;
  options.unix_socket_path = endpoint->unix_socket;
  DockerProviderDeps deps;
  deps.http = std::make_unique<CurlHttp>(options);
  deps.base_url = endpoint->base_url;
  address.shown = endpoint->address;
  deps.address = address;
  deps.templates = embedded_templates();
  deps.progress = [](const std::string& line) { std::cerr << "  docker: " << line << "\n"; };
  // The base image's fallback: debootstrap from $PGHA_DEBIAN_MIRROR, else apt's Debian mirror.
  const char* mirror = std::getenv("PGHA_DEBIAN_MIRROR");
  deps.make_rootfs = debootstrap_rootfs(mirror && *mirror ? mirror : apt_debian_mirror());
  return std::unique_ptr<Provider>(std::make_unique<DockerProvider>(std::move(deps)));
}

}  // namespace pgha
