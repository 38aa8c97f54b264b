#!/usr/bin/env bash
# Benchmark of the main job on the local Docker engine (node image cached). Not a test: run by hand.
#   bench/up_down.sh [RUNS]     (default 3; needs a built ./build/pgha and a running engine)
# Reports medians over RUNS of: `up` from nothing to healthy, the no-op second `up`, `down`, each
# phase's share of `up`; and, measured in the same run, a floor: three bare containers from the same
# node image created and started through the Engine API until their sshd answers.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
PGHA=${PGHA:-./build/pgha}
INV=inventories/docker-local.yml
SOCK=/var/run/docker.sock
WORK=$(mktemp -d /tmp/pgha-bench.XXXXXX)
STATE=$WORK/state
trap '"$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
now() { date +%s.%N; }
api() { curl -fsS --unix-socket "$SOCK" -H 'Content-Type: application/json' "$@"; }

IMAGE=$(grep -E '^\s+image:' "$INV" | awk '{print $2}' | head -1)
IMAGE=${IMAGE:-pgha-node:bookworm}

floor_once() {
  local net=pgha-bench-floor
  api -X POST http://localhost/v1.41/networks/create \
    -d "{\"Name\":\"$net\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.79.0.0/24\"}]},\"Labels\":{\"pgha.bench\":\"1\"}}" >/dev/null
  local t0; t0=$(now)
  for i in 1 2 3; do
    api -X POST "http://localhost/v1.41/containers/create?name=pgha-bench-floor-$i" -d "{\"Image\":\"$IMAGE\",\"Labels\":{\"pgha.bench\":\"1\"},
      \"HostConfig\":{\"NetworkMode\":\"$net\",\"CapAdd\":[\"SYS_ADMIN\",\"NET_ADMIN\"],\"Tmpfs\":{\"/run\":\"rw\",\"/run/lock\":\"rw\"},
      \"Binds\":[\"/sys/fs/cgroup:/sys/fs/cgroup:ro\"]},
      \"NetworkingConfig\":{\"EndpointsConfig\":{\"$net\":{\"IPAMConfig\":{\"IPv4Address\":\"10.79.0.1$i\"}}}}}" >/dev/null
    api -X POST "http://localhost/v1.41/containers/pgha-bench-floor-$i/start" >/dev/null
  done
  for i in 1 2 3; do
    until timeout 1 bash -c "exec 3<>/dev/tcp/10.79.0.1$i/22 && head -c 4 <&3" 2>/dev/null | grep -q SSH; do sleep 0.1; done
  done
  local t1; t1=$(now)
  for i in 1 2 3; do api -X DELETE "http://localhost/v1.41/containers/pgha-bench-floor-$i?force=1&v=1" >/dev/null; done
  api -X DELETE "http://localhost/v1.41/networks/$net" >/dev/null
  python3 -c "print($t1-$t0)"
}

median() { python3 -c 'import statistics,sys; print(round(statistics.median(map(float, sys.argv[1:])), 1))' "$@"; }

"$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null 2>&1 || true
ups=(); noops=(); downs=(); floors=()
: >"$WORK/phases"
for r in $(seq 1 "$RUNS"); do
  floors+=("$(floor_once)")
  t0=$(now); "$PGHA" up -i "$INV" --state-dir "$STATE" -q -o json >"$WORK/up.json"; t1=$(now)
  ups+=("$(python3 -c "print($t1-$t0)")")
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["timings"]))' "$WORK/up.json" >>"$WORK/phases"
  t0=$(now); "$PGHA" up -i "$INV" --state-dir "$STATE" -q -o json >/dev/null; t1=$(now)
  noops+=("$(python3 -c "print($t1-$t0)")")
  t0=$(now); "$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null; t1=$(now)
  downs+=("$(python3 -c "print($t1-$t0)")")
  echo "run $r: up ${ups[-1]} s, no-op up ${noops[-1]} s, down ${downs[-1]} s, floor ${floors[-1]} s" >&2
done

echo "| measurement ($RUNS runs, median) | seconds |"
echo "|---|---|"
echo "| floor: 3 bare node containers started until sshd answers | $(median "${floors[@]}") |"
echo "| \`pgha up\` from nothing to healthy (image cached) | $(median "${ups[@]}") |"
echo "| no-op second \`pgha up\` | $(median "${noops[@]}") |"
echo "| \`pgha down\` | $(median "${downs[@]}") |"
echo
echo "| phase of \`up\` | median seconds | share |"
echo "|---|---|---|"
python3 - "$WORK/phases" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
phases = list(runs[0].keys())
med = {p: statistics.median(r.get(p, 0) for r in runs) for p in phases}
total = sum(med.values())
for p in phases:
    print(f"| {p} | {med[p]:.1f} | {100*med[p]/total:.0f} % |")
PY
