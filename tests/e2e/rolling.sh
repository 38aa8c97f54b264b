#!/usr/bin/env bash
# Rolling changes, end to end, on the default Docker cluster moved to its own subnet (pgha-rolling,
# 10.61.0.0/24), under a continuous write probe through the VIP's write port (lib/probe.sh):
#   up -> a plain switchover (its longest write gap is the baseline) -> work_mem (a reload) and up:
#   every member shows it and no PostgreSQL restarted -> shared_buffers and max_connections (a
#   restart) and up: every member shows them, none has pending_restart, exactly one leader change ->
#   max_locks_per_transaction (a restart) and up, SIGKILLed after its first restarted member, then up
#   again: the roll completes -> pg_stat_statements added to database app: it exists on the leader and
#   returns rows on a replica -> max_connections lowered: the leader restarts first, in place, then
#   the replicas, and every member shows the lower value -> Patroni's module newer than the running
#   Patroni (as when pgha's leader-key fix lands on a running cluster): up restarts every Patroni in
#   a roll, with one leader change -> a no-op up -> `pgha upgrade --dry-run`: no upgrades.
# Before each up, `pgha plan -o json` must list what up then reports having done. Over the run:
# 0 acknowledged writes lost; the restart roll's longest write gap is no longer than the plain
# switchover's (+0.5 s for the probe's own jitter). Its absolute size is bench/rolling.sh's to measure.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/probe.sh"
cd "$PGHA_SOURCE_DIR"
bash scripts/ensure-docker.sh >/dev/null

WORK=$(mktemp -d /tmp/pgha-e2e-rolling.XXXXXX)
STATE_ROOT=$WORK/state
CLUSTER=pgha-rolling
STATE=$STATE_ROOT/$CLUSTER
VIP=10.61.0.100
NODES="10.61.0.11 10.61.0.12 10.61.0.13"
INV=$WORK/inv.yml
cleanup() {
  stop_probe
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  [ -n "${PGHA_KEEP_WORK:-}" ] || rm -rf "$WORK"
  true
}
trap cleanup EXIT

# inventory PARAMS: the default inventory on this test's subnet, with postgresql.parameters PARAMS
# ("name: value" pairs separated by ";", or "" for none).
EXTENSIONS=
inventory() {
  sed -e "s/^  name: pgha-local$/  name: $CLUSTER/" -e 's/10\.42\.0\./10.61.0./g' inventories/docker-local.yml >"$INV"
  [ -z "$EXTENSIONS" ] || sed -i "s/^    owner: app$/    owner: app\n    extensions: [$EXTENSIONS]/" "$INV"
  [ -z "$1" ] && return 0
  { echo; echo "postgresql:"; echo "  parameters:"; tr ';' '\n' <<<"$1" | sed 's/^ */    /'; } >>"$INV"
}
inventory ""
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true

# up_step NAME [ARGS]: plan -o json, then up -o json; the two must list the same changes.
up_step() {
  local name=$1; shift
  "$PGHA" plan -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/$name.plan.json" 2>"$WORK/$name.plan.log" ||
    { cat "$WORK/$name.plan.log" >&2; fail "$name: plan failed"; }
  "$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" -o json "$@" >"$WORK/$name.up.json" 2>"$WORK/$name.up.log" ||
    { tail -30 "$WORK/$name.up.log" >&2; fail "$name: up failed"; }
  python3 - "$WORK/$name.plan.json" "$WORK/$name.up.json" "$name" <<'PY' || fail "$name: plan and up differ"
import json, sys
key = lambda c: (c["kind"], c["node"], c.get("target", ""))
plan = {key(c) for c in json.load(open(sys.argv[1]))["changes"]}
done = {key(c) for c in json.load(open(sys.argv[2]))["changes"]}
for k in sorted(plan - done): print("planned, not done:", k, file=sys.stderr)
for k in sorted(done - plan): print("done, not planned:", k, file=sys.stderr)
assert plan == done
print("%s: plan and up agree on %d changes" % (sys.argv[3], len(plan)), file=sys.stderr)
PY
}
mark() { date +%s.%N >"$WORK/$1.at"; }

log "up"
up_step up
PW=$(secret "$STATE" superuser_password)
# on_each SQL: "address value" per member, straight to its PostgreSQL.
on_each() {
  local a
  for a in $NODES; do echo "$a $(psql_at "$a" 5432 postgres "$PW" postgres "$1")"; done
}
# leader_tl: "name timeline" of Patroni's leader.
leader_tl() {
  curl -s --max-time 5 "http://10.61.0.11:8008/cluster" | python3 -c '
import json, sys
m = [m for m in json.load(sys.stdin)["members"] if m["role"] in ("leader", "master", "primary")]
assert len(m) == 1, m
print(m[0]["name"], m[0]["timeline"])'
}
# expect_each NAME SQL VALUE: every member answers SQL with VALUE.
expect_each() {
  on_each "$2" >"$WORK/$1.each"
  awk -v want="$3" '$2 != want {bad=1} END {exit bad}' "$WORK/$1.each" ||
    { cat "$WORK/$1.each" >&2; fail "$1: not every member answers $3 to: $2"; }
}

