#!/usr/bin/env bash
# pgBackRest judges pg1's rendered pgbackrest.conf against a real PostgreSQL 15: a throwaway cluster
# (initdb as postgres, listening on 127.0.0.11:<pg1-port>) archives with the rendered archive_command,
# and stanza-create, check (WAL really archived), a full backup and info all succeed. Only paths move
# into a temp dir (repo, data, socket, log, lock, spool); ports, stanza and options stay as rendered.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
setup pgbackrest_check

render_loopback "$WORK/out"
src=$WORK/out/pg1/etc/pgbackrest/pgbackrest.conf
patroni=$WORK/out/pg1/etc/patroni/config.yml
[ -f "$src" ] || fail "no rendered $src"
stanza=$(sed -n 's/^\[\(.*\)\]$/\1/p' "$src" | grep -v '^global$' | head -1)
port=$(ini_get "$src" pg1-port)
[ -n "$stanza" ] && [ -n "$port" ] || fail "$src: no stanza or pg1-port"
archive_cmd=$(sed -n 's/^    archive_command: "\(.*\)"$/\1/p' "$patroni")
[ "$archive_cmd" = "pgbackrest --stanza=$stanza archive-push %p" ] || fail "patroni archive_command is '$archive_cmd'"

bin=/usr/lib/postgresql/15/bin
data=$WORK/data sock=$WORK/sock conf=$WORK/pgbackrest.conf
mkdir -p "$data" "$sock" "$WORK/repo" "$WORK/log" "$WORK/lock" "$WORK/spool"
sed -e "s|^repo1-path=.*|repo1-path=$WORK/repo|" \
    -e "s|^pg1-path=.*|pg1-path=$data|" \
    -e "s|^pg1-socket-path=.*|pg1-socket-path=$sock|" \
    -e "s|^\[global\]$|[global]\nlog-path=$WORK/log\nlock-path=$WORK/lock\nspool-path=$WORK/spool|" \
    "$src" >"$conf"
chown -R postgres:postgres "$WORK"
chmod 700 "$data"
chmod 640 "$conf"

as_pg() { runuser -u postgres -- "$@"; }
as_pg "$bin/initdb" -D "$data" --data-checksums --encoding=UTF8 --locale=C.UTF-8 --auth-local=peer \
  --auth-host=scram-sha-256 >"$WORK/initdb.log" 2>&1 || fail "initdb: $(tail -5 "$WORK/initdb.log")"
# The rendered archive_command, pointed at the test's copy of the config.
cmd=${archive_cmd/pgbackrest /pgbackrest --config=$conf }
cat >>"$data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.11'
port = $port
unix_socket_directories = '$sock'
archive_mode = on
archive_command = '$cmd'
archive_timeout = 60
wal_level = replica
CONF
EXTRA_CLEANUP="runuser -u postgres -- $bin/pg_ctl -D $data -m immediate stop >/dev/null 2>&1"
as_pg "$bin/pg_ctl" -D "$data" -l "$WORK/postgres.log" -w -t 30 start >/dev/null ||
  fail "postgres did not start: $(tail -5 "$WORK/postgres.log")"

pgbr() { as_pg pgbackrest --config="$conf" --stanza="$stanza" "$@"; }
pgbr stanza-create >"$WORK/stanza.log" 2>&1 || fail "stanza-create: $(tail -5 "$WORK/stanza.log")"
pgbr check >"$WORK/check.log" 2>&1 || fail "check: $(tail -5 "$WORK/check.log")"
pgbr --type=full backup >"$WORK/backup.log" 2>&1 || fail "backup: $(tail -5 "$WORK/backup.log")"
info=$(pgbr info)
echo "$info" >&2
echo "$info" | grep -q "status: ok" || fail "stanza not ok"
echo "$info" | grep -q "full backup" || fail "no full backup listed"
log "PASS: pgbackrest works with the rendered config and archive_command"
