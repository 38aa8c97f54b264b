#include "providers/proxmox/proxmox_provider.hpp"

#include <iostream>
#include <map>

#include "core/net_addr.hpp"
#include "providers/proxmox/proxmox_params.hpp"
#include "providers/proxmox/proxmox_placement.hpp"
#include "providers/proxmox/proxmox_preflight.hpp"
#include "providers/proxmox/proxmox_state.hpp"

namespace pgha::pve {

namespace {

std::string value_of(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key)) return "";
  return obj[key].is_string() ? obj[key].get<std::string>() : obj[key].dump();
}

// "1", "enabled=1", "1,fstrim_cloned_disks=1" -> true.
bool agent_enabled(const nlohmann::json& config) {
  std::string agent = value_of(config, "agent");
  return agent.rfind("1", 0) == 0 || agent.find("enabled=1") != std::string::npos;
}

// The address in "ip=10.0.0.5/24,gw=..." ("" for dhcp or none).
std::string ipconfig_address(const std::string& ipconfig) {
  if (ipconfig.rfind("ip=", 0) != 0) return "";
  std::string ip = ipconfig.substr(3, ipconfig.find_first_of("/,") - 3);
  return ip == "dhcp" ? "" : ip;
}

// Marks the VM of a node removed with DataRetention::keep, next to the cluster's tag: `down`
// still finds it, list() no longer reports it as a machine, and the node's return adopts it. A
// cluster's tag always starts "pgha-", so no cluster name can produce this one.
const char* kKeptTag = "pgha_kept";

// A template the inventory names (provider.proxmox.template or .templates): never one of our VMs.
bool named_template(const ProxmoxSettings& s, int vmid) {
  if (vmid == s.template_vmid) return true;
  for (const auto& [host, id] : s.templates) {
    if (id == vmid) return true;
  }
  return false;
}

enum class KeptVms { include, exclude };

Machine machine_of(const VmInfo& vm, const std::string& address, const std::string& user) {
  Machine m;
  m.node = vm.name;
  m.address = address;
  m.ssh_user = user;
  m.resource_id = vm.host + "/" + std::to_string(vm.vmid);
  m.running = vm.status == "running";
  return m;
}

class ProxmoxProvider final : public Provider {
 public:
  explicit ProxmoxProvider(ProviderDeps deps) : deps_(std::move(deps)) {
    if (deps_.clock == nullptr) deps_.clock = &real_clock();
    if (!deps_.probe) deps_.probe = make_tcp_ssh_probe();
    if (!deps_.warn) deps_.warn = [](const std::string& m) { std::cerr << "warning: " << m << "\n"; };
  }

  std::string name() const override { return "proxmox"; }

  Result<std::vector<Machine>> ensure(const Inventory& inv, const ProvisionRequest& req) override {
    state_dir_ = req.state_dir;
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Result<std::vector<Machine>> r = converge(ops, inv, req);
    if (!r) return std::move(r.error()).with("proxmox " + inv.provider.proxmox.endpoint);
    return r;
  }

  // RouteSource::inventory: the placement as if no VM existed yet and every host were online, and
  // the route as far as the inventory tells it. RouteSource::provider: what ensure() would do now,
  // from the same reads and checks before its first clone (its preflight included).
  Result<std::map<std::string, std::string>> creation_routes(const Inventory& inv,
                                                             const std::vector<std::string>& nodes,
                                                             RouteSource source) override {
    std::map<std::string, std::string> out;
    if (nodes.empty()) return out;
    const ProxmoxSettings& s = inv.provider.proxmox;
    if (source == RouteSource::inventory) {
      std::vector<PlacementNode> wanted;
      for (const Node& n : inv.nodes) wanted.push_back({n.name, has_role(n, Role::patroni), ""});
      Result<Placement> placement = place_nodes(wanted, s.nodes);
      if (!placement) return placement.error();
      for (const std::string& node : nodes) {
        auto host = placement->host_of.find(node);  // none for a name the inventory lacks
        if (host != placement->host_of.end()) out[node] = describe_unobserved(s, host->second);
      }
      return out;
    }
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Result<std::map<std::string, std::string>> r = observed_routes(ops, inv, nodes);
    if (!r) return std::move(r.error()).with("proxmox " + s.endpoint);
    return r;
  }

