// `check failover` and `switchover` register here (issue 4).
#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "cli/commands.hpp"

namespace pgha {

void register_extra_commands(CLI::App&, GlobalOptions&, std::function<int()>&) {}

}  // namespace pgha
