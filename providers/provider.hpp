// Providers turn inventory nodes into machines reachable over SSH: Docker containers, Proxmox VMs,
// or existing hosts. One interface, a factory, a name table (providers/registry.cpp).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/inventory.hpp"

namespace pgha {

// What a provider knows about one inventory node's machine.
struct Machine {
  std::string node;     // inventory node name
  std::string address;  // where SSH reaches it
  int ssh_port = 22;
  std::string ssh_user = "root";
  std::string resource_id;  // container id, "pve2/104", or "" for static hosts
  bool running = false;
  std::string ssh_key;  // private key for SSH to it; "" = the cluster key in state (static hosts may set it)
};

struct ProvisionRequest {
  std::string public_key;  // OpenSSH one-liner, installed as the node's authorized key
  std::string state_dir;   // .pgha/<cluster>/ (providers may keep ids there)
  // Where the provider reports what it is doing (an image build's steps); unset: its own default.
  std::function<void(const std::string&)> report;
};

enum class DataRetention { remove, keep };

// Where creation_routes() may look: the inventory alone (`validate`, which never touches the
// network), or also the provider's API, read-only (`plan`, which observes anyway).
enum class RouteSource { inventory, provider };

// Faults that `pgha check failover` injects at the machine level.
enum class MachineFault { kill, pause, partition };

// Whether pgha made the machines (Docker, Proxmox: `down` removes them, faults act on them) or borrows
// them (static hosts: `down` removes only pgha's services and files, and the machine-level faults of
// `check failover` act on pgha's services over SSH).
enum class Ownership { owned, borrowed };

// Whether the provider can stop a machine for good (`pgha guard` fences only through such a
// provider) or not (static hosts: the guard only observes).
enum class FenceSupport { none, stop };

// A machine's power state as the provider reports it. Only `stopped` means it cannot act again: a
// paused container or a suspended VM still holds its memory and resumes where it was.
enum class PowerState { running, paused, stopped };

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string name() const = 0;
  virtual Ownership ownership() const { return Ownership::owned; }

  // Converges the provider's resources to the inventory: creates what is missing (network, image,
  // machines), starts what is stopped, leaves what matches alone. Returns one Machine per
  // inventory node, in inventory order. Never touches resources without this cluster's labels/tags.
  virtual Result<std::vector<Machine>> ensure(const Inventory& inv, const ProvisionRequest& req) = 0;

  // What exists now for this cluster (no side effects). Machines of nodes no longer in the
  // inventory are included, so `up` can remove them.
  virtual Result<std::vector<Machine>> list(const Inventory& inv) = 0;

  // How the machine of each of `nodes` (inventory nodes that have none) would be made, for `validate`
  // and `plan` to show: node -> one line, such as Proxmox's "clone from template 9000 on pve1, then
  // migrate to pve2 (storage local-lvm is not shared; targetstorage local-lvm)". A node left out is
  // made the provider's one plain way (Docker's containers, static hosts: all of them). Changes
  // nothing. Errors: what ensure()'s checks before its first change would say.
  virtual Result<std::map<std::string, std::string>> creation_routes(const Inventory& inv,
                                                                     const std::vector<std::string>& nodes,
                                                                     RouteSource source) {
    (void)inv, (void)nodes, (void)source;
    return std::map<std::string, std::string>{};
  }

  // Removes every resource of this cluster and nothing else.
  virtual Status destroy(const Inventory& inv, DataRetention data) = 0;

  // Removes one machine of this cluster (a node that left the inventory; `machine` comes from
  // list()): Docker removes its container and, unless `data` is keep, its volumes; Proxmox stops
  // and purges the VM (keep: stops it and tags it pgha_kept, out of list(), reused if the node
  // returns, destroyed by `down`); a static host is left running (the engine has stopped pgha's
  // services).
  // Removing a machine that is already gone succeeds.
  virtual Status remove(const Inventory& inv, const Machine& machine, DataRetention data) = 0;

  // Injects a fault on a node's machine / lifts it. kill is lifted by starting the machine again.
  virtual Status inject(const Inventory& inv, const std::string& node, MachineFault fault) = 0;
  virtual Status lift(const Inventory& inv, const std::string& node, MachineFault fault) = 0;

  // Fencing for `pgha guard`. fence() stops the node's machine so that it cannot run again by itself
  // and returns only once the provider confirms it stopped (Docker: restart policy off, killed, its
  // State.Status re-read until exited or dead; a paused container is killed too. Proxmox: a hard
  // stop task whose exit status is OK, then status/current polled until stopped). Errors: anything
  // short of that confirmation (the machine may still run). Providers without fencing say so.
  virtual FenceSupport fence_support() const { return FenceSupport::none; }
  virtual Status fence(const Inventory& inv, const std::string& node) {
    (void)inv;
    return Error(ErrorKind::bad_input, "the " + name() + " provider cannot fence node " + node);
  }
  // The machine's power state now, read from the provider. Errors: not_found when it has no machine.
  virtual Result<PowerState> power_state(const Inventory& inv, const std::string& node) {
    (void)inv;
    return Error(ErrorKind::bad_input, "the " + name() + " provider cannot read the power state of " + node);
  }
};

// Builds the provider the inventory names. Errors: bad_input for a provider this build lacks.
Result<std::unique_ptr<Provider>> make_provider(const Inventory& inv);

}  // namespace pgha
