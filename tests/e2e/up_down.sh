#!/usr/bin/env bash
# End to end on real containers with the default inventory (3 nodes, all six roles, sync mode):
#   up killed with SIGKILL halfway -> up again converges -> status -> a write through the HAProxy
#   write port and through the VIP -> that row read on a replica through the read port -> a second
#   up changes no file and restarts no service -> Patroni stopped on a replica makes status say
#   degraded, naming it, and healthy once it is back -> down removes exactly the cluster's resources
#   and an unrelated container survives.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"

INV=inventories/docker-local.yml
WORK=$(mktemp -d /tmp/pgha-e2e.XXXXXX)
STATE_ROOT=$WORK/state
STATE=$STATE_ROOT/pgha-local
LABEL=pgha.cluster=pgha-local
BYSTANDER=pgha-e2e-bystander
cleanup() {
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  docker_api DELETE "/containers/$BYSTANDER?force=1" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log "removing leftovers of an earlier run"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
docker_api DELETE "/containers/$BYSTANDER?force=1" >/dev/null 2>&1 || true

log "an unrelated container that down must not touch"
docker_api POST "/containers/create?name=$BYSTANDER" '{"Image":"debian:bookworm","Cmd":["sleep","infinity"],"Labels":{"purpose":"bystander"}}' >/dev/null
docker_api POST "/containers/$BYSTANDER/start" >/dev/null

log "first up, killed with SIGKILL once Patroni is being started"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/up1.log" 2>&1 &
pid=$!
for _ in $(seq 1 900); do
  grep -q "patroni" "$WORK/up1.log" 2>/dev/null && grep -q "begin patroni\|==> patroni" "$WORK/up1.log" && break
  kill -0 $pid 2>/dev/null || break
  sleep 1
done
kill -9 $pid 2>/dev/null || fail "up finished before it could be killed; see $(tail -5 "$WORK/up1.log")"
wait $pid 2>/dev/null || true
tail -3 "$WORK/up1.log" >&2

log "up again after the kill: must converge"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/up2.json" 2>"$WORK/up2.log" || { cat "$WORK/up2.log" >&2; fail "up after SIGKILL did not converge"; }
python3 - "$WORK/up2.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["endpoints"]["write"] == "10.42.0.100:5000", j["endpoints"]
assert j["endpoints"]["read"] == "10.42.0.100:5001", j["endpoints"]
PY

log "status"
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status.json"
python3 - "$WORK/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
roles = [m["role"] for m in s["members"]]
assert len(s["members"]) == 3, s
assert sum(r in ("leader", "master", "primary") for r in roles) == 1, roles
assert all(m["state"] in ("running", "streaming") for m in s["members"]), s["members"]
assert len(s["etcd"]) == 3 and all(e["healthy"] for e in s["etcd"]), s["etcd"]
assert s["vip"]["holder"] is not None, s["vip"]
ups = [b for b in s["haproxy"] if b["status"] == "UP"]
assert len(ups) >= 3, s["haproxy"]
PY
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" >&2

APP_PW=$(secret "$STATE" user:app)
log "write through the HAProxy write port of pg2 and through the VIP"
psql_at 10.42.0.12 5000 app "$APP_PW" app "CREATE TABLE IF NOT EXISTS e2e (id int primary key, via text)"
psql_at 10.42.0.12 5000 app "$APP_PW" app "INSERT INTO e2e VALUES (1, 'haproxy') ON CONFLICT DO NOTHING"
psql_at 10.42.0.100 5000 app "$APP_PW" app "INSERT INTO e2e VALUES (2, 'vip') ON CONFLICT DO NOTHING"
[ "$(psql_at 10.42.0.100 5000 app "$APP_PW" app "SELECT pg_is_in_recovery()")" = f ] || fail "VIP write port is not the primary"

log "read both rows on a replica through the read port"
ok=
for _ in $(seq 1 30); do
  out=$(psql_at 10.42.0.100 5001 app "$APP_PW" app "SELECT pg_is_in_recovery(), count(*) FROM e2e" || true)
  [ "$out" = "t|2" ] && { ok=1; break; }
  sleep 1
done
[ -n "$ok" ] || fail "replica read through the read port gave '$out', expected 't|2'"
psql_at 10.42.0.11 6432 app "$APP_PW" app "SELECT count(*) FROM e2e" | grep -qx 2 || fail "PgBouncer did not serve the rows"

log "second up: no file changed, no service restarted"
units="etcd patroni haproxy keepalived pgbouncer"
snapshot() {
  for a in 10.42.0.11 10.42.0.12 10.42.0.13; do
    # ActiveEnterTimestamp moves on any (re)start; the inode of a managed file changes on any rewrite
    # (uploads rename a new file into place).
    node_ssh "$STATE" "$a" "for u in $units; do printf '%s ' \$u; systemctl show -p ActiveEnterTimestampMonotonic --value \$u; done; find /etc/patroni /etc/haproxy /etc/keepalived /etc/pgbouncer /etc/pgbackrest /etc/default/etcd /etc/systemd/system -type f -printf '%p %i %T@\\n' 2>/dev/null | sort"
  done
}
before=$(snapshot)
start=$(date +%s.%N)
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/up3.json" 2>"$WORK/up3.log" || { cat "$WORK/up3.log" >&2; fail "second up failed"; }
end=$(date +%s.%N)
after=$(snapshot)
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["changes"]; assert c == [], c' "$WORK/up3.json" || fail "second up reported changes"
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "second up restarted a service or touched a file"; }
log "second up took $(python3 -c "print(round($end-$start,1))") s"

