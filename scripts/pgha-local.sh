#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what is needed, starts the Docker engine,
# builds pgha, and brings up the default inventory (a 3-node HA cluster on the local Docker engine).
# Usage, as root: bash scripts/pgha-local.sh [extra pgha up arguments]   (or: sudo bash scripts/pgha-local.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/ensure-docker.sh
cmake -S . -B build >/dev/null
cmake --build build -j2 --target pgha
./build/pgha up -i inventories/docker-local.yml "$@"
./build/pgha status -i inventories/docker-local.yml
