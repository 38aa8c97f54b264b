#include "docker_backend.hpp"

#include <iostream>

#include "core/embedded.hpp"
#include "core/net_addr.hpp"
#include "providers/docker/docker_image.hpp"
#include "providers/docker/docker_provider.hpp"
#include "providers/docker/docker_spec.hpp"

namespace pgha::sim {

namespace {
const char* kSimLabel = "pgha.sim";
}

DockerBackend::DockerBackend(BackendOptions options) : options_(std::move(options)) {}

DockerBackend::~DockerBackend() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!docker_) return;
  auto net = docker_->inspect_network(options_.network);
  if (net && net->has_value() && field(**net, "Containers").empty()) {
    (void)docker_->remove_network(field(**net, "Id").get<std::string>());
  }
}

std::string DockerBackend::init() {
  std::lock_guard<std::mutex> lock(mu_);
  auto endpoint = parse_docker_host(options_.docker_host);
  if (!endpoint) return endpoint.error().describe();
  CurlHttpOptions http;
  http.unix_socket_path = endpoint->unix_socket;
  http_ = std::make_unique<CurlHttp>(http);
  docker_ = std::make_unique<DockerClient>(*http_, endpoint->base_url);
  if (Status s = docker_->ping(); !s) return s.error().describe();

  DockerSettings image;
  image.image = options_.image;
  // The simulator's VMs run the Debian 12 node image (PostgreSQL 15).
  auto built = ensure_image(*docker_, image, 15, embedded_templates(), RootfsMaker{},
                            [](const std::string& line) { std::cerr << "  image: " << line << "\n"; });
  if (!built) return built.error().describe();

  auto net = docker_->inspect_network(options_.network);
  if (!net) return net.error().describe();
  if (!net->has_value()) {
    auto subnet = parse_cidr(options_.subnet);
    if (!subnet) return "not a subnet: " + options_.subnet;
    json spec = {
        {"Name", options_.network},
        {"CheckDuplicate", true},
        {"Driver", "bridge"},
        {"IPAM",
         {{"Config",
           json::array({{{"Subnet", options_.subnet}, {"Gateway", format_ipv4(subnet->first_host())}}})}}},
        {"Labels", {{kSimLabel, "1"}}}};
    if (auto id = docker_->create_network(spec); !id) return id.error().describe();
  }
  return "";
}

std::string DockerBackend::start(const VmSpec& vm) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = container(vm.vmid);
  auto existing = docker_->inspect_container(name);
  if (!existing) return existing.error().describe();
  if (!existing->has_value()) {
    if (vm.address.empty()) return "the simulator needs a static ipconfig0 address (ip=A.B.C.D/N)";
    // The Docker provider's systemd settings (providers/docker/docker_spec.cpp).
    json spec = {
        {"Image", options_.image},
        {"Hostname", vm.name},
        {"Labels", {{kSimLabel, "1"}, {"pgha.sim.vmid", std::to_string(vm.vmid)}}},
        {"Cmd", json::array({"/sbin/init"})},
        {"StopSignal", "SIGRTMIN+3"},
        {"HostConfig",
         {{"NetworkMode", options_.network},
          {"CapAdd", json::array({"SYS_ADMIN", "NET_ADMIN", "NET_RAW"})},
          {"Tmpfs", {{"/run", "rw,exec,mode=755"}, {"/run/lock", "rw"}}},
          {"Binds", json::array({"/sys/fs/cgroup:/sys/fs/cgroup:ro"})},
          {"Sysctls", {{"net.ipv4.ip_nonlocal_bind", "1"}}},
          {"RestartPolicy", {{"Name", "no"}}}}},
        {"NetworkingConfig",
         {{"EndpointsConfig",
           {{options_.network,
             {{"IPAMConfig", {{"IPv4Address", vm.address}}}, {"Aliases", json::array({vm.name})}}}}}}},
    };
    auto id = docker_->create_container(name, spec);
    if (!id) return id.error().describe();
    // cloud-init's job on a real VM: the injected keys (root's; the simulator's ciuser is root).
    if (Status s = docker_->put_archive(*id, "/", authorized_keys_tar(vm.authorized_keys)); !s) {
      return s.error().describe();
    }
  }
  if (Status s = docker_->start_container(name); !s) return s.error().describe();
  return "";
}

std::string DockerBackend::kill(int vmid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto c = docker_->inspect_container(container(vmid));
  if (!c) return c.error().describe();
  if (!c->has_value() || !field(**c, "State", "Running").is_boolean() ||
      !field(**c, "State", "Running").get<bool>()) {
    return "";
  }
  if (Status s = docker_->kill_container(container(vmid), "KILL");
      !s && s.error().kind != ErrorKind::conflict) {
    return s.error().describe();
  }
  return "";
}

std::string DockerBackend::remove(int vmid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Status s = docker_->remove_container(container(vmid)); !s && s.error().kind != ErrorKind::not_found) {
    return s.error().describe();
  }
  return "";
}

bool DockerBackend::guest_ready(int vmid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto c = docker_->inspect_container(container(vmid));
  if (!c || !c->has_value()) return false;
  const json& running = field(**c, "State", "Running");
  return running.is_boolean() && running.get<bool>();
}

}  // namespace pgha::sim
