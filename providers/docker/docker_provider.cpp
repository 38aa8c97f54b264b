#include "providers/docker/docker_provider.hpp"

#include <algorithm>
#include <thread>

#include "core/net_addr.hpp"

#include "net/ssh_shell.hpp"
#include "providers/docker/docker_image.hpp"
#include "providers/docker/docker_spec.hpp"

namespace pgha {
namespace {

bool flag(const json& state, const char* key) {
  return state.is_object() && state.value(key, false);
}

// Two IPv4 subnets share an address when their networks agree on the shorter prefix.
bool overlap(const Subnet& a, const Subnet& b) {
  const Subnet& wider = a.prefix <= b.prefix ? a : b;
  const Subnet& narrower = a.prefix <= b.prefix ? b : a;
  return wider.contains(narrower.network());
}

bool has_cluster_label(const json& labels, const Inventory& inv) {
  return labels.is_object() && labels.value(kClusterLabel, "") == inv.cluster_name;
}

std::string first_name(const json& summary) {
  if (summary.contains("Names") && summary["Names"].is_array() && !summary["Names"].empty()) {
    std::string n = summary["Names"][0].get<std::string>();
    return n.starts_with("/") ? n.substr(1) : n;
  }
  return summary.value("Id", "");
}

// The partition fault runs inside the node: its cluster interface goes down (its default route saved
// first, since the kernel drops routes with the link) and comes back up with that route. The interface
// keeps its name and index, as on a machine whose cable is pulled and plugged back, so keepalived and
// everything else bound to it carries on after the heal. (Disconnecting the container from its Docker
// network instead would hand it a new interface, eth1, on reconnect.) Both scripts are idempotent.
const char* const kPartitionRoutes = "/run/pgha-partition.routes";

std::string link_is_up(const std::string& dev) {
  return "ip -o link show dev " + dev + " | grep -q '[<,]UP[,>]'";
}

std::vector<std::string> cut_link(const Inventory& inv) {
  const std::string dev = shell_quote(inv.network.interface);
  return {"sh", "-c",
          "set -e; if " + link_is_up(dev) + "; then ip route show default dev " + dev + " > " +
              kPartitionRoutes + "; ip link set dev " + dev + " down; fi"};
}

std::vector<std::string> heal_link(const Inventory& inv) {
  const std::string dev = shell_quote(inv.network.interface);
  return {"sh", "-c",
          "set -e; " + link_is_up(dev) + " || ip link set dev " + dev + " up; if [ -f " + kPartitionRoutes +
              " ]; then while read -r route; do [ -z \"$route\" ] || ip route replace $route dev " + dev +
              "; done < " + kPartitionRoutes + "; rm -f " + kPartitionRoutes + "; fi"};
}

}  // namespace

Result<DockerEndpoint> parse_docker_host(const std::string& host) {
  const std::string local = "http://localhost/v1.41";
  if (host.empty()) return DockerEndpoint{"/var/run/docker.sock", local, "unix:///var/run/docker.sock"};
  if (host.starts_with("unix://") && host.size() > 7) return DockerEndpoint{host.substr(7), local, host};
  if (host.starts_with("tcp://") && host.size() > 6) {
    std::string authority = host.substr(6);
    while (authority.ends_with("/")) authority.pop_back();
    size_t bracket = authority.rfind(']');  // [::1]:2375
    if (authority.find(':', bracket == std::string::npos ? 0 : bracket) == std::string::npos)
      authority += ":2375";
    return DockerEndpoint{"", "http://" + authority + "/v1.41", "tcp://" + authority};
  }
  return Error(ErrorKind::bad_input,
               "Docker host '" + host + "' is neither unix:///path nor tcp://host:port");
}

DockerProvider::DockerProvider(DockerProviderDeps deps)
    : deps_(std::move(deps)), docker_(*deps_.http, deps_.base_url, deps_.address) {}

Result<EngineFacts> DockerProvider::engine() {
  std::lock_guard<std::mutex> lock(engine_mu_);
  if (facts_) return *facts_;
  auto version = docker_.negotiate_version();
  if (!version) return version.error();
  auto info = docker_.info();
  if (!info) return info.error();
  facts_ = engine_facts(*info, *version);
  return *facts_;
}

Status DockerProvider::ensure_network(const Inventory& inv) {
  std::string name = network_name(inv);
  auto existing = docker_.inspect_network(name);
  if (!existing) return existing.error();
  if (*existing) {
    const json& n = **existing;
    if (!has_cluster_label(field(n, "Labels"), inv)) {
      return Error(ErrorKind::conflict, "Docker network " + name + " exists but is not labelled " +
                                            cluster_label_filter(inv) + "; pgha will not take it over");
    }
    std::string subnet;
    const json& config = field(n, "IPAM", "Config");
    if (config.is_array() && !config.empty() && config[0].is_object()) subnet = config[0].value("Subnet", "");
    if (subnet != inv.network.subnet) {
      return Error(ErrorKind::conflict, "Docker network " + name + " has subnet " + subnet +
                                            " but the inventory says " + inv.network.subnet +
                                            "; run `pgha down` first to recreate it");
    }
    return {};
  }
  auto gateway = network_gateway(inv.network);
  if (!gateway) return gateway.error();
  auto id = docker_.create_network(network_spec(inv, *gateway));
  if (!id) return explain_network_failure(inv, std::move(id.error()));
  return {};
}

Error DockerProvider::explain_network_failure(const Inventory& inv, Error failure) {
  // The engine's words for a requested subnet that overlaps another network's pool.
  if (failure.message.find("overlaps") == std::string::npos) return failure;
  auto ours = parse_cidr(inv.network.subnet);
  auto networks = docker_.networks();
  if (!ours || !networks) return failure;
  std::vector<std::string> holders;
  for (const json& n : *networks) {
    const json& configs = field(n, "IPAM", "Config");
    if (!configs.is_array()) continue;
    for (const json& config : configs) {
      const json& subnet = field(config, "Subnet");
      if (!subnet.is_string()) continue;
      auto theirs = parse_cidr(subnet.get<std::string>());
      if (theirs && overlap(*ours, *theirs)) {
        holders.push_back("'" + n.value("Name", n.value("Id", std::string("?"))) + "' (" +
                          subnet.get<std::string>() + ")");
      }
    }
  }
  if (holders.empty()) return failure;
  std::sort(holders.begin(), holders.end());
  std::string named = holders[0];
  for (size_t i = 1; i < holders.size(); ++i)
    named += (i + 1 == holders.size() ? " and " : ", ") + holders[i];
  return Error(ErrorKind::conflict, "network.subnet " + inv.network.subnet + " overlaps Docker network" +
                                        (holders.size() > 1 ? "s " : " ") + named +
                                        "; choose another subnet in the inventory's network.subnet, with the "
                                        "nodes' addresses, gateway and vip inside it");
}

Status DockerProvider::ensure_volumes(const Inventory& inv, const Node& node) {
  for (const auto& v : node_volumes(inv)) {
    std::string name = volume_name(inv, node.name, v);
    auto existing = docker_.inspect_volume(name);
    if (!existing) return existing.error();
    if (*existing) {
      if (!has_cluster_label(field(**existing, "Labels"), inv)) {
        return Error(ErrorKind::conflict,
                     "Docker volume " + name + " exists but is not labelled " + cluster_label_filter(inv));
      }
      continue;
    }
    json labels = {{kClusterLabel, inv.cluster_name}};
    if (!v.shared) labels[kNodeLabel] = node.name;
    if (auto st = docker_.create_volume(name, labels); !st) {
      return st;
    }
  }
  return {};
}

Result<Machine> DockerProvider::ensure_container(const Inventory& inv, const Node& node,
                                                 const std::string& public_key, const NodeRuntime& runtime) {
  std::string name = container_name(inv, node.name);
  auto existing = docker_.inspect_container(name);
  if (!existing) return existing.error();
  std::string id;
  bool fresh = false;
  if (*existing) {
    const json& c = **existing;
    if (!has_cluster_label(field(c, "Config", "Labels"), inv)) {
      return Error(ErrorKind::conflict, "container " + name + " exists but is not labelled " +
                                            cluster_label_filter(inv) + "; pgha will not take it over");
    }
    const json& ipam = field(c, "NetworkSettings", "Networks", network_name(inv), "IPAMConfig");
    std::string configured = ipam.is_object() ? ipam.value("IPv4Address", std::string()) : "";
    if (!configured.empty() && configured != node.address) {
      return Error(ErrorKind::conflict, "container " + name + " has address " + configured +
                                            " but the inventory says " + node.address +
                                            "; remove it (`pgha down`) to change a node's address");
    }
    id = c.value("Id", name);
  } else {
    auto created = docker_.create_container(name, container_spec(inv, node, runtime));
    if (!created) return created.error();
    id = *created;
    fresh = true;
  }
  // The key goes in before the first start, so sshd never runs without it; on later runs this
  // converges the key if the state dir's key was replaced.
  if (auto st = docker_.put_archive(id, "/", authorized_keys_tar(public_key)); !st) return st.error();
  const json state = fresh ? json::object() : field(**existing, "State");
  // A container outside its network (an older pgha's partition, or removed by hand) rejoins it.
  const bool detached =
      !fresh && field(**existing, "NetworkSettings", "Networks", network_name(inv)).is_null();
  if (detached) {
    json spec = {{"Container", id}, {"EndpointConfig", endpoint_config(node)}};
    if (auto st = docker_.connect_network(network_name(inv), spec); !st) return st.error();
  }
  if (flag(state, "Paused")) {
    if (auto st = docker_.unpause_container(id); !st) return st.error();
  } else if (!flag(state, "Running")) {
    if (auto st = docker_.start_container(id); !st) return st.error();
  }
  // A link an interrupted `pgha check` left down comes back up. A (re)started or just reconnected
  // container has a fresh interface, up already (after a reconnect not even named like the inventory's).
  if (!fresh && !detached && flag(state, "Running")) {
    if (auto st = exec_ok(id, heal_link(inv), "heal a partition left in place"); !st) return st.error();
  }
  return Machine{node.name, node.address, 22, "root", id, true};
}

Result<std::vector<Machine>> DockerProvider::ensure(const Inventory& inv, const ProvisionRequest& req) {
  auto facts = engine();
  if (!facts) return facts.error();
  const NodeRuntime runtime = node_runtime(*facts);
  const ProgressFn& progress = req.report ? req.report : deps_.progress;
  if (progress) {
    progress("engine " + (facts->server_version.empty() ? std::string("?") : facts->server_version) +
             ", API " + facts->api_version + "; " + runtime.summary);
  }
  // The network first: a subnet conflict is reported in a second, not after an image build.
  if (auto st = ensure_network(inv); !st) return st.error();
  auto image = ensure_image(docker_, inv.provider.docker, inv.postgres_version, deps_.templates,
                            deps_.make_rootfs, progress);
  if (!image) return image.error();
  // The nodes' volumes and containers are independent: each node on its own thread (the engine
  // serves them concurrently; every request is its own connection). The first failure in inventory
  // order is reported.
  std::vector<Result<Machine>> results(inv.nodes.size(), Error(ErrorKind::internal, "not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    threads.emplace_back([&, i] {
      const Node& node = inv.nodes[i];
      if (auto st = ensure_volumes(inv, node); !st) {
        results[i] = std::move(st.error()).with("node " + node.name);
        return;
      }
      auto m = ensure_container(inv, node, req.public_key, runtime);
      results[i] = m ? std::move(m) : Result<Machine>(std::move(m.error()).with("node " + node.name));
    });
  }
  for (auto& t : threads) t.join();
  std::vector<Machine> machines;
  for (auto& r : results) {
    if (!r) return r.error();
    machines.push_back(std::move(*r));
  }
  return machines;
}

