# Shared helpers for tests/daemons/*.sh: each script renders the loopback inventory
# (tests/data/inventories/loopback.yml: pg1..pg3 on 127.0.0.11-13) and lets a real daemon judge the
# result. Sourced, not run. Needs root, PGHA (the binary) and PGHA_SOURCE_DIR; listens on loopback only.

: "${PGHA_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
LOOPBACK_INV=$PGHA_SOURCE_DIR/tests/data/inventories/loopback.yml
NODES=(pg1 pg2 pg3)

log() { printf '%s %s: %s\n' "$(date -u +%H:%M:%S)" "${TEST_NAME:-daemons}" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# Every process a script starts is recorded here and stopped (by pid) on exit.
STARTED_PIDS=()
cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "${EXTRA_CLEANUP:-}" ]; then eval "$EXTRA_CLEANUP" || true; fi
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
}

# setup NAME: temp dir in $WORK, cleanup trap, and one lock for all daemon tests (they share the
# loopback inventory's addresses and ports, and ctest may run them in parallel).
setup() {
  TEST_NAME=$1
  [ "$(id -u)" -eq 0 ] || fail "must run as root (starts daemons as postgres/etcd)"
  WORK=$(mktemp -d "/tmp/pgha-daemons-$TEST_NAME.XXXXXX")
  chmod 755 "$WORK"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  exec 9>/tmp/pgha-daemon-tests.lock
  flock -w 600 9 || fail "another daemon test holds /tmp/pgha-daemon-tests.lock"
}

# render_loopback DIR: DIR/<node>/<absolute path> for every node of the loopback inventory. Prefers
# `pgha render`; falls back to the renderer's unit test (RenderExport), which renders the same file.
render_loopback() {
  local out=$1
  if [ -n "${PGHA:-}" ] && [ -x "$PGHA" ]; then
    if "$PGHA" render -i "$LOOPBACK_INV" --out "$out" >"$WORK/render.log" 2>&1; then
      if [ -f "$out/pg1/etc/patroni/config.yml" ]; then log "rendered with pgha render"; return 0; fi
    fi
  fi
  local tool=${PGHA_RENDER_TEST:-}
  if [ -z "$tool" ] && [ -n "${PGHA:-}" ]; then tool=$(dirname "$PGHA")/tests/render_test; fi
  [ -x "$tool" ] || fail "cannot render: pgha render failed ($(tail -3 "$WORK/render.log" 2>/dev/null)) and no render_test at '$tool'"
  PGHA_RENDER_OUT=$out "$tool" --gtest_filter='RenderExport.*' >"$WORK/render.log" 2>&1 ||
    fail "render_test failed: $(tail -5 "$WORK/render.log")"
  [ -f "$out/pg1/etc/patroni/config.yml" ] || fail "render_test wrote nothing into $out"
  log "rendered with $tool"
}

# ini_get FILE KEY: the value of `KEY = value` / `KEY=value` (first match).
ini_get() { sed -n "s/^$2[[:space:]]*=[[:space:]]*//p" "$1" | head -1; }

# env_get FILE NAME: the value of NAME="value" in an environment file.
env_get() { sed -n "s/^$2=\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" "$1" | head -1; }

# wait_for SECONDS DESCRIPTION COMMAND...: retries COMMAND every 0.5 s; returns 1 (after logging)
# when it never succeeded.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then log "timed out after ${secs}s waiting for $what"; return 1; fi
    sleep 0.5
  done
}

# start_bg LOG COMMAND...: runs COMMAND in the background, output to LOG; records its pid.
start_bg() {
  local logf=$1; shift
  "$@" >"$logf" 2>&1 &
  STARTED_PIDS+=("$!")
}
