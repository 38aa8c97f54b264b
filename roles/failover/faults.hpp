// The faults `pgha check failover` injects on the current primary, each with the way to lift it.
// Machine-level faults go through the Provider; process-level ones through the node's RemoteShell.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "core/remote_shell.hpp"
#include "providers/provider.hpp"

namespace pgha {

enum class FaultKind {
  kill_node,      // provider hard stop (docker kill); lifted by starting the machine
  stop_postgres,  // kill -9 of the postmaster; Patroni restarts it or fails over; lifting is a no-op
  stop_patroni,   // systemctl stop patroni (which stops postgres and releases the leader key); start
  partition,      // cut the machine off the cluster network; reconnect
  freeze,         // pause every process of the machine; unpause
};

const char* to_string(FaultKind k);
std::optional<FaultKind> fault_from_string(const std::string& s);
const std::vector<std::string>& fault_names();

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  // Both return once the fault is in effect / lifted as far as the machine goes (the cluster's
  // reaction is observed separately). Errors carry "fault <kind>" and "host <node>" context.
  virtual Status inject(const std::string& node) = 0;
  virtual Status lift(const std::string& node) = 0;
  // How the fault departs from its name, for the report ("" = it is what it says): on hosts pgha
  // does not control, kill-node and freeze act on pgha's services, not on the machine.
  virtual std::string approximation() const { return ""; }
};

// The shell of a node by name; nullptr when there is none.
using ShellLookup = std::function<RemoteShell*(const std::string& node)>;

std::unique_ptr<FaultInjector> make_fault_injector(FaultKind kind, Provider& provider, const Inventory& inv,
                                                   ShellLookup shells);

// The postgres data directory pgha renders for this inventory (where postmaster.pid lives).
std::string postgres_data_dir(const Inventory& inv);

}  // namespace pgha
