// The pgha command line: a table of subcommands and one place that turns errors into messages and
// exit codes (0 ok, 1 failure, 2 invalid input).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace pgha {

struct GlobalOptions;

int run_cli(int argc, char** argv);

// Subcommands defined in their own files (check failover, switchover): they add themselves to app,
// with the same common options, and set handler when chosen. Defined in cli/commands_check.cpp.
void register_extra_commands(CLI::App& app, GlobalOptions& g, std::function<int()>& handler);

}  // namespace pgha
