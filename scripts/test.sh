#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is needed, starts the Docker
# engine, checks formatting, builds with warnings as errors, and runs every test (unit, the real
# daemons judging rendered configs, and the end-to-end scenarios on real containers).
# Usage, as root: bash scripts/test.sh   (or: sudo bash scripts/test.sh; PGHA_TEST_LABELS=unit runs one label only)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/ensure-docker.sh
bash scripts/check-format.sh

cmake -S . -B build -DPGHA_WERROR=ON >/dev/null
cmake --build build -j2

(
  cd build
  if [ -n "${PGHA_TEST_LABELS:-}" ]; then
    ctest --output-on-failure -j2 -L "$PGHA_TEST_LABELS"
  else
    ctest --output-on-failure -j2
  fi
)

if [ -z "${PGHA_TEST_LABELS:-}" ] && [ "${PGHA_SKIP_SANITIZE:-}" != 1 ]; then
  # The unit tests again under AddressSanitizer + UBSan.
  cmake -S . -B build-asan -DPGHA_WERROR=ON -DPGHA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build build-asan -j2
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     ctest --output-on-failure -j2 -L unit)
fi
