#!/usr/bin/env bash
# Benchmark of scaling out: the time `pgha up` takes to add one node (pg4) to a running 3-node cluster
# holding about 200 MB of data, against a floor measured in the same run. Not a test: run by hand.
#   PGHA=build/pgha bench/scale_add.sh [RUNS]     (default 3; needs the node image, which the first
#                                                 `pgha up` builds, and a running engine)
# Once: `pgha up` a 3-node cluster (a copy of inventories/docker-local.yml renamed pgha-bench-scale, on
# 10.57.0.0/24), then write DATA_MB (default 200) MB through HAProxy's write port on the VIP:
#   CREATE TABLE bench_scale AS SELECT g, repeat('x', 1000) FROM generate_series(1, ROWS) g
# (1000-byte rows stay inline, uncompressed: 7 rows a page), then CHECKPOINT.
# Each run, one after another, so that both sides see the same machine and the same data:
#   1. the floor (bench/scale_floor.sh): a bare container of the same node image on the cluster's
#      network (10.57.0.50, no systemd), `pg_basebackup -X stream -c fast -R` from the same primary
#      (Patroni's leader, whom Patroni's `basebackup` method clones for a new member), postgres started
#      on the copy as a standby, timed from the container's creation until the primary's
#      pg_stat_replication shows it streaming. Patroni is not started there (see scale_floor.sh: a
#      Patroni of the cluster's scope would be the join itself);
#   2. `pgha up -i inv4.yml -q` (pg4 added: container, SSH, files, etcd learner then promote, Patroni
#      cloning the leader with pg_basebackup, until pg4 streams);
#   3. `pgha up -i inv3.yml -q`: pg4 leaves again, its container and volumes removed (not timed).
# Prints a Markdown table (floor median, pgha add median, ratio add/floor; the issue's target is 1.3),
# each run's numbers, the floor's split (container, copy, start until streaming), the median of each
# phase of the add (`up -o json`'s `timings`) and the load average at each run.
# Passwords come from the state dir's secrets.json and travel only through environments (PGPASSWORD),
# never argv. Everything is removed on exit, also on failure: the floor container, then `pgha down`.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
PGHA=${PGHA:-build/pgha}
DATA_MB=${DATA_MB:-200}
CLUSTER=pgha-bench-scale
PREFIX=10.57.0
VIP=$PREFIX.100
FLOOR_IP=$PREFIX.50
NET=pgha-$CLUSTER
DATA_DIR=/var/lib/postgresql/15/$CLUSTER  # pgha's data_dir (core/render_context.cpp), postgres 15
WORK=$(mktemp -d /tmp/pgha-bench-scale.XXXXXX)
STATE_ROOT=$WORK/state
STATE=$STATE_ROOT/$CLUSTER
SOCK=${PGHA_DOCKER_SOCK:-/var/run/docker.sock}
. bench/lib.sh
log() { printf '%s scale_add: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
since() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

[ -x "$PGHA" ] || { log "$PGHA is missing: build it, or set PGHA"; exit 1; }

# inventory FILE NODE...: the default inventory, renamed and on its own subnet, with exactly these nodes
# (as tests/e2e/scale.sh builds them).
inventory() {
  local out=$1; shift
  sed -e "s/^  name: pgha-local$/  name: $CLUSTER/" -e "s/10\.42\.0\./$PREFIX./g" inventories/docker-local.yml |
    awk '/^nodes:/{print; skip=1; next} skip && /^  - name:|^    address:/{next} skip && !/^ /{skip=0} {print}' |
    python3 -c '
import sys
prefix, nodes = sys.argv[1], sys.argv[2:]
text = sys.stdin.read()
block = "".join("  - name: pg%s\n    address: %s.1%s\n" % (n, prefix, n) for n in nodes)
print(text.replace("nodes:\n", "nodes:\n" + block, 1), end="")' "$PREFIX" "$@" >"$out"
}
inventory "$WORK/inv3.yml" 1 2 3
inventory "$WORK/inv4.yml" 1 2 3 4
grep -q "name: $CLUSTER" "$WORK/inv4.yml" && grep -q "address: $PREFIX.14" "$WORK/inv4.yml" && ! grep -q '10\.42\.' "$WORK/inv4.yml" ||
  { log "inventories/docker-local.yml changed shape: cannot derive the bench inventories"; exit 1; }

cleanup() {
  remove_labelled pgha.bench=scale-floor  # first: it holds the cluster's network
  "$PGHA" down -i "$WORK/inv4.yml" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  [ -n "${PGHA_KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup_earlier() {  # an interrupted earlier run (its state dir is gone: down by labels)
  remove_labelled pgha.bench=scale-floor
  "$PGHA" down -i "$WORK/inv4.yml" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
}
cleanup_earlier

log "up: 3 nodes (load average $(load))"
t0=$(now)
"$PGHA" up -i "$WORK/inv3.yml" --state-dir "$STATE_ROOT" -q >"$WORK/up3.out" 2>&1 ||
  { tail -30 "$WORK/up3.out" >&2; log "up of the 3-node cluster failed"; exit 1; }
log "3 nodes up in $(since "$t0") s"

secret() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$STATE/secrets.json" "$1"; }
export PGHA_SUPER_PASSWORD PGHA_REPL_PASSWORD
PGHA_SUPER_PASSWORD=$(secret superuser_password)
PGHA_REPL_PASSWORD=$(secret replication_password)
sql() {  # sql HOST SQL...: as postgres, password from the environment
  local host=$1; shift
  local args=() s
  for s in "$@"; do args+=(-c "$s"); done
  PGPASSWORD=$PGHA_SUPER_PASSWORD PGCONNECT_TIMEOUT=10 psql -X -q -tA -v ON_ERROR_STOP=1 -h "$host" -p "${PORT:-5432}" \
    -U postgres -d postgres "${args[@]}"
}
leader() {
  curl -fsS "http://$PREFIX.11:8008/cluster" | python3 -c '
import json, sys
print(next(m["host"] for m in json.load(sys.stdin)["members"] if m["role"] in ("leader", "master", "primary")))'
}

rows=$((DATA_MB * 1024 * 1024 / 8192 * 7))
log "writing $DATA_MB MB ($rows rows) through the write endpoint $VIP:5000"
t0=$(now)
PORT=5000 sql "$VIP" "SET client_min_messages = warning" "DROP TABLE IF EXISTS bench_scale" \
  "CREATE TABLE bench_scale AS SELECT g AS id, repeat('x', 1000) AS pad FROM generate_series(1, $rows) g" "CHECKPOINT"
read -r table_mb cluster_mb < <(PORT=5000 sql "$VIP" "SELECT round(pg_total_relation_size('bench_scale') / 1048576.0),
  round((SELECT sum(pg_database_size(datname)) FROM pg_database) / 1048576.0)" | tr '|' ' ')
log "bench_scale is $table_mb MB, all databases $cluster_mb MB (written in $(since "$t0") s)"

"$PGHA" plan -i "$WORK/inv4.yml" --state-dir "$STATE_ROOT" >"$WORK/plan.txt" 2>&1 || true
log "what up would do with pg4 in the inventory (pgha plan; pg4's own lines):"
grep -E '^[0-9]+ changes|^  pg4 ' "$WORK/plan.txt" | sed 's/^ */    /' >&2 || true


floors=(); f_cont=(); f_copy=(); f_stream=(); adds=(); loads=(); leaders=()
: >"$WORK/phases"
for r in $(seq 1 "$RUNS"); do
  loads+=("$(load)")
  primary=$(leader); leaders+=("$primary")
  log "run $r: load average ${loads[-1]}; primary $primary; floor"
  tot= cont= copy= stream=
  read -r tot cont copy stream < <(bench/scale_floor.sh "$NET" "$primary" "$FLOOR_IP" "$DATA_DIR")
  [ -n "${stream:-}" ] || { log "run $r: the floor failed"; exit 1; }
  floors+=("$tot"); f_cont+=("$cont"); f_copy+=("$copy"); f_stream+=("$stream")
  log "run $r: floor $tot s (container $cont, pg_basebackup $copy, start until streaming $stream); pgha up adds pg4"

  t0=$(now)
  "$PGHA" up -i "$WORK/inv4.yml" --state-dir "$STATE_ROOT" -q -o json >"$WORK/add$r.json" 2>"$WORK/add$r.log" ||
    { tail -30 "$WORK/add$r.log" >&2; log "run $r: pgha up (add pg4) failed"; exit 1; }
  adds+=("$(since "$t0")")
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])).get("timings", {})))' "$WORK/add$r.json" \
    >>"$WORK/phases" 2>/dev/null || true
  state=$(curl -fsS "http://$PREFIX.11:8008/cluster" | python3 -c '
import json, sys
print(next((m["state"] for m in json.load(sys.stdin)["members"] if m["name"] == "pg4"), "absent"))')
  [ "$state" = streaming ] || [ "$state" = running ] || { log "run $r: pg4 is $state after up"; exit 1; }
  log "run $r: pgha add ${adds[-1]} s (pg4 $state); scaling back to 3 (not timed)"

  t0=$(now)
  "$PGHA" up -i "$WORK/inv3.yml" --state-dir "$STATE_ROOT" -q >"$WORK/rm$r.out" 2>&1 ||
    { tail -30 "$WORK/rm$r.out" >&2; log "run $r: pgha up (remove pg4) failed"; exit 1; }
  log "run $r: pg4 removed in $(since "$t0") s"
done
loads+=("$(load)")

f=$(median "${floors[@]}"); a=$(median "${adds[@]}")
echo "Adding pg4 to a running 3-node cluster ($CLUSTER, $PREFIX.0/24) holding $table_mb MB (bench_scale; all databases $cluster_mb MB); $RUNS runs, floor then add in each."
echo "Load average (1/5/15 min) at the start of each run: $(printf '%s; ' "${loads[@]:0:RUNS}")at the end: ${loads[-1]}. Primary: ${leaders[*]}."
echo
echo "| measurement ($RUNS runs) | median s | each run s |"
echo "|---|---|---|"
echo "| floor: bare container + \`pg_basebackup -X stream -c fast\` + standby start, until streaming | $f | ${floors[*]} |"
echo "| &nbsp; of which: container created and started | $(median "${f_cont[@]}") | ${f_cont[*]} |"
echo "| &nbsp; of which: \`pg_basebackup\` ($cluster_mb MB) | $(median "${f_copy[@]}") | ${f_copy[*]} |"
echo "| &nbsp; of which: standby start until \`streaming\` | $(median "${f_stream[@]}") | ${f_stream[*]} |"
echo "| \`pgha up\` adding pg4, until it streams | $a | ${adds[*]} |"
echo "| **add / floor** | **$(python3 -c "print(f'{$a / $f:.2f}')")** | target 1.3 |"
echo
python3 - "$WORK/phases" <<'PY'
import json, statistics, sys
runs = [r for r in (json.loads(l) for l in open(sys.argv[1]) if l.strip()) if r]
if not runs:
    sys.exit(0)
print("| phase of the add | median s | share | each run s |")
print("|---|---|---|---|")
phases = list(runs[0].keys())
med = {p: statistics.median(r.get(p, 0) for r in runs) for p in phases}
total = sum(med.values()) or 1
for p in phases:
    print(f"| {p} | {med[p]:.1f} | {100 * med[p] / total:.0f} % | {' '.join(f'{r.get(p, 0):.2f}' for r in runs)} |")
PY
