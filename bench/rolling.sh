#!/usr/bin/env bash
# Benchmark of a rolling restart's write gap against its floor, a plain switchover, alternating on
# one cluster in the same run (issue 16). Not a test: run by hand.
#   PGHA=build/pgha bench/rolling.sh [ROUNDS]     (default 5; a running engine, the node image)
# Sets up once: `pgha up` of a copy of inventories/docker-local.yml (pgha-bench-rolling,
# 10.58.0.0/24), a table, and the end-to-end tests' write probe (tests/e2e/lib/probe.sh: one psql
# session through the VIP's write port, an INSERT every 100 ms, each acknowledgement timestamped).
# Each round then runs, one after another:
#   1. the floor: `pgha switchover` (the one leader change a roll needs, and nothing else);
#   2. `pgha restart`: every member restarted, replicas one at a time gated on streaming with lag 0,
#      then a switchover to a synchronous standby, then the old leader as a replica.
# The number is each one's longest gap between two acknowledged writes. Prints the medians, each
# round's values, and the acknowledged and lost writes over the whole run. Target (issue 16): the
# roll's gap no more than a plain switchover's, and at most 3 s.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
PGHA=${PGHA:-build/pgha}
WORK=$(mktemp -d /tmp/pgha-bench-rolling.XXXXXX)
INV=$WORK/inventory.yml
STATE=$WORK/state
CLUSTER=pgha-bench-rolling
VIP=10.58.0.100
log() { printf '%s rolling: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
. tests/e2e/lib/probe.sh
mark() { date +%s.%N >"$WORK/$1.at"; }

[ -x "$PGHA" ] || { log "$PGHA is missing: build it, or set PGHA"; exit 1; }
sed -e "s/^\(  name:\) pgha-local$/\1 $CLUSTER/" -e 's/10\.42\.0\./10.58.0./g' inventories/docker-local.yml >"$INV"
grep -q "name: $CLUSTER" "$INV" && ! grep -q '10\.42\.' "$INV" ||
  { log "inventories/docker-local.yml changed shape: cannot derive the bench inventory"; exit 1; }
trap 'stop_probe; "$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

"$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null 2>&1 || true  # an interrupted earlier run
log "up"
"$PGHA" up -i "$INV" --state-dir "$STATE" -q >"$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log" >&2; exit 1; }
PW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["superuser_password"])' "$STATE/$CLUSTER/secrets.json")
PGPASSWORD=$PW psql -X -q -h "$VIP" -p 5000 -U postgres -d postgres -c "CREATE TABLE bench_rolling (seq bigint PRIMARY KEY)"
start_probe "$WORK" "$VIP" 5000 "$PW" bench_rolling
sleep 3

for r in $(seq 1 "$ROUNDS"); do
  mark "sw$r.begin"
  "$PGHA" switchover -i "$INV" --state-dir "$STATE" -q >"$WORK/sw.log" 2>&1 || { cat "$WORK/sw.log" >&2; exit 1; }
  sleep 3
  mark "sw$r.end"
  mark "roll$r.begin"
  "$PGHA" restart -i "$INV" --state-dir "$STATE" -q >"$WORK/roll.log" 2>&1 || { cat "$WORK/roll.log" >&2; exit 1; }
  sleep 3
  mark "roll$r.end"
  log "round $r done"
done
sleep 1
kill -0 "$probe_pid" 2>/dev/null || { log "the write probe died"; exit 1; }
stop_probe
wait 2>/dev/null || true
PGPASSWORD=$PW psql -X -q -tA -h "$VIP" -p 5000 -U postgres -d postgres -c "SELECT seq FROM bench_rolling" >"$WORK/rows.txt"

python3 - "$WORK" "$ROUNDS" tests/e2e/lib <<'PY'
import os, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from probe import acks as read_acks, gap, at
acks = read_acks(work)
rows = {int(l) for l in open(os.path.join(work, "rows.txt")).read().split()}
lost = [seq for _, seq in acks if seq not in rows]
sw = [gap(acks, at(work, "sw%d.begin" % r), at(work, "sw%d.end" % r)) for r in range(1, rounds + 1)]
roll = [gap(acks, at(work, "roll%d.begin" % r), at(work, "roll%d.end" % r)) for r in range(1, rounds + 1)]
fmt = lambda xs: " ".join("%.2f" % x for x in xs)
print("| longest write gap through the VIP (%d rounds, alternating) | median s | each round s |" % rounds)
print("|---|---|---|")
print("| floor: `pgha switchover` | %.2f | %s |" % (statistics.median(sw), fmt(sw)))
print("| `pgha restart` (rolling, leader last) | %.2f | %s |" % (statistics.median(roll), fmt(roll)))
print("| **restart / switchover** | **%.2f** | |" % (statistics.median(roll) / statistics.median(sw)))
print()
print("writes acknowledged %d, lost %d" % (len(acks), len(lost)))
PY
