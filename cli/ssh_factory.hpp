// How pgha reaches a machine over SSH: the options make_ssh_factory (cli/commands.hpp) opens each
// shell with.
#pragma once

#include <string>

#include "net/ssh_shell.hpp"
#include "providers/provider.hpp"

namespace pgha {

// The machine's own key when its provider names one (provider.static.ssh_key), else the cluster key
// in the state directory; host keys are always pinned in the state's known_hosts.
SshOptions ssh_options_for(const Machine& m, const std::string& cluster_key, const std::string& known_hosts,
                           int connect_timeout_ms);

}  // namespace pgha
