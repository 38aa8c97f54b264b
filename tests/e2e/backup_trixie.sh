#!/usr/bin/env bash
# tests/e2e/backup.sh on Debian 13 nodes (inventories/docker-trixie.yml: PostgreSQL 17, Patroni 4, etcd 3.5).
PGHA_E2E_OS=debian13 exec bash "$(dirname "$0")/backup.sh"