Result<std::vector<Machine>> DockerProvider::list(const Inventory& inv) {
  if (auto facts = engine(); !facts) return facts.error();
  auto containers = docker_.containers_with_label(cluster_label_filter(inv));
  if (!containers) return containers.error();
  std::vector<Machine> machines;
  for (const json& c : *containers) {
    Machine m;
    const json& labels = field(c, "Labels");
    m.node = labels.is_object() ? labels.value(kNodeLabel, first_name(c)) : first_name(c);
    m.resource_id = c.value("Id", "");
    m.running = c.value("State", "") == "running";
    const Node* node = inv.find_node(m.node);
    const json& endpoint = field(c, "NetworkSettings", "Networks", network_name(inv));
    if (endpoint.is_object()) m.address = endpoint.value("IPAddress", "");
    if (m.address.empty() && node) m.address = node->address;
    machines.push_back(std::move(m));
  }
  // Inventory order first, then the rest by name.
  auto rank = [&](const Machine& m) {
    for (size_t i = 0; i < inv.nodes.size(); ++i) {
      if (inv.nodes[i].name == m.node) return i;
    }
    return inv.nodes.size();
  };
  std::stable_sort(machines.begin(), machines.end(), [&](const Machine& a, const Machine& b) {
    return std::make_pair(rank(a), a.node) < std::make_pair(rank(b), b.node);
  });
  return machines;
}

