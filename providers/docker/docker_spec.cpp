#include "providers/docker/docker_spec.hpp"

#include <arpa/inet.h>

#include "providers/docker/tar_writer.hpp"

namespace pgha {

std::vector<VolumeMount> node_volumes(const Inventory& inv) {
  std::vector<VolumeMount> v = {{"data", "/var/lib/postgresql"}, {"etcd", "/var/lib/etcd"}};
  // The pgBackRest repository is one volume mounted on every node, like an NFS share on VMs: whichever
  // node is primary archives into the same repository, so a failover does not orphan the stanza.
  if (!inv.backup.repo_path.empty() && inv.backup.repo_path[0] == '/' &&
      !inv.backup.repo_path.starts_with("/var/lib/postgresql")) {
    v.push_back({"backup", inv.backup.repo_path, /*shared=*/true});
  }
  return v;
}

std::string network_name(const Inventory& inv) {
  return "pgha-" + inv.cluster_name;
}
std::string container_name(const Inventory& inv, const std::string& node) {
  return "pgha-" + inv.cluster_name + "-" + node;
}
std::string volume_name(const Inventory& inv, const std::string& node, const VolumeMount& v) {
  if (v.shared) return "pgha-" + inv.cluster_name + "-" + v.suffix;
  return container_name(inv, node) + "-" + v.suffix;
}
std::string cluster_label_filter(const Inventory& inv) {
  return std::string(kClusterLabel) + "=" + inv.cluster_name;
}

Result<std::string> network_gateway(const Network& net) {
  if (!net.gateway.empty()) return net.gateway;
  size_t slash = net.subnet.find('/');
  in_addr addr{};
  if (slash == std::string::npos || inet_pton(AF_INET, net.subnet.substr(0, slash).c_str(), &addr) != 1) {
    return Error(ErrorKind::bad_input, "network.subnet '" + net.subnet + "' is not an IPv4 CIDR");
  }
  int bits = std::atoi(net.subnet.c_str() + slash + 1);
  if (bits < 1 || bits > 30)
    return Error(ErrorKind::bad_input, "network.subnet '" + net.subnet + "' is too small");
  uint32_t mask = bits == 32 ? 0xffffffffu : ~((1u << (32 - bits)) - 1);
  addr.s_addr = htonl((ntohl(addr.s_addr) & mask) + 1);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, buf, sizeof(buf));
  return std::string(buf);
}

json network_spec(const Inventory& inv, const std::string& gateway) {
  return {{"Name", network_name(inv)},
          {"CheckDuplicate", true},
          {"Driver", "bridge"},
          {"IPAM", {{"Config", json::array({{{"Subnet", inv.network.subnet}, {"Gateway", gateway}}})}}},
          {"Labels", {{kClusterLabel, inv.cluster_name}}}};
}

json endpoint_config(const Node& node) {
  return {{"IPAMConfig", {{"IPv4Address", node.address}}}, {"Aliases", json::array({node.name})}};
}

json container_spec(const Inventory& inv, const Node& node, const NodeRuntime& runtime) {
  json binds = json::array({runtime.cgroup_bind});
  for (const auto& v : node_volumes(inv))
    binds.push_back(volume_name(inv, node.name, v) + ":" + v.mountpoint);
  std::string net = network_name(inv);
  json spec = {
      {"Image", inv.provider.docker.image},
      {"Hostname", node.name},
      {"Labels", {{kClusterLabel, inv.cluster_name}, {kNodeLabel, node.name}}},
      {"Cmd", json::array({"/sbin/init"})},
      {"StopSignal", "SIGRTMIN+3"},
      {"HostConfig",
       {{"NetworkMode", net},
        // systemd as PID 1 needs SYS_ADMIN (not --privileged, which fails here); keepalived needs
        // NET_ADMIN for the VIP and NET_RAW for VRRP.
        {"CapAdd", json::array({"SYS_ADMIN", "NET_ADMIN", "NET_RAW"})},
        {"Tmpfs", {{"/run", "rw,exec,mode=755"}, {"/run/lock", "rw"}}},
        {"Binds", binds},
        // HAProxy may bind the VIP on nodes that do not hold it.
        {"Sysctls", {{"net.ipv4.ip_nonlocal_bind", "1"}}},
        {"RestartPolicy", {{"Name", "no"}}}}},
      {"NetworkingConfig", {{"EndpointsConfig", {{net, endpoint_config(node)}}}}},
  };
  if (!runtime.cgroupns_mode.empty()) spec["HostConfig"]["CgroupnsMode"] = runtime.cgroupns_mode;
  if (!runtime.security_opt.empty()) spec["HostConfig"]["SecurityOpt"] = runtime.security_opt;
  return spec;
}

std::string authorized_keys_tar(const std::string& public_key) {
  TarWriter tar;
  tar.add_dir("root/.ssh", 0700);
  tar.add_file("root/.ssh/authorized_keys", public_key.ends_with('\n') ? public_key : public_key + "\n",
               0600);
  return tar.finish();
}

}  // namespace pgha