  Result<std::vector<Machine>> list(const Inventory& inv) override {
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Result<std::vector<VmInfo>> vms = our_vms(ops, inv, KeptVms::exclude);
    if (!vms) return vms.error();
    // /cluster/resources' status is pvestatd's, up to ~10 s old; the VM's own status is current.
    for (VmInfo& vm : *vms) {
      Result<std::string> status = ops.current_status(vm);
      if (!status && status.error().kind != ErrorKind::not_found) return status.error();
      if (status) vm.status = *status;
    }
    std::vector<Machine> out;
    for (const Node& n : inv.nodes) {
      for (const VmInfo& vm : *vms) {
        if (vm.name == n.name) out.push_back(machine_of(vm, n.address, inv.provider.proxmox.ciuser));
      }
    }
    for (const VmInfo& vm : *vms) {
      if (inv.find_node(vm.name) != nullptr) continue;
      Result<nlohmann::json> cfg = ops.config(vm);
      std::string address = cfg ? ipconfig_address(value_of(*cfg, "ipconfig0")) : "";
      out.push_back(machine_of(vm, address, inv.provider.proxmox.ciuser));
    }
    return out;
  }

  // Stops the node's VM, then (DataRetention::remove) destroys it with purge, as destroy() does for
  // the whole cluster. keep leaves it stopped, its disk being the node's data, and tags it kept:
  // left a plain machine of the cluster, every later `up` would find it leaving again and try to
  // reach it; `down` destroys it, and the node's return to the inventory adopts it. The VM is the one
  // list() named (machine.resource_id "host/vmid"), looked up again so that a migrated VM is found
  // on its current host; it is touched only while it still carries this cluster's tag and the
  // node's name. Gone already (or vanishing midway): success.
  Status remove(const Inventory& inv, const Machine& machine, DataRetention data) override {
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Status s = remove_vm(ops, inv, machine, data);
    if (!s)
      return std::move(s.error())
          .with("node " + machine.node)
          .with("proxmox " + inv.provider.proxmox.endpoint);
    return s;
  }

  // Stops, then (DataRetention::remove) destroys with purge every VM tagged for this cluster,
  // kept ones included.
  Status destroy(const Inventory& inv, DataRetention data) override {
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Result<std::vector<VmInfo>> vms = our_vms(ops, inv, KeptVms::include);
    if (!vms) return vms.error();
    for (const VmInfo& vm : *vms) {
      const std::string what = "VM " + std::to_string(vm.vmid) + " (" + vm.name + ") on " + vm.host;
      if (Status s = ops.stop(vm); !s) return std::move(s.error()).with("stop " + what);
      if (data == DataRetention::remove) {
        if (Status s = ops.destroy(vm); !s) return std::move(s.error()).with("destroy " + what);
      }
    }
    return {};
  }

  Status inject(const Inventory& inv, const std::string& node, MachineFault fault) override {
    if (fault != MachineFault::kill) return unsupported(fault);
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Result<VmInfo> vm = vm_of(ops, inv, node);
    if (!vm) return vm.error();
    return ops.stop(*vm);  // a hard stop: the VM's power is cut, like a fence
  }

  Status lift(const Inventory& inv, const std::string& node, MachineFault fault) override {
    if (fault != MachineFault::kill) return unsupported(fault);
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Result<VmInfo> vm = vm_of(ops, inv, node);
    if (!vm) return vm.error();
    if (Status s = ops.start(*vm); !s) return s;
    Result<nlohmann::json> cfg = ops.config(*vm);
    if (!cfg) return cfg.error();
    const Node* n = inv.find_node(node);
    return wait_boot(ops, *vm, n->address, agent_enabled(*cfg));
  }