psql_at "$VIP" 5000 postgres "$PW" postgres "CREATE TABLE IF NOT EXISTS e2e_rolling (seq bigint PRIMARY KEY)" >/dev/null
start_probe "$WORK" "$VIP" 5000 "$PW" e2e_rolling
sleep 2

log "baseline: a plain switchover"
leader_tl >"$WORK/sw.before"
mark sw.begin
"$PGHA" switchover -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/sw.json" 2>"$WORK/sw.log" ||
  { cat "$WORK/sw.log" >&2; fail "switchover failed"; }
sleep 2
mark sw.end
leader_tl >"$WORK/sw.after"
log "switchover: $(cat "$WORK/sw.before") -> $(cat "$WORK/sw.after")"

log "step 1: work_mem (a reload)"
on_each "SELECT pg_postmaster_start_time()" >"$WORK/reload.started.before"
inventory "work_mem: 8MB"
up_step reload
expect_each reload "SHOW work_mem" 8MB
on_each "SELECT pg_postmaster_start_time()" >"$WORK/reload.started.after"
diff "$WORK/reload.started.before" "$WORK/reload.started.after" >&2 || fail "reload: a PostgreSQL restarted"
grep -q "work_mem" "$WORK/reload.plan.json" || fail "reload: the plan does not name work_mem"

log "step 2: shared_buffers and max_connections (a restart)"
inventory "work_mem: 8MB;shared_buffers: 256MB;max_connections: 250"
leader_tl >"$WORK/restart.before"
mark restart.begin
up_step restart
mark restart.end
leader_tl >"$WORK/restart.after"
expect_each restart "SHOW shared_buffers" 256MB
expect_each restart "SHOW max_connections" 250
expect_each restart "SELECT count(*) FROM pg_settings WHERE pending_restart" 0
log "restart roll: $(cat "$WORK/restart.before") -> $(cat "$WORK/restart.after")"

log "step 3: max_locks_per_transaction; up is SIGKILLed after its first restarted member"
inventory "work_mem: 8MB;shared_buffers: 256MB;max_connections: 250;max_locks_per_transaction: 128"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/killed.out" 2>"$WORK/killed.log" &
up_pid=$!
for _ in $(seq 1 1800); do
  grep -q 'restarted, streaming with lag 0' "$WORK/killed.log" && break
  kill -0 "$up_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q 'restarted, streaming with lag 0' "$WORK/killed.log" ||
  { tail -20 "$WORK/killed.log" >&2; fail "up never restarted a member"; }
kill -KILL "$up_pid"
wait "$up_pid" 2>/dev/null || true
on_each "SELECT count(*) FROM pg_settings WHERE pending_restart" >"$WORK/killed.pending"
log "killed up mid-roll; members with a pending restart: $(awk '$2 > 0 {print $1}' "$WORK/killed.pending" | tr '\n' ' ')"
awk '$2 > 0 {n++} END {exit n > 0 ? 0 : 1}' "$WORK/killed.pending" || fail "the kill came after the roll had finished"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/resume.out" 2>"$WORK/resume.log" ||
  { tail -30 "$WORK/resume.log" >&2; fail "the second up failed"; }
expect_each resume "SHOW max_locks_per_transaction" 128
expect_each resume "SELECT count(*) FROM pg_settings WHERE pending_restart" 0

log "step 4: pg_stat_statements in database app (a package-less contrib module that needs preloading)"
EXTENSIONS=pg_stat_statements
inventory "work_mem: 8MB;shared_buffers: 256MB;max_connections: 250;max_locks_per_transaction: 128"
grep -q "extensions: \[pg_stat_statements\]" "$INV" || fail "ext: the inventory has no extensions line"
up_step ext
[ "$(psql_at "$VIP" 5000 postgres "$PW" app "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")" = 1 ] ||
  fail "ext: pg_stat_statements is not in database app on the leader"
expect_each ext "SHOW shared_preload_libraries" pg_stat_statements
expect_each ext "SELECT count(*) FROM pg_settings WHERE pending_restart" 0
read -r ext_leader _ < <(leader_tl)
for a in $NODES; do
  [ "$a" = "10.61.0.1${ext_leader#pg}" ] && continue
  psql_at "$a" 5432 postgres "$PW" app "SELECT 1" >/dev/null
  n=$(psql_at "$a" 5432 postgres "$PW" app "SELECT count(*) FROM pg_stat_statements")
  [ "$n" -gt 0 ] || fail "ext: pg_stat_statements returns no rows on the replica $a"
  log "pg_stat_statements on the replica $a: $n rows"
  break
done

log "step 5: max_connections lowered again: the leader restarts first, in place"
inventory "work_mem: 8MB;shared_buffers: 256MB;max_connections: 200;max_locks_per_transaction: 128"
leader_tl >"$WORK/lower.before"
up_step lower
leader_tl >"$WORK/lower.after"
grep -q "restart the leader .* in place first" "$WORK/lower.plan.json" || fail "lower: the plan does not restart the leader first"
expect_each lower "SHOW max_connections" 200
expect_each lower "SELECT count(*) FROM pg_settings WHERE pending_restart" 0
cmp -s "$WORK/lower.before" "$WORK/lower.after" || fail "lower: the leader changed ($(cat "$WORK/lower.before") -> $(cat "$WORK/lower.after"))"

