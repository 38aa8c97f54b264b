#include "cli/app.hpp"

#include <iostream>

namespace pgha {

int run_cli(int, char**) {
  std::cerr << "pgha: not built yet\n";
  return 1;
}

}  // namespace pgha
