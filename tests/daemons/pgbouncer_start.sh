#!/usr/bin/env bash
# PgBouncer judges pg1's rendered pgbouncer.ini and userlist.txt: it starts on them as postgres,
# listens on 127.0.0.11:<port>, lets `admin` into the console with SCRAM and the admin password (the
# auth file holds only its verifier), and turns a wrong password away. The auth file holds no
# superuser or application user, only `admin` and the auth_query lookup role. Logging in through
# auth_query with a real PostgreSQL is tests/unit/sql_objects_test (RealPostgres). Only paths move into
# a temp dir (auth_file, unix socket, log, pid).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
setup pgbouncer_start

render_loopback "$WORK/out"
src=$WORK/out/pg1/etc/pgbouncer
[ -f "$src/pgbouncer.ini" ] && [ -f "$src/userlist.txt" ] || fail "no rendered pgbouncer files in $src"
[ "$(ini_get "$src/pgbouncer.ini" auth_type)" = "scram-sha-256" ] || fail "auth_type is not scram-sha-256"

run=$WORK/pgbouncer
mkdir -p "$run"
cp "$src/userlist.txt" "$run/userlist.txt"
sed -e "s|^auth_file = .*|auth_file = $run/userlist.txt|" \
    -e "s|^unix_socket_dir = .*|unix_socket_dir = $run|" \
    -e "s|^logfile = .*|logfile = $run/pgbouncer.log|" \
    -e "s|^pidfile = .*|pidfile = $run/pgbouncer.pid|" \
    "$src/pgbouncer.ini" >"$run/pgbouncer.ini"
chown -R postgres:postgres "$run"
chmod 600 "$run/userlist.txt"

addr=$(ini_get "$run/pgbouncer.ini" listen_addr)
port=$(ini_get "$run/pgbouncer.ini" listen_port)
[ "$addr" = "127.0.0.11" ] || fail "listen_addr is '$addr', expected 127.0.0.11"
# The console password: the admin password, as Patroni's REST API has it in the rendered config.
admin_pw=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["restapi"]["authentication"]["password"])' \
  "$WORK/out/pg1/etc/patroni/config.yml")
[ -n "$admin_pw" ] || fail "no admin password in pg1's Patroni config"
users=$(sed -n 's/^"\([^"]*\)" .*/\1/p' "$run/userlist.txt" | sort | tr '\n' ' ')
[ "$users" = "admin pgha_pgbouncer " ] || fail "userlist.txt names '$users', expected only admin and pgha_pgbouncer"
grep -q '^"admin" "SCRAM-SHA-256\$4096:' "$run/userlist.txt" || fail "admin's entry is not a SCRAM verifier"
if grep -qF "$admin_pw" "$run/userlist.txt"; then fail "userlist.txt holds the admin password"; fi
[ "$(ini_get "$run/pgbouncer.ini" auth_user)" = "pgha_pgbouncer" ] || fail "auth_user is not pgha_pgbouncer"
[ -n "$(ini_get "$run/pgbouncer.ini" auth_query)" ] || fail "no auth_query"

start_bg "$run/stdout.log" runuser -u postgres -- pgbouncer "$run/pgbouncer.ini"
console() { PGPASSWORD=$1 PGCONNECT_TIMEOUT=3 psql -X -tA -h "$addr" -p "$port" -U admin -d pgbouncer -c "$2"; }
if ! wait_for 20 "pgbouncer on $addr:$port" console "$admin_pw" "SHOW VERSION"; then
  cat "$run/stdout.log" "$run/pgbouncer.log" >&2 2>/dev/null || true
  fail "pgbouncer did not accept the admin login"
fi
log "$(console "$admin_pw" "SHOW VERSION")"
[ "$(console "$admin_pw" "SHOW CONFIG" | awk -F'|' '$1 == "pool_mode" {print $2}')" = "transaction" ] ||
  fail "pool_mode is not transaction"
if console "not-the-password" "SHOW VERSION" >/dev/null 2>&1; then fail "a wrong password was accepted"; fi
if PGPASSWORD=$admin_pw PGCONNECT_TIMEOUT=2 psql -X -tA -h 127.0.0.12 -p "$port" -U admin -d pgbouncer \
     -c "SHOW VERSION" >/dev/null 2>&1; then
  fail "pgbouncer of pg1 answers on pg2's address"
fi
log "PASS: pgbouncer runs on the rendered config with SCRAM"