  FenceSupport fence_support() const override { return FenceSupport::stop; }

  // A hard stop (run_task checks the task's exit status: a failed stop is an error and nothing is
  // confirmed), then status/current polled until it says stopped.
  Status fence(const Inventory& inv, const std::string& node) override {
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Result<VmInfo> vm = vm_of(ops, inv, node);
    if (!vm) return std::move(vm.error()).with("fence " + node);
    if (Status s = ops.stop(*vm); !s) return std::move(s.error()).with("fence " + node);
    auto deadline = deps_.clock->now() + std::chrono::seconds(30);
    while (true) {
      Result<std::string> st = ops.current_status(*vm);
      if (!st) return std::move(st.error()).with("fence " + node);
      if (*st == "stopped") return {};
      if (deps_.clock->now() >= deadline)
        return Error(ErrorKind::timeout, "VM still " + *st + " 30 s after its stop task")
            .with("fence " + node);
      deps_.clock->sleep(std::chrono::milliseconds(250));
    }
  }

  Result<PowerState> power_state(const Inventory& inv, const std::string& node) override {
    Client client = make_client(inv);
    VmOps ops(client, *deps_.clock, deps_.timing, deps_.warn);
    Result<VmInfo> vm = vm_of(ops, inv, node);
    if (!vm) return vm.error();
    Result<std::string> st = ops.current_status(*vm);
    if (!st) return st.error();
    return *st == "stopped" ? PowerState::stopped : PowerState::running;
  }

 private:
  Client make_client(const Inventory& inv) {
    return Client(*deps_.http, inv.provider.proxmox.endpoint, deps_.auth);
  }

  static Status unsupported(MachineFault fault) {
    return Error(ErrorKind::bad_input, std::string("the proxmox provider cannot inject the ") +
                                           (fault == MachineFault::pause ? "pause" : "partition") +
                                           " fault; use kill");
  }

  Result<std::vector<VmInfo>> our_vms(VmOps& ops, const Inventory& inv, KeptVms kept) {
    Result<std::vector<VmInfo>> all = ops.vms();
    if (!all) return all.error();
    const std::string tag = cluster_tag(inv.cluster_name);
    std::vector<VmInfo> out;
    for (const VmInfo& listed : *all) {
      if (!listed.has_tag(tag) || named_template(inv.provider.proxmox, listed.vmid)) continue;
      Result<VmInfo> vm = ops.with_config(listed);  // the name, which /cluster/resources may lack
      if (!vm && vm.error().kind == ErrorKind::not_found) continue;
      if (!vm) return vm.error();
      if (vm->is_template || !vm->has_tag(tag)) continue;
      if (kept == KeptVms::include || !vm->has_tag(kKeptTag)) out.push_back(*vm);
    }
    return out;
  }

  Result<VmInfo> vm_of(VmOps& ops, const Inventory& inv, const std::string& node) {
    if (inv.find_node(node) == nullptr)
      return Error(ErrorKind::not_found, "no node " + node + " in the inventory");
    Result<std::vector<VmInfo>> vms = our_vms(ops, inv, KeptVms::exclude);
    if (!vms) return vms.error();
    for (const VmInfo& vm : *vms) {
      if (vm.name == node) return vm;
    }
    return Error(ErrorKind::not_found, "no VM tagged " + cluster_tag(inv.cluster_name) + " for node " + node);
  }

