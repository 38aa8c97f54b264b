#!/usr/bin/env bash
# tests/e2e/static.sh on Debian 13 hosts: PostgreSQL 17 (the stock cluster and pgha's), Patroni 4,
# etcd 3.5, installed by pgha with apt as the sudoer ops. Subnet 10.68.0.0/24.
PGHA_STATIC_SUITE=trixie exec bash "$(dirname "$0")/static.sh"
