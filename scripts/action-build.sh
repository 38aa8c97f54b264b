#!/usr/bin/env bash
# GitHub Action step 1: make a pgha binary available. Uses PGHA_BINARY when the workflow already has
# one (installed or built earlier); otherwise installs the build dependencies and builds with CMake.
# Writes PGHA=<path> to $GITHUB_ENV for the next step.
# Env: ACTION_PATH (the action's checkout), PGHA_BINARY (optional), PGHA_BUILD_DIR (optional).
set -euo pipefail
root=${ACTION_PATH:?}
if [ -n "${PGHA_BINARY:-}" ]; then
  [ -x "$PGHA_BINARY" ] || { echo "::error::pgha-binary $PGHA_BINARY is not an executable"; exit 1; }
  bin=$PGHA_BINARY
else
  build=${PGHA_BUILD_DIR:-$root/build-action}
  bash "$root/scripts/install-deps.sh"
  cmake -S "$root" -B "$build" -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$build" --target pgha -j"$(nproc)"
  bin=$build/pgha
fi
echo "PGHA=$bin" >>"${GITHUB_ENV:?}"
"$bin" --help >/dev/null
echo "pgha ready: $bin"