  Params vm_params(const Inventory& inv, const Node& node, const std::string& public_key) {
    const ProxmoxSettings& s = inv.provider.proxmox;
    std::optional<Subnet> subnet = parse_cidr(inv.network.subnet);
    int prefix = subnet ? subnet->prefix : 24;
    std::string gateway = inv.network.gateway;
    if (gateway.empty() && subnet) gateway = format_ipv4(subnet->first_host());
    Params p = {{"cores", std::to_string(node.resources.cpu)},
                {"memory", std::to_string(node.resources.memory_mb)},
                {"net0", net_device(s.bridge, s.vlan_tag)},
                {"ipconfig0", ipconfig(node.address, prefix, gateway)},
                {"ciuser", s.ciuser},
                {"sshkeys", sshkeys_value({public_key})},
                {"tags", cluster_tag(inv.cluster_name)},
                {"description", "pgha cluster " + inv.cluster_name + ", node " + node.name +
                                    ". Managed by pgha: `pgha down` destroys this VM."}};
    if (!s.nameserver.empty()) p.emplace_back("nameserver", s.nameserver);
    return p;
  }

  // Guest agent first (when the template has one), then SSH on the node's address.
  Status wait_boot(VmOps& ops, const VmInfo& vm, const std::string& address, bool agent) {
    const auto deadline = deps_.clock->now() + deps_.timing.boot_timeout;
    if (agent) {
      if (Status s = ops.wait_agent(vm, deadline); !s) return s;
    }
    while (!deps_.probe->ssh_ready(address, 22)) {
      if (deps_.clock->now() >= deadline) {
        return Error(ErrorKind::timeout, "VM " + std::to_string(vm.vmid) + " (" + vm.name +
                                             ") started but SSH on " + address +
                                             ":22 did not answer in time");
      }
      deps_.clock->sleep(deps_.timing.boot_poll);
    }
    return {};
  }

  // A VM that is a node's, and how sure that is: 0 tagged for this cluster; 1 tagged and kept (the
  // node was removed with its data and is back); 2 recorded in state and untagged (a clone whose
  // configuration was interrupted). All but 0 are configured again, which sets the tags.
  struct Owned {
    VmInfo vm;
    int rank = 0;
  };
  // The best VM of each inventory node. Names come from the VMs' configs, never from
  // /cluster/resources (pvestatd's, up to ~10 s old: a fresh clone has none). A VM locked `clone`
  // or `migrate` (a task of an earlier, interrupted run, or of this one whose answer was lost) is
  // waited for, on whatever host it sits, rather than cloned again.
  Result<std::map<std::string, Owned>> find_ours(VmOps& ops, const Inventory& inv,
                                                 const std::vector<VmInfo>& all, const VmRecords& records) {
    const std::string tag = cluster_tag(inv.cluster_name);
    std::map<std::string, Owned> out;
    for (const VmInfo& listed : all) {
      if (named_template(inv.provider.proxmox, listed.vmid)) continue;
      bool recorded = false;
      for (const auto& [node, rec] : records) recorded = recorded || rec.vmid == listed.vmid;
      if (!listed.has_tag(tag) && !recorded) continue;
      Result<VmInfo> vm = ops.with_config(listed);
      if (!vm && vm.error().kind == ErrorKind::not_found)
        vm = ops.wait_unlocked(listed.vmid);  // moved meanwhile?
      if (vm && (vm->lock == "clone" || vm->lock == "migrate")) {
        deps_.warn("VM " + std::to_string(listed.vmid) + " is locked (" + vm->lock + "); waiting for it");
        vm = ops.wait_unlocked(listed.vmid);
      }
      if (!vm && vm.error().kind == ErrorKind::not_found) continue;  // gone meanwhile
      if (!vm) return vm.error();
      if (vm->is_template || inv.find_node(vm->name) == nullptr) continue;
      auto rec = records.find(vm->name);
      bool mine = rec != records.end() && rec->second.vmid == vm->vmid;
      int rank = vm->has_tag(tag) ? (vm->has_tag(kKeptTag) ? 1 : 0) : (mine && vm->tags.empty()) ? 2 : -1;
      auto best = out.find(vm->name);
      if (rank < 0 || (best != out.end() && best->second.rank <= rank)) continue;
      out[vm->name] = Owned{*vm, rank};
    }
    return out;
  }

  static void report(const ProvisionRequest& req, const std::string& message) {
    if (req.report) req.report(message);
  }

