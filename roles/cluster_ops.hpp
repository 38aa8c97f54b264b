// The top-level operations behind `pgha up`, `pgha down` and `pgha status`. Everything they touch
// comes in through parameters: the provider, a way to open a shell on a machine, templates, progress.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/remote_shell.hpp"
#include "core/render.hpp"
#include "providers/provider.hpp"
#include "roles/engine.hpp"
#include "roles/plan.hpp"
#include "roles/progress.hpp"
#include "roles/rolling.hpp"
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
  std::vector<Change> planned;       // what the plan said, before anything was done
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

struct PlanOptions {
  bool force = false;                          // allow a removal that leaves sync mode without a candidate
  DataRetention data = DataRetention::remove;  // a removed node's volumes (--keep-data keeps them)
  PrimaryRestart primary = PrimaryRestart::switchover;  // --primary-restart (roles/rolling.hpp)
  StockCluster stock = StockCluster::refuse;            // --adopt-stock-cluster
  NodeCerts certs = NodeCerts::preview;                 // `up` keeps the certificates it issues
  std::string ca_out;  // up --ca-out: where to copy the cluster CA certificate for applications
};

// Everything `plan` observed and decided; `up` executes it. Handles point into this value, so it
// stays where it was made (held by unique_ptr).
struct ClusterSession {
  ResolvedSecrets secrets;
  std::string public_key;
  Inventory during;  // the inventory's nodes and the leaving ones, while the latter still run
  std::map<std::string, std::vector<RenderedFile>> final_files, during_files;
  std::set<std::string> existing;   // inventory nodes whose machine existed before this run
  std::vector<NodeHandle> nodes;    // the inventory's, in its order
  std::vector<NodeHandle> leaving;  // machines of this cluster the inventory no longer names
  ClusterView view;
  Plan plan;
};

// Observes (the provider's machines, every node that answers, etcd, Patroni, the DCS) and computes
// the plan. Changes nothing on the nodes; generates the cluster's secrets and SSH key locally on
// first use.
Result<std::unique_ptr<ClusterSession>> plan_cluster(const Inventory& inv, UpDeps& deps,
                                                     const PlanOptions& opts);

// Plans, refuses a plan that breaks a safety rule (bad_input), then executes it: provision, then
// converge role by role to every health gate, membership changes in the plan's order.
Result<UpReport> cluster_up(const Inventory& inv, UpDeps deps, const PlanOptions& opts = {});

Endpoints endpoints_of(const Inventory& inv);
std::string format_endpoints(const Inventory& inv, const Endpoints& e, const std::string& state_dir);

}  // namespace pgha
