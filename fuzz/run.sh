#!/usr/bin/env bash
# Builds every libFuzzer target with clang (fuzz/CMakeLists.txt) and runs each for a bounded time on
# its seed corpus: first every input in fuzz/regressions/<target>/ (crashes found before, each kept as
# a test case), then PGHA_FUZZ_SECONDS (default 25) of fuzzing. Fails on the first crash, leak, hang
# (> 10 s on one input) or broken property, and prints how to reproduce it. The ctest test `fuzz.run`;
# CI's budget for all targets together stays under 4 minutes.
#   PGHA_FUZZ_BUILD   build directory (default: build-fuzz next to the sources)
#   PGHA_FUZZ_SECONDS seconds per target
set -euo pipefail
src=${PGHA_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${PGHA_FUZZ_BUILD:-$src/build-fuzz}
seconds=${PGHA_FUZZ_SECONDS:-25}
log() { printf '%s fuzz: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

command -v clang++ >/dev/null || { log "FAIL: clang++ is not installed (scripts/install-deps.sh installs it)"; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
mkdir -p "$build"
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$src" -B "$build" -DPGHA_FUZZ=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "${launcher[@]}" >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
fi
log "building the fuzzers in $build"
cmake --build "$build" --target pgha_fuzzers -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 1; }

# Seeds per target: the repository's inventories (good and bad) for the inventory-shaped ones.
seeds_of() {
  case $1 in
    inventory | render | interpolate) ls "$src"/inventories/*.yml "$src"/tests/data/inventories/*.yml "$src"/tests/data/bad-inventories/*.yml ;;
    *) [ -d "$src/fuzz/corpus/$1" ] && find "$src/fuzz/corpus/$1" -type f ;;
  esac
}

work=$(mktemp -d /tmp/pgha-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
targets=$(sed -n 's/^set(PGHA_FUZZERS \(.*\))$/\1/p' "$src/fuzz/CMakeLists.txt")
for t in $targets; do
  bin=$build/fuzz/${t}_fuzzer
  [ -x "$bin" ] || { log "FAIL: $bin was not built"; exit 1; }
  if [ -d "$src/fuzz/regressions/$t" ] && [ -n "$(ls -A "$src/fuzz/regressions/$t")" ]; then
    if ! "$bin" "$src/fuzz/regressions/$t"/* >"$work/$t.regressions.log" 2>&1; then
      tail -30 "$work/$t.regressions.log" >&2
      log "FAIL: $t crashes on a kept regression input"
      failed=1
      continue
    fi
  fi
  corpus=$work/$t.corpus
  mkdir -p "$corpus" "$work/$t.artifacts"
  while IFS= read -r f; do cp "$f" "$corpus/$(basename "$f")"; done < <(seeds_of "$t")
  # A fixed seed: the same mutations in the same order on every run, so CI explores what a run here
  # explored (and a finding reproduces); PGHA_FUZZ_SEED=0 lets libFuzzer pick one.
  if "$bin" -seed="${PGHA_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/$t.artifacts/" "$corpus" >"$work/$t.log" 2>&1; then
    log "$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$') runs, no crash"
  else
    tail -40 "$work/$t.log" >&2
    keep=$src/fuzz/crashes
    mkdir -p "$keep"
    for a in "$work/$t.artifacts"/*; do
      [ -f "$a" ] || continue
      cp "$a" "$keep/$t-$(basename "$a")"
      log "FAIL: $t: input kept as $keep/$t-$(basename "$a"); reproduce: $bin $keep/$t-$(basename "$a");" \
        "once fixed, move it to fuzz/regressions/$t/ and add a unit test for it"
    done
    failed=1
  fi
done
exit $failed
