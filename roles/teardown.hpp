// `down` on machines pgha borrows (static hosts): the machines stay; on each, pgha's services are
// stopped and disabled and pgha's files removed. The data directories (PostgreSQL's, etcd's, the
// backup repository) stay unless the retention says remove (`down --purge`).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/remote_shell.hpp"
#include "core/render.hpp"
#include "providers/provider.hpp"
#include "roles/progress.hpp"

namespace pgha {

// The command that releases one node: pgha's units stopped and disabled (keepalived first, so the VIP
// leaves at once), the rendered files and /var/lib/pgha removed, systemd reloaded, and with
// DataRetention::remove the cluster's data directories too. Paths come from the renderer and the
// inventory's checked values, quoted.
std::string release_host_command(const Inventory& inv, const std::vector<RenderedFile>& files,
                                 DataRetention data);

// Runs release_host_command on every machine, one after another. Errors name the host and the step.
Status release_hosts(const Inventory& inv, const std::vector<Machine>& machines,
                     const std::function<Result<std::vector<RenderedFile>>(const Node&)>& files_of,
                     const std::function<Result<std::unique_ptr<RemoteShell>>(const Machine&)>& shells,
                     DataRetention data, Progress& progress);

}  // namespace pgha
