// The top-level operations behind `pgha up`, `pgha down` and `pgha status`. Everything they touch
// comes in through parameters: the provider, a way to open a shell on a machine, templates, progress.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/remote_shell.hpp"
#include "core/render.hpp"
#include "providers/provider.hpp"
#include "roles/engine.hpp"
#include "roles/progress.hpp"
#include "roles/state.hpp"

namespace pgha {

// Opens a shell on a machine (connecting, retrying while it boots, verifying its host key).
using ShellFactory = std::function<Result<std::unique_ptr<RemoteShell>>(const Machine& machine)>;

struct Endpoints {
  std::string write;  // host:port of the HAProxy write port (via the VIP when there is one)
  std::string read;
  std::string pooled;  // PgBouncer on the first pgbouncer node
  std::string database;
  std::string user;
};

struct UpReport {
  std::vector<std::pair<std::string, double>> timings;
  std::vector<std::string> actions;  // "pg1: wrote /etc/..."; empty on a no-op run
  std::vector<Change> changes;       // the same, typed: what `pgha plan` is compared with
  Endpoints endpoints;
};

struct UpDeps {
  Provider& provider;
  ShellFactory shells;
  const TemplateSource& templates;
  Progress& progress;
  StateDir& state;
  GateTimeouts timeouts;
};

// Renders every node's files first (errors there stop everything before any side effect), then
// provisions, connects, and converges role by role to every health gate.
Result<UpReport> cluster_up(const Inventory& inv, UpDeps deps);

Endpoints endpoints_of(const Inventory& inv);
std::string format_endpoints(const Inventory& inv, const Endpoints& e, const std::string& state_dir);

// Connects to every inventory node's machine in parallel. machines must be in inventory order.
Result<std::vector<NodeHandle>> connect_nodes(const Inventory& inv, const std::vector<Machine>& machines,
                                              const ShellFactory& shells, Progress& progress);

}  // namespace pgha
