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
# $as_user, when set, is a command prefix that runs pgha as another user, with $state as its state dir.
as_user=()
state=$work/state
expect_error() {
  local docker_host=$1 inv=$2 want="pgha: error: $3"
  n=$((n + 1))
  set +e
  DOCKER_HOST=$docker_host "${as_user[@]}" "$PGHA" up -i "$inv" --state-dir "$state" >"$work/out" 2>"$work/err"
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

# A socket the user may not write to. Root may connect to any socket, so as root this runs as nobody.
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null && id nobody >/dev/null 2>&1; then
  chmod 755 "$work"
  state=$work/state-nobody
  mkdir -m 777 "$state"
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$work/private.sock"
  chmod 600 "$work/private.sock"
  as_user=(runuser -u nobody -- env "DOCKER_HOST=unix://$work/private.sock")
  expect_error "unix://$work/private.sock" "$inv" \
    "cannot reach the Docker engine at unix://$work/private.sock: permission denied (run pgha as root or as a member of the docker group)"
  as_user=()
elif [ "$(id -u)" -ne 0 ]; then
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$work/private.sock"
  chmod 000 "$work/private.sock"
  expect_error "unix://$work/private.sock" "$inv" \
    "cannot reach the Docker engine at unix://$work/private.sock: permission denied (run pgha as root or as a member of the docker group)"
else
  echo "cli engine_errors: permission denied not checked (root without runuser or nobody)"
fi

echo "cli engine_errors: $n unreachable engines checked, $fails failures"
[ $fails -eq 0 ]