  Result<std::vector<Machine>> converge(VmOps& ops, const Inventory& inv, const ProvisionRequest& req);
  Result<std::map<std::string, std::string>> observed_routes(VmOps& ops, const Inventory& inv,
                                                             const std::vector<std::string>& nodes);
  // The inventory's Proxmox hosts, in its order, that Proxmox reports online (the others warned
  // about). Errors: bad_input for a host Proxmox does not know.
  Result<std::vector<std::string>> usable_hosts(VmOps& ops, const ProxmoxSettings& s);
  Status remove_vm(VmOps& ops, const Inventory& inv, const Machine& machine, DataRetention data);
  // Drops the node's record when it names `vmid` (a re-added node's new VM keeps its own).
  Status forget_record(const std::string& node, int vmid);

  ProviderDeps deps_;
  // Where the last ensure() kept the VM records: remove() is given no state directory. When it is
  // unknown, the record of a removed node is dropped by the next ensure() anyway, which keeps
  // records of inventory nodes only.
  std::string state_dir_;
};

Result<std::vector<std::string>> ProxmoxProvider::usable_hosts(VmOps& ops, const ProxmoxSettings& s) {
  if (s.nodes.empty()) return Error(ErrorKind::bad_input, "provider.proxmox.nodes lists no Proxmox host");
  Result<std::vector<HostInfo>> known = ops.hosts();
  if (!known) return known.error();
  std::vector<std::string> hosts;
  for (const std::string& h : s.nodes) {
    const HostInfo* info = nullptr;
    for (const HostInfo& k : *known) {
      if (k.name == h) info = &k;
    }
    if (info == nullptr) return Error(ErrorKind::bad_input, "Proxmox has no host named '" + h + "'");
    if (info->status == "online") {
      hosts.push_back(h);
    } else {
      deps_.warn("Proxmox host " + h + " is " + info->status + "; placing no VM there");
    }
  }
  return hosts;
}

Result<std::map<std::string, std::string>> ProxmoxProvider::observed_routes(
    VmOps& ops, const Inventory& inv, const std::vector<std::string>& nodes) {
  const ProxmoxSettings& s = inv.provider.proxmox;
  Result<std::vector<std::string>> hosts = usable_hosts(ops, s);
  if (!hosts) return hosts.error();
  Result<std::vector<VmInfo>> all = ops.vms();
  if (!all) return all.error();
  Result<std::map<std::string, HostRoute>> routes = preflight(ops, s, *all, *hosts);
  if (!routes) return routes.error();
  // The cluster's VMs, kept ones included (ensure() adopts them): where they are counts.
  Result<std::vector<VmInfo>> ours = our_vms(ops, inv, KeptVms::include);
  if (!ours) return ours.error();
  std::map<std::string, VmInfo> existing;
  for (const VmInfo& vm : *ours) existing[vm.name] = vm;
  std::vector<PlacementNode> wanted;
  for (const Node& n : inv.nodes) {
    auto it = existing.find(n.name);
    wanted.push_back({n.name, has_role(n, Role::patroni), it == existing.end() ? "" : it->second.host});
  }
  Result<Placement> placement = place_nodes(wanted, *hosts);
  if (!placement) return placement.error();
  std::map<std::string, std::string> out;
  for (const std::string& node : nodes) {
    auto vm = existing.find(node);
    if (vm != existing.end()) {
      out[node] = "reuse its VM " + std::to_string(vm->second.vmid) + " on " + vm->second.host +
                  (vm->second.has_tag(kKeptTag) ? " (kept when the node was removed)" : "");
      continue;
    }
    auto host = placement->host_of.find(node);  // none for a name the inventory lacks
    if (host != placement->host_of.end()) out[node] = describe(routes->at(host->second));
  }
  return out;
}

