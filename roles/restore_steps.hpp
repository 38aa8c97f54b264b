// The real steps of a restore (roles/restore.hpp), on the cluster's nodes over their shells. Each step
// first looks at the node (markers under /var/lib/pgha/restore-<id>.*, the moved-aside directory,
// pg_ctl status), so running it again after an interruption finishes it instead of repeating it.
#pragma once

#include <chrono>
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

// Polls a PostgreSQL started alone on `data` (pg_ctl `pg_ctl`, log `log`, reached as postgres on its
// unix socket in `socket_dir` at `port`) until it has left recovery, i.e. promoted: true. False when it
// stopped instead, with its log's last lines in *log_tail. Errors: timeout, naming `what` and the last
// log line. Shared by the restore (its replay to the target) and the restore drill (roles/restore_drill).
Result<bool> wait_until_promoted(RemoteShell& sh, const std::string& what, const std::string& pg_ctl,
                                 const std::string& data, const std::string& socket_dir, int port,
                                 const std::string& log, std::chrono::seconds timeout,
                                 std::chrono::milliseconds interval, std::string* log_tail);

// The steps on ctx's nodes (connected). `verify` runs every health gate of `up` (the CLI passes
// cluster_up); `recovery_timeout_s` bounds the replay to the target.
std::unique_ptr<RestoreSteps> node_restore_steps(EngineContext& ctx, std::function<Status()> verify,
                                                 int recovery_timeout_s = 3600);

}  // namespace pgha
