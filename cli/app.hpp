// The pgha command line: a table of subcommands and one place that turns errors into messages and
// exit codes (0 ok, 1 failure, 2 invalid input).
#pragma once

namespace pgha {

int run_cli(int argc, char** argv);

}  // namespace pgha