log "status with Patroni stopped on a replica: degraded, naming it; healthy again once it is back"
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status2.json"
read -r replica raddr laddr < <(python3 -c '
import json, sys
ms = json.load(open(sys.argv[1]))["members"]
leader = [m for m in ms if m["role"] in ("leader", "master", "primary")][0]
r = [m for m in ms if m is not leader][-1]
print(r["member"], r["host"], leader["host"])' "$WORK/status2.json")
node_ssh "$STATE" "$raddr" systemctl stop patroni
listed_running() {
  curl -s --max-time 3 "http://$laddr:8008/cluster" | python3 -c '
import json, sys
sys.exit(0 if any(m["name"] == sys.argv[1] and m["state"] in ("running", "streaming") for m in json.load(sys.stdin)["members"]) else 1)' "$replica"
}
for _ in $(seq 1 60); do listed_running || break; sleep 1; done
listed_running && fail "Patroni still lists $replica as running after its stop"
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/degraded.txt" || fail "status failed on a degraded cluster"
cat "$WORK/degraded.txt" >&2
head -1 "$WORK/degraded.txt" | grep "degraded" | grep -q "$replica" || fail "status does not say degraded naming $replica"
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/degraded.json"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["health"] == "degraded", s["health"]
assert any(sys.argv[2] in r for r in s["reasons"]), s["reasons"]' "$WORK/degraded.json" "$replica" || fail "status JSON is not degraded naming $replica"
node_ssh "$STATE" "$raddr" systemctl start patroni
ok=
for _ in $(seq 1 90); do
  "$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/healed.txt" 2>&1 || true
  head -1 "$WORK/healed.txt" | grep -q ": healthy$" && { ok=1; break; }
  sleep 2
done
[ -n "$ok" ] || { cat "$WORK/healed.txt" >&2; fail "status not healthy after Patroni started again on $replica"; }

log "down"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT"
for kind in containers networks volumes; do
  n=$(count_labelled $kind "$LABEL")
  [ "$n" = 0 ] || fail "$n $kind with $LABEL left after down"
done
[ "$(docker_api GET "/containers/$BYSTANDER/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["State"]["Running"])')" = True ] \
  || fail "down touched the unrelated container"
[ ! -e "$STATE" ] || fail "down left the state directory $STATE"
log "PASS"