log "step 6: Patroni runs code older than its module (as after pgha's leader-key fix on a running cluster)"
for a in $NODES; do
  node_ssh "$STATE" "$a" "systemctl show -p MainPID --value patroni.service" >"$WORK/patroni.pid.$a"
  node_ssh "$STATE" "$a" "touch /usr/lib/python3/dist-packages/patroni/dcs/etcd3.py"
done
leader_tl >"$WORK/stale.before"
up_step stale
leader_tl >"$WORK/stale.after"
grep -q '"target": *"patroni"' "$WORK/stale.plan.json" || fail "stale: the plan has no rolling restart of Patroni"
for a in $NODES; do
  [ "$(node_ssh "$STATE" "$a" "systemctl show -p MainPID --value patroni.service")" != "$(cat "$WORK/patroni.pid.$a")" ] ||
    fail "stale: Patroni on $a was not restarted"
done
[ "$(($(cut -d' ' -f2 "$WORK/stale.after") - $(cut -d' ' -f2 "$WORK/stale.before")))" = 1 ] ||
  fail "stale: expected one leader change ($(cat "$WORK/stale.before") -> $(cat "$WORK/stale.after"))"

log "step 7: a no-op up"
up_step noop
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["changes"]; assert c == [], c' "$WORK/noop.up.json" ||
  fail "the no-op up changed something"

log "step 8: pgha upgrade --dry-run on the up-to-date cluster"
# The nodes' own package lists are the ones the image was installed from: no upgrades, by
# construction. With apt-get update the mirror may have moved on since the image was cached, so that
# run must succeed and may list only real upgrades (candidate newer than installed).
"$PGHA" upgrade -i "$INV" --state-dir "$STATE_ROOT" --dry-run --no-update >"$WORK/upgrade.txt" 2>"$WORK/upgrade.err" ||
  fail "upgrade --dry-run --no-update failed: $(cat "$WORK/upgrade.err")"
grep -q '^no upgrades' "$WORK/upgrade.txt" || fail "upgrade --dry-run reported upgrades: $(cat "$WORK/upgrade.txt")"
"$PGHA" upgrade -i "$INV" --state-dir "$STATE_ROOT" --dry-run -o json >"$WORK/upgrade.json" 2>"$WORK/upgrade.err" ||
  fail "upgrade --dry-run failed: $(cat "$WORK/upgrade.err")"
python3 - "$WORK/upgrade.json" <<'PY' || fail "upgrade --dry-run's JSON is wrong"
import json, subprocess, sys
j = json.load(open(sys.argv[1]))
assert j["dry_run"] is True, j
for n in j["nodes"]:
    for p in n["packages"]:
        if p.get("upgrade"):
            r = subprocess.run(["dpkg", "--compare-versions", p["candidate"], "gt", p["installed"]])
            assert r.returncode == 0, p
print("upgrade --dry-run after apt-get update: upgrades listed: %s" % j["upgrades"], file=sys.stderr)
PY

sleep 1
kill -0 "$probe_pid" 2>/dev/null || fail "the write probe died"
stop_probe
wait 2>/dev/null || true
psql_at "$VIP" 5000 postgres "$PW" postgres "SELECT seq FROM e2e_rolling ORDER BY seq" >"$WORK/rows.txt"

python3 - "$WORK" "$PGHA_SOURCE_DIR/tests/e2e/lib" <<'PY' || fail "the write stream says the rolling change was not safe"
import os, sys
work = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from probe import acks as read_acks, gap, at
acks = read_acks(work)
rows = {int(l) for l in open(os.path.join(work, "rows.txt")).read().split()}
lost = [seq for _, seq in acks if seq not in rows]
sw = gap(acks, at(work, "sw.begin"), at(work, "sw.end"))
roll = gap(acks, at(work, "restart.begin"), at(work, "restart.end"))
tl = lambda n: int(open(os.path.join(work, n)).read().split()[1])
changes = tl("restart.after") - tl("restart.before")
print("writes acknowledged %d, lost %d" % (len(acks), len(lost)), file=sys.stderr)
print("longest write gap: plain switchover %.2f s, rolling restart %.2f s; leader changes in the roll: %d"
      % (sw, roll, changes), file=sys.stderr)
open(os.path.join(work, "..", "pgha-e2e-rolling.numbers"), "w").write(
    "acked %d lost %d gap_switchover %.2f gap_rolling_restart %.2f\n" % (len(acks), len(lost), sw, roll))
assert not lost, "acknowledged writes lost: %s" % lost[:20]
assert changes == 1, "the roll changed the leader %d times" % changes
assert roll <= sw + 0.5, "the roll's write gap %.2f s is longer than a plain switchover's %.2f s" % (roll, sw)
PY
log "PASS"
