#!/usr/bin/env bash
# Backup and point-in-time restore, end to end, on the default Docker cluster moved to its own subnet
# (pgha-backup, 10.63.0.0/24; on Debian 13 pgha-backup-trixie, 10.70.0.0/24):
#   after up, both backup timers are active and enabled on every node; `systemctl start
#   pgha-backup@diff.service` on a replica makes no backup, on the leader it makes one (a full: the
#   repository has none yet), and `pgha status -o json` names it as the last backup; `up` with
#   `encryption: true` over that unencrypted repository is refused (exit 2) and changes no file;
#   up; table t gets a row stamped clock_timestamp() every 0.2 s for about 20 s, spanning `pgha backup`;
#   a target T is taken between two rows in the middle of those written after the backup; then
#   DROP TABLE t; `pgha restore --to T --yes`. Afterwards t holds exactly the rows stamped at or before
#   T, there is one leader and every replica runs on its (new) timeline and streams, pgbackrest check
#   passes and `backup list` shows a full backup taken by the restore.
#   Then a restore to a time before the oldest backup is refused by the preflight (exit 2, the window
#   in the message) and so is one without a terminal and without --yes; after both, every node's data
#   directory has the same system identifier and every unit the same start time as before.
#   `pgha check restore` passes, leaves no copy behind and changes none of that either; after a WAL
#   Then the node that takes a new backup is destroyed with its container and volumes (the repository
#   volume stays), and `pgha restore --latest --yes` makes it again and restores the cluster: a row
#   written (and archived) after that backup is there, status is healthy, etcd is one cluster of three.
#   Last, after a WAL segment is deleted from the repository, `check restore` fails with exit 1, naming
#   the segment.
# Ends with `pgha down`.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"

