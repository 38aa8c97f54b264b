#include "roles/failover/faults.hpp"

#include "roles/remote.hpp"

namespace pgha {
namespace {

struct Name {
  FaultKind kind;
  const char* name;
};
constexpr Name kNames[] = {{FaultKind::kill_node, "kill-node"},
                           {FaultKind::stop_postgres, "stop-postgres"},
                           {FaultKind::stop_patroni, "stop-patroni"},
                           {FaultKind::partition, "partition"},
                           {FaultKind::freeze, "freeze"}};

class MachineFaultInjector final : public FaultInjector {
 public:
  MachineFaultInjector(FaultKind kind, MachineFault fault, Provider& p, const Inventory& inv)
      : kind_(kind), fault_(fault), provider_(p), inv_(inv) {}
  Status inject(const std::string& node) override { return ctx(provider_.inject(inv_, node, fault_), node); }
  Status lift(const std::string& node) override { return ctx(provider_.lift(inv_, node, fault_), node); }

 private:
  Status ctx(Status s, const std::string& node) {
    if (!s) return std::move(s.error()).with(std::string("fault ") + to_string(kind_)).with("host " + node);
    return s;
  }
  FaultKind kind_;
  MachineFault fault_;
  Provider& provider_;
  const Inventory& inv_;
};

// Runs a command on the node for inject and another for lift ("" = nothing to do).
class ShellFaultInjector final : public FaultInjector {
 public:
  ShellFaultInjector(FaultKind kind, std::string inject_cmd, std::string lift_cmd, ShellLookup shells)
      : kind_(kind), inject_(std::move(inject_cmd)), lift_(std::move(lift_cmd)), shells_(std::move(shells)) {}
  Status inject(const std::string& node) override { return run(node, inject_, "inject"); }
  Status lift(const std::string& node) override {
    return lift_.empty() ? Status{} : run(node, lift_, "lift");
  }

 private:
  Status run(const std::string& node, const std::string& cmd, const char* what) {
    RemoteShell* sh = shells_(node);
    if (!sh) return Error(ErrorKind::not_found, "no shell to the node").with("host " + node);
    auto r = must(*sh, std::string("fault ") + to_string(kind_) + " " + what, cmd);
    if (!r) return r.error();
    return {};
  }
  FaultKind kind_;
  std::string inject_, lift_;
  ShellLookup shells_;
};

}  // namespace

const char* to_string(FaultKind k) {
  for (const auto& n : kNames)
    if (n.kind == k) return n.name;
  return "?";
}

std::optional<FaultKind> fault_from_string(const std::string& s) {
  for (const auto& n : kNames)
    if (s == n.name) return n.kind;
  return std::nullopt;
}

const std::vector<std::string>& fault_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& n : kNames) v.push_back(n.name);
    return v;
  }();
  return names;
}

std::string postgres_data_dir(const Inventory& inv) {
  return "/var/lib/postgresql/" + std::to_string(inv.postgres_version) + "/" + inv.cluster_name;
}

std::unique_ptr<FaultInjector> make_fault_injector(FaultKind kind, Provider& provider, const Inventory& inv,
                                                   ShellLookup shells) {
  switch (kind) {
    case FaultKind::kill_node:
      return std::make_unique<MachineFaultInjector>(kind, MachineFault::kill, provider, inv);
    case FaultKind::partition:
      return std::make_unique<MachineFaultInjector>(kind, MachineFault::partition, provider, inv);
    case FaultKind::freeze:
      return std::make_unique<MachineFaultInjector>(kind, MachineFault::pause, provider, inv);
    case FaultKind::stop_postgres: {
      // The postmaster's pid is the first line of postmaster.pid; SIGKILL leaves no time to clean up,
      // like a crash. Its backends notice the postmaster's death and exit at once.
      std::string pidfile = shell_quote(postgres_data_dir(inv) + "/postmaster.pid");
      return std::make_unique<ShellFaultInjector>(kind, "pid=$(head -1 " + pidfile + ") && kill -9 \"$pid\"",
                                                  "", std::move(shells));
    }
    case FaultKind::stop_patroni:
      return std::make_unique<ShellFaultInjector>(kind, "systemctl stop patroni", "systemctl start patroni",
                                                  std::move(shells));
  }
  return nullptr;
}

}  // namespace pgha
