#!/usr/bin/env bash
# Installs everything pgha needs to build, test and run on a fresh Debian 12 machine.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

BUILD_PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libkainjow-mustache-dev
  libssh2-1-dev libcurl4-openssl-dev libssl-dev libboost-dev libpq-dev libgtest-dev libgmock-dev
  libcpp-httplib-dev
)
# The daemons whose own config checks judge rendered output, and the Docker engine for end-to-end.
RUNTIME_PKGS=(
  docker.io debootstrap iproute2 curl ca-certificates openssh-client openssh-server
  haproxy keepalived patroni etcd-server etcd-client postgresql-15 postgresql-client-15
  pgbouncer pgbackrest python3-psycopg2 python3 jq tmux procps
)

missing=()
for p in "${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # Keep the host's own copies of the daemons from starting: the tests start them on loopback themselves.
  restore_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    restore_policy=1
  fi
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ -n "$restore_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
fi
echo "install-deps: all packages present"
