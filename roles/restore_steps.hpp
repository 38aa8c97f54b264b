// The real steps of a restore (roles/restore.hpp), on the cluster's nodes over their shells. Each step
// first looks at the node (markers under /var/lib/pgha/restore-<id>.*, the moved-aside directory,
// pg_ctl status), so running it again after an interruption finishes it instead of repeating it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "roles/engine.hpp"
#include "roles/restore.hpp"

namespace pgha {

// <data_dir>.pgha-restore-<id>: where a node's data directory goes before the restore replaces it.
std::string moved_aside_path(const Inventory& inv, const std::string& id);
// PostgreSQL's data directory and binaries on the nodes (as the renderer writes them into Patroni's config).
std::string cluster_data_dir(const Inventory& inv);
std::string cluster_bin_dir(const Inventory& inv);

// The steps on ctx's nodes (connected). `verify` runs every health gate of `up` (the CLI passes
// cluster_up); `recovery_timeout_s` bounds the replay to the target.
std::unique_ptr<RestoreSteps> node_restore_steps(EngineContext& ctx, std::function<Status()> verify,
                                                 int recovery_timeout_s = 3600);

}  // namespace pgha
