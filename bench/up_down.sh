#!/usr/bin/env bash
# Benchmark of the main job against its floor, alternating in the same run (issue 10, item 6). Not a
# test: run by hand.
#   bench/up_down.sh [ROUNDS]     (default 3; needs a built pgha ($PGHA or build/pgha), a running
#                                 engine and the node image, which the first `pgha up` builds)
# Each round, one after another:
#   1. the floor: bench/floor.sh, etcd + Patroni started by hand in 3 containers of the same node
#      image (no SSH, no systemd, no other roles) until one leader and 2 replicas stream;
#   2. `pgha up` from nothing (after `down`) until healthy;
#   3. the no-op `pgha up` on the unchanged cluster;
#   4. `pgha down`.
# Prints the medians, the ratio `up / floor` (of the medians) and each phase's share of `up`.
# The inventory is a copy of inventories/docker-local.yml with its own cluster name (pgha-updown) and
# subnet (10.54.0.0/24); the floor uses 10.53.0.0/24. Both are removed on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
PGHA=${PGHA:-build/pgha}
WORK=$(mktemp -d /tmp/pgha-updown.XXXXXX)
INV=$WORK/inventory.yml
STATE=$WORK/state
log() { printf '%s up_down: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(map(float, sys.argv[1:])):.1f}")' "$@"; }

[ -x "$PGHA" ] || { log "$PGHA is missing: build it, or set PGHA"; exit 1; }
sed -e 's/^\(  name:\) pgha-local$/\1 pgha-updown/' -e 's/10\.42\.0\./10.54.0./g' inventories/docker-local.yml >"$INV"
grep -q 'name: pgha-updown' "$INV" && ! grep -q '10\.42\.' "$INV" ||
  { log "inventories/docker-local.yml changed shape: cannot derive the bench inventory"; exit 1; }
trap '"$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

"$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null 2>&1 || true  # an interrupted earlier run
floors=(); ups=(); noops=(); downs=()
: >"$WORK/phases"
for r in $(seq 1 "$ROUNDS"); do
  floors+=("$(bench/floor.sh)")
  t0=$(now)
  "$PGHA" up -i "$INV" --state-dir "$STATE" -q -o json >"$WORK/up.json" ||
    { log "round $r: pgha up failed"; cat "$WORK/up.json" >&2; exit 1; }
  ups+=("$(since "$t0")")
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])).get("timings", {})))' "$WORK/up.json" \
    >>"$WORK/phases" 2>/dev/null || true
  t0=$(now); "$PGHA" up -i "$INV" --state-dir "$STATE" -q -o json >/dev/null; noops+=("$(since "$t0")")
  t0=$(now); "$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null; downs+=("$(since "$t0")")
  log "round $r: floor ${floors[-1]} s, up ${ups[-1]} s, no-op up ${noops[-1]} s, down ${downs[-1]} s"
done

f=$(median "${floors[@]}"); u=$(median "${ups[@]}")
echo "| measurement ($ROUNDS rounds, alternating) | median s | each round s |"
echo "|---|---|---|"
echo "| floor: etcd + Patroni by hand in 3 containers, until a leader and 2 streaming replicas | $f | ${floors[*]} |"
echo "| \`pgha up\` from nothing to healthy (image cached) | $u | ${ups[*]} |"
echo "| no-op \`pgha up\` | $(median "${noops[@]}") | ${noops[*]} |"
echo "| \`pgha down\` | $(median "${downs[@]}") | ${downs[*]} |"
echo "| **up / floor** | **$(python3 -c "print(f'{$u / $f:.2f}')")** | |"
echo
python3 - "$WORK/phases" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
runs = [r for r in runs if r]
if not runs:
    sys.exit(0)
print("| phase of `up` | median seconds | share |")
print("|---|---|---|")
phases = list(runs[0].keys())
med = {p: statistics.median(r.get(p, 0) for r in runs) for p in phases}
total = sum(med.values()) or 1
for p in phases:
    print(f"| {p} | {med[p]:.1f} | {100 * med[p] / total:.0f} % |")
PY
