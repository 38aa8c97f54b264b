#!/usr/bin/env bash
# The binary itself when the Docker engine cannot be reached: `up` names the engine's address as the
# user gave it (DOCKER_HOST or the inventory's provider.docker.host), says why in words (no such
# file, not a socket, nothing listening, connection refused) and what to do, and exits 1. No engine
# is needed: every address here is unreachable on purpose.
set -euo pipefail
cd "$PGHA_SOURCE_DIR"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
n=0

# expect_error ADDRESS_ENV INVENTORY MESSAGE: `up` exits 1 and its error line is exactly MESSAGE.
expect_error() {
  local docker_host=$1 inv=$2 want="pgha: error: $3"
  n=$((n + 1))
  set +e
  DOCKER_HOST=$docker_host "$PGHA" up -i "$inv" --state-dir "$work/state" >"$work/out" 2>"$work/err"
  local rc=$?
  set -e
  if [ $rc -ne 1 ]; then echo "FAIL: DOCKER_HOST=$docker_host up -i $inv: exit $rc (want 1)"; fails=$((fails + 1)); fi
  if ! grep -qFx -- "$want" "$work/err"; then
    echo "FAIL: DOCKER_HOST=$docker_host up -i $inv: want the line"
    echo "  $want"
    echo "got:"; sed 's/^/  /' "$work/err"
    fails=$((fails + 1))
  fi
  if grep -q "localhost port 80" "$work/err"; then
    echo "FAIL: DOCKER_HOST=$docker_host: curl's own words leak:"; cat "$work/err"; fails=$((fails + 1))
  fi
}

inv=inventories/docker-local.yml
unix_hint="(is dockerd running? set DOCKER_HOST to its socket)"

expect_error unix:///nonexistent.sock "$inv" \
  "cannot reach the Docker engine at unix:///nonexistent.sock: no such file $unix_hint"

echo "not a socket" >"$work/file"
expect_error "unix://$work/file" "$inv" \
  "cannot reach the Docker engine at unix://$work/file: not a socket $unix_hint"

# A socket that was bound and then left: the file is there, nothing listens on it.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$work/idle.sock"
expect_error "unix://$work/idle.sock" "$inv" \
  "cannot reach the Docker engine at unix://$work/idle.sock: nothing is listening $unix_hint"

expect_error tcp://127.0.0.1:1 "$inv" \
  "cannot reach the Docker engine at tcp://127.0.0.1:1: connection refused (is dockerd listening there? set DOCKER_HOST to its address)"

# The inventory's provider.docker.host wins over DOCKER_HOST, and the hint names it.
sed "s|^    image: pgha-node:bookworm$|&\n    host: unix://$work/missing.sock|" "$inv" >"$work/with-host.yml"
grep -q "host: unix://" "$work/with-host.yml" || { echo "FAIL: could not add provider.docker.host"; exit 1; }
expect_error unix:///var/run/docker.sock "$work/with-host.yml" \
  "cannot reach the Docker engine at unix://$work/missing.sock: no such file (is dockerd running? set provider.docker.host in the inventory to its socket)"

echo "cli engine_errors: $n unreachable engines checked, $fails failures"
[ $fails -eq 0 ]