Status DockerProvider::destroy(const Inventory& inv, DataRetention data) {
  if (auto facts = engine(); !facts) return facts.error();
  std::string label = cluster_label_filter(inv);
  auto containers = docker_.containers_with_label(label);
  if (!containers) return containers.error();
  for (const json& c : *containers) {
    auto st = docker_.remove_container(c.value("Id", ""));
    if (!st && st.error().kind != ErrorKind::not_found) return st;
  }
  if (data == DataRetention::remove) {
    auto volumes = docker_.volumes_with_label(label);
    if (!volumes) return volumes.error();
    for (const json& v : *volumes) {
      auto st = docker_.remove_volume(v.value("Name", ""));
      if (!st && st.error().kind != ErrorKind::not_found) return st;
    }
  }
  auto networks = docker_.networks_with_label(label);
  if (!networks) return networks.error();
  for (const json& n : *networks) {
    auto st = docker_.remove_network(n.value("Id", ""));
    if (!st && st.error().kind != ErrorKind::not_found) return st;
  }
  return {};
}

Status DockerProvider::remove(const Inventory& inv, const Machine& machine, DataRetention data) {
  if (auto facts = engine(); !facts) return facts.error();
  // Only what carries both this cluster's label and the node's: a shared volume stays.
  const std::string cluster = cluster_label_filter(inv);
  const std::string node = std::string(kNodeLabel) + "=" + machine.node;
  auto containers = docker_.containers_with_label(cluster);
  if (!containers) return containers.error();
  for (const json& c : *containers) {
    const json& labels = field(c, "Labels");
    if (!labels.is_object() || labels.value(kNodeLabel, std::string()) != machine.node) continue;
    auto st = docker_.remove_container(c.value("Id", ""));
    if (!st && st.error().kind != ErrorKind::not_found)
      return std::move(st.error()).with("node " + machine.node);
  }
  if (data == DataRetention::remove) {
    auto volumes = docker_.volumes_with_label(node);
    if (!volumes) return volumes.error();
    for (const json& v : *volumes) {
      const json& labels = field(v, "Labels");
      if (!has_cluster_label(labels, inv)) continue;
      auto st = docker_.remove_volume(v.value("Name", ""));
      if (!st && st.error().kind != ErrorKind::not_found)
        return std::move(st.error()).with("node " + machine.node);
    }
  }
  return {};
}

