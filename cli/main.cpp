#include <csignal>

#include "cli/app.hpp"

int main(int argc, char** argv) {
  // A peer that closed its socket must surface as an error from the transport, not kill pgha.
  std::signal(SIGPIPE, SIG_IGN);
  return pgha::run_cli(argc, argv);
}