Result<std::vector<Machine>> ProxmoxProvider::converge(VmOps& ops, const Inventory& inv,
                                                       const ProvisionRequest& req) {
  const ProxmoxSettings& s = inv.provider.proxmox;
  for (const Node& n : inv.nodes) {
    if (!is_dns_name(n.name)) {
      return Error(ErrorKind::bad_input,
                   "node name '" + n.name + "' is not a valid DNS name, which Proxmox requires");
    }
  }
  Result<std::vector<std::string>> usable = usable_hosts(ops, s);
  if (!usable) return usable.error();
  const std::vector<std::string>& hosts = *usable;
  Result<std::vector<VmInfo>> all = ops.vms();
  if (!all) return all.error();
  Result<std::map<std::string, HostRoute>> routes = preflight(ops, s, *all, hosts);
  if (!routes) return routes.error();

  Result<VmRecords> records = load_vm_records(req.state_dir);
  if (!records) return records.error();
  const std::string tag = cluster_tag(inv.cluster_name);
  Result<std::map<std::string, Owned>> found = find_ours(ops, inv, *all, *records);
  if (!found) return found.error();
  std::map<std::string, VmInfo> ours;
  std::map<std::string, bool> needs_config;
  // Where each VM belongs: its current host, or for a VM never configured (a clone interrupted
  // before its migration) the host it was cloned for.
  std::map<std::string, std::string> home;
  for (const auto& [node, owned] : *found) {
    ours[node] = owned.vm;
    needs_config[node] = owned.rank != 0;
    home[node] = owned.vm.host;
    auto rec = records->find(node);
    if (owned.rank == 2 && rec != records->end() && !rec->second.host.empty()) home[node] = rec->second.host;
  }

  std::vector<PlacementNode> wanted;
  for (const Node& n : inv.nodes) {
    auto it = home.find(n.name);
    wanted.push_back({n.name, has_role(n, Role::patroni), it == home.end() ? "" : it->second});
  }
  Result<Placement> placement = place_nodes(wanted, hosts);
  if (!placement) return placement.error();
  if (placement->shares_hosts) {
    deps_.warn("fewer online Proxmox hosts than database nodes: some database nodes share a host");
  }

  VmRecords updated;
  for (const auto& [node, vm] : ours) updated[node] = {vm.vmid, home[node]};
  for (const Node& n : inv.nodes) {
    if (ours.count(n.name) != 0) continue;
    const std::string& host = placement->host_of[n.name];
    const HostRoute& route = routes->at(host);
    report(req, "node " + n.name + ": " + describe(route));
    CloneSpec spec{route.template_host, route.template_vmid, n.name, route.target, s.full_clone, s.storage};
    Result<VmInfo> vm = ops.clone(
        spec,
        [&](const VmInfo& v) {
          updated[n.name] = {v.vmid, host};
          (void)save_vm_records(req.state_dir, updated);
        },
        [&](const VmInfo& v) {
          if (updated.count(n.name) != 0 && updated[n.name].vmid == v.vmid) updated.erase(n.name);
          (void)save_vm_records(req.state_dir, updated);
        });
    if (!vm) return std::move(vm.error()).with("node " + n.name);
    ours[n.name] = *vm;
    needs_config[n.name] = true;
  }
  if (Status st = save_vm_records(req.state_dir, updated); !st) return st.error();

  // Clones made on the template's host (local storage) move, still stopped and unconfigured, to
  // their host. A configured VM is never moved: where it is now is where its owner wants it.
  for (const Node& n : inv.nodes) {
    VmInfo& vm = ours[n.name];
    const std::string& host = placement->host_of[n.name];
    if (!needs_config[n.name] || vm.has_tag(tag) || vm.host == host) continue;
    auto route = routes->find(host);
    Result<VmInfo> moved = ops.migrate(vm, host, route == routes->end() ? "" : route->second.target_storage);
    if (!moved)
      return std::move(moved.error())
          .with("migrate VM " + std::to_string(vm.vmid) + " to " + host)
          .with("node " + n.name);
    vm = *moved;
  }

  for (const Node& n : inv.nodes) {
    VmInfo& vm = ours[n.name];
    if (needs_config[n.name]) {
      if (Status st = ops.configure(vm, vm_params(inv, n, req.public_key)); !st)
        return std::move(st.error()).with("node " + n.name);
      if (Status st = ops.grow_disk(vm, n.resources.disk_gb); !st)
        return std::move(st.error()).with("node " + n.name);
    }
    if (Status st = ops.start(vm); !st) return std::move(st.error()).with("node " + n.name);
    vm.status = "running";
  }

  std::vector<Machine> machines;
  for (const Node& n : inv.nodes) {
    const VmInfo& vm = ours[n.name];
    if (Status st = wait_boot(ops, vm, n.address, true); !st)
      return std::move(st.error()).with("node " + n.name);
    machines.push_back(machine_of(vm, n.address, s.ciuser));
  }
  return machines;
}