Result<json> DockerProvider::node_container(const Inventory& inv, const std::string& node) {
  if (!inv.find_node(node)) return Error(ErrorKind::bad_input, "no node named " + node + " in the inventory");
  std::string name = container_name(inv, node);
  auto c = docker_.inspect_container(name);
  if (!c) return c.error();
  if (!*c) return Error(ErrorKind::not_found, "node " + node + " has no container (" + name + ")");
  if (!has_cluster_label(field(**c, "Config", "Labels"), inv)) {
    return Error(ErrorKind::conflict, "container " + name + " is not labelled " + cluster_label_filter(inv));
  }
  return std::move(**c);
}

Status DockerProvider::exec_ok(const std::string& id, const std::vector<std::string>& argv,
                               const std::string& what) {
  auto code = docker_.exec(id, argv, std::chrono::seconds(30));
  if (!code) return std::move(code.error()).with(what);
  if (*code != 0)
    return Error(ErrorKind::remote_failure, "exit " + std::to_string(*code) + ": " + argv.back()).with(what);
  return {};
}

Status DockerProvider::inject(const Inventory& inv, const std::string& node, MachineFault fault) {
  if (auto facts = engine(); !facts) return facts.error();
  auto c = node_container(inv, node);
  if (!c) return c.error();
  std::string id = c->value("Id", "");
  const json& state = field(*c, "State");
  switch (fault) {
    case MachineFault::kill:
      if (!flag(state, "Running")) return {};
      return docker_.kill_container(id, "SIGKILL");
    case MachineFault::pause:
      if (flag(state, "Paused")) return {};
      return docker_.pause_container(id);
    case MachineFault::partition: return exec_ok(id, cut_link(inv), "cut the node's link");
  }
  return Error(ErrorKind::internal, "unknown fault");
}

