#!/usr/bin/env bash
# `pgha status` on a cluster that has no machines says so, and how to start it, and exits 1.
# Needs the Docker engine (the provider's list); without one there is nothing to ask, so it skips.
set -euo pipefail
cd "$PGHA_SOURCE_DIR"
sock=${PGHA_DOCKER_SOCK:-/var/run/docker.sock}
if ! curl -sf --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1; then
  echo "status_not_running: skipped (no Docker engine at $sock)"
  exit 0
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
sed -e 's/^  name: pgha-local$/  name: pgha-never-started/' inventories/docker-local.yml >"$work/inv.yml"
set +e
"$PGHA" status -i "$work/inv.yml" --state-dir "$work/state" >"$work/out" 2>"$work/err"
rc=$?
set -e
want="pgha: cluster pgha-never-started is not running (no machines found); \`pgha up -i $work/inv.yml\` starts it"
[ $rc -eq 1 ] || { echo "FAIL: exit $rc, want 1"; cat "$work/err"; exit 1; }
[ "$(cat "$work/err")" = "$want" ] || { echo "FAIL: stderr differs:"; diff <(echo "$want") "$work/err"; exit 1; }
[ ! -s "$work/out" ] || { echo "FAIL: stdout not empty:"; cat "$work/out"; exit 1; }
echo "status_not_running: ok"
