#!/usr/bin/env bash
# Failover, end to end, on the default Docker cluster (3 nodes, sync mode): `check failover` with
# --fault kill-node, then --fault partition. For each: exit 0, 0 lost acknowledged writes, never two
# primaries, the old primary rejoined; and pgha's RTO through the VIP agrees (within 2 s) with this
# test's own independent probe: a psql loop writing through the VIP every 100 ms, logging its own
# timestamps. Ends with `pgha down`.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"

WORK=$(mktemp -d /tmp/pgha-e2e-failover.XXXXXX)
# PGHA_FAILOVER_STATE_ROOT + PGHA_FAILOVER_REUSE=1: reuse a cluster already up with that state (no
# initial down; `up` then converges nothing). PGHA_FAILOVER_KEEP=1: no down at the end.
STATE_ROOT=${PGHA_FAILOVER_STATE_ROOT:-$WORK/state}
# The default inventory, renamed and moved to its own subnet so that it never collides with another
# cluster built from inventories/docker-local.yml on the same engine (developers, other scenarios).
# PGHA_FAILOVER_INVENTORY=inventories/docker-local.yml runs on the default one itself.
if [ -n "${PGHA_FAILOVER_INVENTORY:-}" ]; then
  INV=$PGHA_FAILOVER_INVENTORY
else
  INV=$WORK/docker-failover.yml
  sed -e 's/^  name: pgha-local$/  name: pgha-failover/' -e 's/10\.42\.0\./10.47.0./g' inventories/docker-local.yml >"$INV"
fi
CLUSTER=$(awk '/^cluster:/{c=1} c && /^  name:/{print $2; exit}' "$INV")
VIP=$(awk '/^  vip:/{print $2; exit}' "$INV")
STATE=$STATE_ROOT/$CLUSTER
[ -n "$CLUSTER" ] && [ -n "$VIP" ] || fail "cannot read the cluster name and VIP from $INV"
TOLERANCE=${PGHA_RTO_TOLERANCE:-2.0}
probe_pid=
cleanup() {
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null
  [ "${PGHA_FAILOVER_KEEP:-0}" = 1 ] || "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  [ -n "${PGHA_KEEP_WORK:-}" ] || rm -rf "$WORK"
  true
}
trap cleanup EXIT

if [ "${PGHA_FAILOVER_REUSE:-0}" != 1 ]; then
  log "removing leftovers of an earlier run"
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
fi

log "up"
# PGHA_TEMPLATES: an optional template override directory (passed as --templates).
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" ${PGHA_TEMPLATES:+--templates "$PGHA_TEMPLATES"} -q >"$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log" >&2; fail "up failed"; }

PW=$(secret "$STATE" superuser_password)
psql_at "$VIP" 5000 postgres "$PW" postgres "CREATE TABLE IF NOT EXISTS e2e_probe (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())" >/dev/null

# The independent probe: one psql per write, each bounded by `timeout`, logging "start end ok|fail".
(
  while :; do
    s=$(date +%s.%N)
    if PGPASSWORD=$PW PGCONNECT_TIMEOUT=2 timeout 2 psql -X -q -tA -h "$VIP" -p 5000 -U postgres -d postgres \
         -c "INSERT INTO e2e_probe DEFAULT VALUES" >/dev/null 2>&1; then r=ok; else r=fail; fi
    echo "$s $(date +%s.%N) $r"
    sleep 0.1
  done
) >"$WORK/probe.log" &
probe_pid=$!

check() {
  local fault=$1
  log "check failover --fault $fault"
  local rc=0
  "$PGHA" check failover -i "$INV" --state-dir "$STATE_ROOT" --fault "$fault" -o json --junit "$WORK/$fault.xml" \
    >"$WORK/$fault.json" 2>"$WORK/$fault.log" || rc=$?
  cat "$WORK/$fault.log" >&2
  python3 -m json.tool "$WORK/$fault.json" >&2 || true
  [ $rc = 0 ] || fail "check failover --fault $fault exited $rc"
  python3 - "$WORK/$fault.json" "$WORK/probe.log" "$TOLERANCE" "$WORK/$fault.xml" <<'PY' || fail "check failover --fault $fault: see above"
import json, sys, xml.etree.ElementTree as ET
j = json.load(open(sys.argv[1]))
tol = float(sys.argv[3])
assert j["pass"] is True, "pgha says the check failed"
assert j["lost_writes"] == 0, "lost acknowledged writes: %s" % j["lost_writes"]
r = j["runs"][0]
assert r["old_primary"] != r["new_primary"], "no failover happened: %s" % r["old_primary"]
assert r["split_brain"] is False and r["max_primaries"] == 1, "two primaries at once: %s" % r["split_brain_nodes"]
assert r["rejoined"] is True and r["rejoin_s"] is not None, "the old primary did not rejoin"
assert r["timeline_after"] > r["timeline_before"], (r["timeline_before"], r["timeline_after"])
vip = next(p for p in r["paths"] if p["via"] == "vip")
assert vip["rto_s"] is not None and vip["lost"] == 0 and vip["acked"] > 10, vip
assert abs(r["detection_s"] + r["promotion_s"] + r["routing_s"] - r["rto_s"]) < 0.01, "phases do not add up"
# Our own probe: the first of our writes started after the fault took effect and succeeded.
own = []
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) == 3 and f[2] == "ok":
        own.append((float(f[0]), float(f[1])))
after = [end for start, end in own if start >= r["fault_in_effect_at"]]
assert after, "the test's own probe never wrote after the fault"
before = [end for start, end in own if end < r["fault_at"]]
assert before, "the test's own probe never wrote before the fault"
mine = min(after) - r["fault_at"]
print("RTO through the VIP: pgha %.2f s, independent probe %.2f s (HAProxy path %.2f s = %.2f + %.2f + %.2f)"
      % (vip["rto_s"], mine, r["rto_s"], r["detection_s"], r["promotion_s"], r["routing_s"]), file=sys.stderr)
assert abs(mine - vip["rto_s"]) <= tol, "pgha's VIP RTO %.2f s and the independent %.2f s differ by more than %.1f s" % (vip["rto_s"], mine, tol)
suite = ET.parse(sys.argv[4]).getroot()
assert suite.get("failures") == "0" and int(suite.get("tests")) == 4, ET.tostring(suite)
PY
}

check kill-node
check partition

kill "$probe_pid" 2>/dev/null; probe_pid=
log "status after both faults"
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status.json" || fail "status not healthy after the faults"

if [ "${PGHA_FAILOVER_KEEP:-0}" != 1 ]; then
  log "down"
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q
fi
log "PASS"
