#include "cli/app.hpp"

int main(int argc, char** argv) {
  return pgha::run_cli(argc, argv);
}