WORK=$(mktemp -d /tmp/pgha-e2e-backup.XXXXXX)
STATE_ROOT=${PGHA_BACKUP_STATE_ROOT:-$WORK/state}
INV=$WORK/docker-backup.yml
e2e_os 10.63.0 10.70.0 pgha-backup  # NET, CLUSTER, PGV; PGHA_E2E_OS=debian13: tests/e2e/backup_trixie.sh
derive_inventory >"$INV"
# The backup: block's non-default values reach pgBackRest (lz4, as Debian 12's 2.45 is built with it).
printf 'backup:\n  compression: lz4\n  retention_diff: 3\n' >>"$INV"
STATE=$STATE_ROOT/$CLUSTER
VIP=$NET.100
NODES="$NET.11 $NET.12 $NET.13"
writer_pid=
cleanup() {
  [ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null
  [ "${PGHA_BACKUP_KEEP:-0}" = 1 ] || "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  [ -n "${PGHA_KEEP_WORK:-}" ] || rm -rf "$WORK"
  true
}
trap cleanup EXIT

if [ "${PGHA_BACKUP_REUSE:-0}" != 1 ]; then
  log "removing leftovers of an earlier run"
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
fi
log "up"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" -q >"$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log" >&2; fail "up failed"; }
PW=$(secret "$STATE" superuser_password)
sql() { psql_at "$VIP" 5000 postgres "$PW" postgres "$1"; }

# Patroni's members as "name role state timeline" lines.
members() {
  curl -s --max-time 5 "http://$1:8008/cluster" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    print(m["name"], m["role"], m["state"], m.get("timeline", "-"))'
}
# Every node's system identifier and its units' start times: what must not change when a restore is refused.
fingerprint() {
  local a
  for a in $NODES; do
    node_ssh "$STATE" "$a" "cd /; /usr/lib/postgresql/$PGV/bin/pg_controldata /var/lib/postgresql/$PGV/$CLUSTER | grep 'system identifier'; \
      for u in patroni etcd haproxy pgbouncer keepalived; do echo \$u \$(systemctl show -p ActiveEnterTimestampMonotonic --value \$u); done" |
      sed "s/^/$a /"
  done
}

log "scheduled backups: timers on every node; a run on a replica does nothing, one on the leader backs up"
for a in $NODES; do
  node_ssh "$STATE" "$a" "systemctl is-active pgha-backup-full.timer pgha-backup-diff.timer && systemctl is-enabled pgha-backup-full.timer pgha-backup-diff.timer" >/dev/null ||
    fail "the backup timers are not active and enabled on $a"
  node_ssh "$STATE" "$a" "grep -qx compress-type=lz4 /etc/pgbackrest/pgbackrest.conf && grep -qx repo1-retention-diff=3 /etc/pgbackrest/pgbackrest.conf" ||
    fail "pgbackrest.conf on $a does not carry the backup: block"
done
backup_labels() {
  "$PGHA" backup list -i "$INV" --state-dir "$STATE_ROOT" -o json | python3 -c 'import json,sys; [print(b["label"]) for b in json.load(sys.stdin)["backups"]]'
}
addr_of() { echo "$NET.1${1#pg}"; }
members $NET.11 >"$WORK/members0.txt"
LEADER0=$(awk '$2=="leader"{print $1}' "$WORK/members0.txt")
REPLICA0=$(awk '$2!="leader"{print $1; exit}' "$WORK/members0.txt")
N0=$(backup_labels | wc -l)
node_ssh "$STATE" "$(addr_of "$REPLICA0")" "systemctl start pgha-backup@diff.service && journalctl -q -u pgha-backup@diff.service -o cat | grep 'is not the Patroni leader'" >&2 ||
  fail "the scheduled backup service on the replica $REPLICA0 failed or did not say it is no leader"
[ "$(backup_labels | wc -l)" = "$N0" ] || fail "the scheduled backup on the replica $REPLICA0 made a backup"
node_ssh "$STATE" "$(addr_of "$LEADER0")" "systemctl start pgha-backup@diff.service" >&2 ||
  fail "the scheduled backup service failed on the leader $LEADER0"
[ "$(backup_labels | wc -l)" = "$((N0 + 1))" ] || fail "the scheduled backup on the leader $LEADER0 made no backup"
SCHEDULED=$(backup_labels | tail -n 1)
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status.json" 2>"$WORK/status.log" || true
python3 - "$WORK/status.json" "$SCHEDULED" <<'PY' || { cat "$WORK/status.log" >&2; fail "pgha status does not name the scheduled backup"; }
import json, sys
b = json.load(open(sys.argv[1]))["backup"]
assert b["answered"] and b["last"]["label"] == sys.argv[2], b
assert b["wal_max"] and b["failed_scheduled"] == [], b
print("status: last %s %s, %s s old, WAL up to %s" % (b["last"]["type"], b["last"]["label"], b["last"]["age_seconds"], b["wal_max"]), file=sys.stderr)
PY
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" 2>/dev/null | grep '^backup:' >&2 || true
log "replica $REPLICA0: no backup; leader $LEADER0: $SCHEDULED; pgha status names it"

log "encryption turned on over the existing repository: up refuses before changing anything"
cp "$INV" "$WORK/encrypted.yml"
printf '  encryption: true\n' >>"$WORK/encrypted.yml"
rc=0
"$PGHA" up -i "$WORK/encrypted.yml" --state-dir "$STATE_ROOT" -q >"$WORK/encrypt.out" 2>"$WORK/encrypt.log" || rc=$?
[ $rc = 2 ] && grep -q "cannot change an existing repository's cipher" "$WORK/encrypt.log" ||
  { cat "$WORK/encrypt.log" >&2; fail "up with encryption turned on exited $rc without refusing"; }
grep -o "the backup repository of stanza.*cipher" "$WORK/encrypt.log" | head -n 1 >&2
for a in $NODES; do
  node_ssh "$STATE" "$a" "! grep -q cipher /etc/pgbackrest/pgbackrest.conf" || fail "the refused up changed pgbackrest.conf on $a"
done

sql "DROP TABLE IF EXISTS t; CREATE TABLE t (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())" >/dev/null
log "writing a row every 0.2 s (one session, each INSERT its own transaction)"
(while :; do echo "INSERT INTO t DEFAULT VALUES;"; sleep 0.2; done |
  PGPASSWORD=$PW psql -X -q -v ON_ERROR_STOP=1 -h "$VIP" -p 5000 -U postgres -d postgres >/dev/null 2>"$WORK/writer.err") &
writer_pid=$!
sleep 3
log "pgha backup"
"$PGHA" backup -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/backup.json" 2>"$WORK/backup.log" ||
  { cat "$WORK/backup.log" >&2; fail "pgha backup failed"; }
cat "$WORK/backup.json" >&2
BACKUP_STOP=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["type"]=="full" and j["size"]>0, j; print(j["stop"])' "$WORK/backup.json")
sleep 10
kill "$writer_pid"; wait "$writer_pid" 2>/dev/null || true; writer_pid=
sql "SELECT id || ' ' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM t ORDER BY id" >"$WORK/rows.txt"
# T: halfway between two consecutive rows in the middle of those stamped after the backup's stop.
T=$(python3 - "$WORK/rows.txt" "$BACKUP_STOP" "$WORK/expected.txt" <<'PY'
import sys, datetime as dt
rows = []
for line in open(sys.argv[1]):
    i, d, t = line.split()
    rows.append((int(i), dt.datetime.strptime(d + " " + t, "%Y-%m-%d %H:%M:%S.%f"), line))
stop = dt.datetime.strptime(sys.argv[2][:19], "%Y-%m-%d %H:%M:%S") + dt.timedelta(seconds=1)
after = [k for k, r in enumerate(rows) if r[1] > stop]
assert len(after) >= 10, "only %d rows after the backup" % len(after)
k = after[len(after) // 2]
t = rows[k][1] + (rows[k + 1][1] - rows[k][1]) / 2
with open(sys.argv[3], "w") as out:
    out.writelines(r[2] for r in rows if r[1] <= t)
print(t.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00")
PY
)
log "$(wc -l <"$WORK/rows.txt") rows written, $(wc -l <"$WORK/expected.txt") at or before T=$T"
sql "DROP TABLE t" >/dev/null
OLD_TL=$(members $NET.11 | awk '$2=="leader"{print $4}')

RESTORE_START=$(date -u '+%Y-%m-%d %H:%M:%S')
log "pgha restore --to '$T' --yes"
"$PGHA" restore -i "$INV" --state-dir "$STATE_ROOT" --to "$T" --yes >"$WORK/restore.out" 2>"$WORK/restore.log" ||
  { cat "$WORK/restore.out" "$WORK/restore.log" >&2; fail "pgha restore failed"; }
cat "$WORK/restore.out" >&2

sql "SELECT id || ' ' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM t ORDER BY id" >"$WORK/restored.txt"
diff "$WORK/expected.txt" "$WORK/restored.txt" >&2 || fail "t does not hold exactly the rows committed at or before T"
log "t holds exactly the $(wc -l <"$WORK/restored.txt") rows at or before T"

members $NET.11 >"$WORK/members.txt"
cat "$WORK/members.txt" >&2
python3 - "$WORK/members.txt" "$OLD_TL" <<'PY' || fail "the cluster after the restore is not one leader with every replica on its timeline"
import sys
ms = [l.split() for l in open(sys.argv[1]) if l.strip()]
leaders = [m for m in ms if m[1] in ("leader", "master", "primary")]
assert len(ms) == 3 and len(leaders) == 1, ms
tl = leaders[0][3]
assert int(tl) > int(sys.argv[2]), "timeline %s is not newer than %s" % (tl, sys.argv[2])
for m in ms:
    assert m[2] in ("running", "streaming") and m[3] == tl, m
PY
LEADER_ADDR=$(addr_of "$(awk '$2=="leader"{print $1}' "$WORK/members.txt")")
STREAMING=$(sql "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
[ "$STREAMING" = 2 ] || fail "the leader streams to $STREAMING replicas, not 2"
node_ssh "$STATE" "$LEADER_ADDR" "cd /; runuser -u postgres -- pgbackrest --stanza=$CLUSTER --log-level-console=warn check" ||
  fail "pgbackrest check fails after the restore"
"$PGHA" backup list -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/list.json" 2>"$WORK/list.log" ||
  { cat "$WORK/list.log" >&2; fail "backup list failed"; }
"$PGHA" backup list -i "$INV" --state-dir "$STATE_ROOT" -q >&2
python3 - "$WORK/list.json" "$RESTORE_START" <<'PY' ||
import json, sys, datetime as dt
j = json.load(open(sys.argv[1]))
start = dt.datetime.strptime(sys.argv[2], "%Y-%m-%d %H:%M:%S")
new = [b for b in j["backups"] if b["type"] == "full" and dt.datetime.strptime(b["start"][:19], "%Y-%m-%d %H:%M:%S") >= start]
assert new, "no full backup started after the restore began: %s" % [b["label"] for b in j["backups"]]
assert j["window"] is not None
PY
  fail "backup list does not show a new full backup"
[ ! -e "$STATE/restore.json" ] || fail "restore.json is left after success"
for a in $NODES; do
  node_ssh "$STATE" "$a" "ls -d /var/lib/postgresql/$PGV/$CLUSTER.pgha-restore-* 2>/dev/null" && fail "an old data directory is left on $a"
done
log "one leader on timeline > $OLD_TL, 2 replicas streaming, pgbackrest check ok, a new full backup"

log "a restore before the oldest backup is refused and changes nothing"
fingerprint >"$WORK/before.txt"
rc=0
"$PGHA" restore -i "$INV" --state-dir "$STATE_ROOT" --to "2000-01-01 00:00:00" --yes >"$WORK/refused.out" 2>"$WORK/refused.log" || rc=$?
cat "$WORK/refused.log" >&2
[ $rc = 2 ] || fail "a restore to 2000-01-01 exited $rc, not 2"
grep -q "outside the recoverable window from" "$WORK/refused.log" || fail "the refusal does not name the window"
rc=0
"$PGHA" restore -i "$INV" --state-dir "$STATE_ROOT" --latest </dev/null >"$WORK/notty.out" 2>"$WORK/notty.log" || rc=$?
[ $rc = 2 ] && grep -q "needs --yes" "$WORK/notty.log" || { cat "$WORK/notty.log" >&2; fail "a restore without a terminal or --yes was not refused (exit $rc)"; }
fingerprint >"$WORK/after.txt"
diff "$WORK/before.txt" "$WORK/after.txt" >&2 || fail "a refused restore changed the nodes"
[ ! -e "$STATE/restore.json" ] || fail "a refused restore left a record"

log "pgha check restore: the latest backup restored on a replica, the whole archive replayed, the copy removed"
"$PGHA" check restore -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/drill.json" 2>"$WORK/drill.log" ||
  { cat "$WORK/drill.log" >&2; fail "check restore failed on a healthy cluster"; }
python3 - "$WORK/drill.json" <<'PY' || fail "check restore's report is wrong"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["pass"] is True and "postgres" in j["databases"], j
print("drill on %s: backup %s restored, replayed to %s (the archive's newest %s), %d databases, %.1f s"
      % (j["node"], j["backup"], j["replayed_to"], j["wal_max"], len(j["databases"]), j["duration_s"]), file=sys.stderr)
PY
for a in $NODES; do
  node_ssh "$STATE" "$a" "test ! -e /var/lib/pgha/drill && test ! -e /var/lib/pgha/drill-run" || fail "the drill's copy is left on $a"
done
fingerprint >"$WORK/after-drill.txt"
diff "$WORK/after.txt" "$WORK/after-drill.txt" >&2 || fail "the drill changed the nodes"

log "the node that took a backup is destroyed with its volumes; restore --latest from the repository"
TOOK=$("$PGHA" backup -i "$INV" --state-dir "$STATE_ROOT" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node"])')
TOOK_ADDR=$(addr_of "$TOOK")
sql "CREATE TABLE after_loss (v text); INSERT INTO after_loss VALUES ('written after the backup')" >/dev/null
# Archived before the node goes: pgbackrest check switches WAL and waits for it in the repository.
node_ssh "$STATE" "$TOOK_ADDR" "cd /; runuser -u postgres -- pgbackrest --stanza=$CLUSTER --log-level-console=warn check" ||
  fail "pgbackrest check fails on $TOOK"
docker_api DELETE "/containers/pgha-$CLUSTER-$TOOK?force=1&v=1" >/dev/null
for v in etcd data; do docker_api DELETE "/volumes/pgha-$CLUSTER-$TOOK-$v" >/dev/null; done
[ "$(count_labelled containers "pgha.cluster=$CLUSTER")" = 2 ] || fail "$TOOK's container is still there"
"$PGHA" restore -i "$INV" --state-dir "$STATE_ROOT" --latest --yes >"$WORK/restore-latest.out" 2>"$WORK/restore-latest.log" ||
  { tail -30 "$WORK/restore-latest.log" >&2; fail "restore --latest after $TOOK was destroyed failed"; }
cat "$WORK/restore-latest.out" >&2
grep -q "missing machines: $TOOK" "$WORK/restore-latest.out" || fail "the restore's plan does not name the missing machine"
[ "$(sql "SELECT v FROM after_loss")" = "written after the backup" ] || fail "the row written after the backup is not restored"
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status-latest.json" || fail "status not healthy after restore --latest"
# Its etcd member was replaced, not started on an empty data dir: one cluster, three voting members.
node_ssh "$STATE" "$TOOK_ADDR" "ETCDCTL_API=3 etcdctl --endpoints=http://$TOOK_ADDR:2379 endpoint status --cluster -w json" |
  python3 -c 'import json,sys; s=json.load(sys.stdin); ids={x["Status"]["header"]["cluster_id"] for x in s}; assert len(s)==3 and len(ids)==1, s' ||
  fail "etcd is not one cluster of three members after $TOOK was made again"
log "$TOOK made again, the cluster restored with the row written after the backup, one etcd cluster of 3"
members $NET.11 >"$WORK/members-latest.txt"
LEADER_ADDR=$(addr_of "$(awk '$2=="leader"{print $1}' "$WORK/members-latest.txt")")

log "a WAL segment deleted from the repository fails the drill"
for i in 1 2 3; do sql "INSERT INTO t DEFAULT VALUES; SELECT pg_switch_wal()" >/dev/null; done
node_ssh "$STATE" "$LEADER_ADDR" "cd /; runuser -u postgres -- pgbackrest --stanza=$CLUSTER --log-level-console=warn check" ||
  fail "pgbackrest check fails before the segment is deleted"
# The second newest segment of the archive: after the latest backup (three WAL switches came since),
# before the archive's end.
GONE=$(node_ssh "$STATE" "$LEADER_ADDR" "find /var/lib/pgbackrest/archive/$CLUSTER -type f -name '????????????????????????-*'" |
  awk -F/ '{print $NF}' | sort | tail -n 2 | head -n 1)
[ -n "$GONE" ] || fail "no archived segment found to delete"
node_ssh "$STATE" "$LEADER_ADDR" "find /var/lib/pgbackrest/archive/$CLUSTER -type f -name '$GONE' -delete"
log "deleted ${GONE%%-*} from the repository"
rc=0
"$PGHA" check restore -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/drill2.out" 2>"$WORK/drill2.log" || rc=$?
cat "$WORK/drill2.log" >&2
[ $rc = 1 ] || fail "check restore exited $rc with a segment missing, not 1"
grep -q "WAL segment ${GONE%%-*} is missing" "$WORK/drill2.log" || fail "the failure does not name the missing segment"
for a in $NODES; do
  node_ssh "$STATE" "$a" "test ! -e /var/lib/pgha/drill && test ! -e /var/lib/pgha/drill-run" || fail "the failed drill's copy is left on $a"
done
log "PASS"
