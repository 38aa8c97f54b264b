// The static provider: the machines already exist at the inventory's addresses. ensure() and list()
// only map nodes to them; destroy() creates and removes nothing (`down` releases the hosts instead:
// roles/teardown.hpp); machine faults are not available here (pgha has no power over these hosts):
// `check failover` acts on the hosts over SSH instead (roles/failover/faults.cpp, host_fault).
#include "providers/provider.hpp"

namespace pgha {
namespace {

const char* fault_name(MachineFault f) {
  switch (f) {
    case MachineFault::kill: return "kill";
    case MachineFault::pause: return "pause";
    case MachineFault::partition: return "partition";
  }
  return "fault";
}

class StaticProvider final : public Provider {
 public:
  std::string name() const override { return "static"; }
  Ownership ownership() const override { return Ownership::borrowed; }

  Result<std::vector<Machine>> ensure(const Inventory& inv, const ProvisionRequest&) override {
    return list(inv);
  }

  Result<std::vector<Machine>> list(const Inventory& inv) override {
    std::vector<Machine> machines;
    const StaticSettings& s = inv.provider.static_hosts;
    for (const Node& node : inv.nodes) {
      // provider.static.ssh_key, when given, is the key these hosts already trust: pgha installs no key
      // on hosts it does not create, so the cluster key would only work if someone installed it.
      machines.push_back(Machine{node.name, node.address, s.ssh_port, s.user, "", true, s.ssh_key});
    }
    return machines;
  }

  Status destroy(const Inventory&, DataRetention) override { return {}; }
  // The host stays; the engine has already stopped and disabled pgha's services on it.
  Status remove(const Inventory&, const Machine&, DataRetention) override { return {}; }

  Status inject(const Inventory&, const std::string& node, MachineFault fault) override {
    return unsupported(node, fault);
  }
  Status lift(const Inventory&, const std::string& node, MachineFault fault) override {
    return unsupported(node, fault);
  }

 private:
  static Status unsupported(const std::string& node, MachineFault fault) {
    return Error(ErrorKind::bad_input,
                 std::string("the static provider cannot inject machine faults (") + fault_name(fault) +
                     " on " + node +
                     "): pgha does not control these hosts; use the docker or proxmox provider");
  }
};

}  // namespace

Result<std::unique_ptr<Provider>> make_static_provider(const Inventory&) {
  return std::unique_ptr<Provider>(std::make_unique<StaticProvider>());
}

}  // namespace pgha
