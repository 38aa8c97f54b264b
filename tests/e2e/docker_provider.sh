#!/usr/bin/env bash
# The docker provider against the real engine (tests/unit/docker_engine_test.cpp): ensure a 1-node
# cluster in 10.77.0.0/24, boot systemd, SSH in, inject/lift faults, destroy. Builds the node image
# the first time.
set -euo pipefail
bash "${PGHA_SOURCE_DIR}/scripts/ensure-docker.sh"
bin="$(dirname "${PGHA}")/tests/docker_engine_test"
PGHA_E2E_DOCKER=1 exec "$bin"