Status ProxmoxProvider::remove_vm(VmOps& ops, const Inventory& inv, const Machine& machine,
                                  DataRetention data) {
  const std::string tag = cluster_tag(inv.cluster_name);
  int vmid = 0;
  if (size_t slash = machine.resource_id.find('/'); slash != std::string::npos) {
    try {
      vmid = std::stoi(machine.resource_id.substr(slash + 1));
    } catch (...) {
      vmid = 0;
    }
  }
  // Without an id, the node's tagged VM by name (our_vms reads the names from the configs).
  Result<std::vector<VmInfo>> all = vmid > 0 ? ops.vms() : our_vms(ops, inv, KeptVms::include);
  if (!all) return all.error();
  const VmInfo* found = nullptr;
  for (const VmInfo& vm : *all) {
    // Without an id (a Machine not from list()), the node's tagged VM by name.
    bool match = vmid > 0 ? vm.vmid == vmid : (vm.name == machine.node && vm.has_tag(tag) && !vm.is_template);
    if (match) found = &vm;
  }
  if (found == nullptr) {
    if (vmid > 0) return forget_record(machine.node, vmid);
    return {};
  }
  Result<VmInfo> read = ops.with_config(*found);  // the name, which /cluster/resources may lack
  if (!read && read.error().kind == ErrorKind::not_found) return forget_record(machine.node, found->vmid);
  if (!read) return read.error();
  const VmInfo vm = *read;
  const std::string what = "VM " + std::to_string(vm.vmid) + " (" + vm.name + ") on " + vm.host;
  if (vm.is_template || !vm.has_tag(tag) || vm.name != machine.node) {
    // The id now names a VM that is not this node's (destroyed, and the id reused by someone else),
    // or the tag was taken off by hand: either way not ours to touch.
    deps_.warn(what + " is not tagged " + tag + " for node " + machine.node + "; left alone");
    return {};
  }
  auto gone = [](const Status& s) { return !s && s.error().kind == ErrorKind::not_found; };
  Status stopped = ops.stop(vm);
  if (gone(stopped)) return forget_record(machine.node, vm.vmid);
  if (!stopped) return std::move(stopped.error()).with("stop " + what);
  if (data == DataRetention::keep) {
    if (Status st = ops.configure(vm, {{"tags", join_tags({tag, kKeptTag})}}); !st && !gone(st))
      return std::move(st.error()).with("tag " + what + " kept");
    return forget_record(machine.node, vm.vmid);
  }
  Status destroyed = ops.destroy(vm);
  if (!destroyed && !gone(destroyed)) return std::move(destroyed.error()).with("destroy " + what);
  return forget_record(machine.node, vm.vmid);
}

Status ProxmoxProvider::forget_record(const std::string& node, int vmid) {
  Result<VmRecords> records = load_vm_records(state_dir_);
  if (!records) return records.error();
  auto it = records->find(node);
  if (it == records->end() || it->second.vmid != vmid) return {};
  records->erase(it);
  return save_vm_records(state_dir_, *records);
}

}  // namespace

std::unique_ptr<Provider> make_proxmox_provider(ProviderDeps deps) {
  return std::make_unique<ProxmoxProvider>(std::move(deps));
}

}  // namespace pgha::pve
