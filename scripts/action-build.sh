#!/usr/bin/env bash
# GitHub Action step: make a pgha binary available and name it in this step's output `pgha` (never
# through GITHUB_ENV, which would leak it into the caller's later steps). In order:
#   - PGHA_BINARY, when the workflow has one already (input pgha-binary);
#   - the binary a previous run left in the build directory (restored by actions/cache), if it runs;
#   - a build: the build dependencies only (scripts/install-deps.sh --build-only), then CMake's pgha
#     target alone, through ccache when there is one.
# Env: GITHUB_ACTION_PATH (the action's checkout), PGHA_BINARY (optional), PGHA_BUILD_DIR (optional;
#      default $RUNNER_TEMP/pgha-build), PGHA_BUILD_TYPE (optional; default Release: CMake's build
#      type), GITHUB_OUTPUT.
set -euo pipefail
root=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
out=${GITHUB_OUTPUT:?}
if [ -n "${PGHA_BINARY:-}" ]; then
  [ -x "$PGHA_BINARY" ] || { echo "::error::pgha-binary $PGHA_BINARY is not an executable"; exit 1; }
  bin=$PGHA_BINARY
else
  build=${PGHA_BUILD_DIR:-${RUNNER_TEMP:-/tmp}/pgha-build}
  bin=$build/pgha
  if [ -x "$bin" ] && "$bin" --help >/dev/null 2>&1; then
    echo "pgha: using the cached build in $build"
  else
    bash "$root/scripts/install-deps.sh" --build-only
    cxx=()
    command -v g++-12 >/dev/null && ! g++ --version | grep -qE ' (1[2-9]|[2-9][0-9])\.' && cxx=(-DCMAKE_CXX_COMPILER=g++-12)
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$root" -B "$build" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE="${PGHA_BUILD_TYPE:-Release}" ${cxx[@]+"${cxx[@]}"} \
      ${launcher[@]+"${launcher[@]}"} >/dev/null
    cmake --build "$build" --target pgha -j"$(nproc)"
  fi
fi
"$bin" --help >/dev/null
echo "pgha=$bin" >>"$out"
echo "pgha ready: $bin"