Status DockerProvider::lift(const Inventory& inv, const std::string& node, MachineFault fault) {
  if (auto facts = engine(); !facts) return facts.error();
  auto c = node_container(inv, node);
  if (!c) return c.error();
  std::string id = c->value("Id", "");
  const json& state = field(*c, "State");
  switch (fault) {
    case MachineFault::kill:
      if (flag(state, "Running")) return {};
      return docker_.start_container(id);
    case MachineFault::pause:
      if (!flag(state, "Paused")) return {};
      return docker_.unpause_container(id);
    case MachineFault::partition: return exec_ok(id, heal_link(inv), "bring the node's link back");
  }
  return Error(ErrorKind::internal, "unknown fault");
}

namespace {

PowerState power_of(const json& state) {
  std::string status = state.value("Status", "");
  if (status == "exited" || status == "dead" || status == "created") return PowerState::stopped;
  if (status == "paused" || flag(state, "Paused")) return PowerState::paused;
  return PowerState::running;  // running, restarting, removing: it may still act
}

}  // namespace

Result<PowerState> DockerProvider::power_state(const Inventory& inv, const std::string& node) {
  if (auto facts = engine(); !facts) return facts.error();
  auto c = node_container(inv, node);
  if (!c) return c.error();
  return power_of(field(*c, "State"));
}

Status DockerProvider::fence(const Inventory& inv, const std::string& node) {
  if (auto facts = engine(); !facts) return facts.error();
  auto c = node_container(inv, node);
  if (!c) return std::move(c.error()).with("fence " + node);
  std::string id = c->value("Id", "");
  // The restart policy first, so the engine cannot start what the kill stops (pgha creates its
  // containers with "no"; this also covers one an operator changed).
  if (Status s = docker_.update_container(id, json{{"RestartPolicy", {{"Name", "no"}}}}); !s)
    return std::move(s.error()).with("fence " + node);
  if (power_of(field(*c, "State")) != PowerState::stopped) {
    // A paused container is killed too: the engine delivers SIGKILL and thaws it. 409 means it
    // stopped meanwhile, which the re-read below confirms.
    Status k = docker_.kill_container(id, "SIGKILL");
    if (!k && k.error().kind != ErrorKind::conflict) return std::move(k.error()).with("fence " + node);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string last;
  while (true) {
    auto again = docker_.inspect_container(id);
    if (!again) return std::move(again.error()).with("fence " + node);
    if (!*again) return Error(ErrorKind::not_found, "container vanished while fencing").with("fence " + node);
    const json& state = field(**again, "State");
    if (power_of(state) == PowerState::stopped) return {};
    last = state.value("Status", "?");
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error(ErrorKind::timeout, "container still " + last + " 10 s after the kill").with("fence " + node);
}

}  // namespace pgha
