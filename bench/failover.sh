#!/usr/bin/env bash
# Failover benchmark on local Docker (not run in CI): for each timing profile, a fresh 3-node sync
# cluster and N `check failover --fault kill-node --direct` runs; on the default profile (the one
# inventories/docker-local.yml names, kDefaultProfile in core/profiles.hpp) also N stop-postgres runs
# and N switchovers, N kill-node and partition runs with and without --guard (pgha guard), and the TLS
# column: N kill-node and N partition runs on a second cluster of the same profile with
# `tls.enabled: true` (issue 14: its median RTO within 2 s or 10 % of the plaintext median of this
# run). Prints a Markdown table of medians (min-max): the RTO through
# HAProxy with its detection/promotion/routing split, through the VIP, and the direct-connection floor
# (the same failover seen by a probe connecting straight to the new leader's postgres, no HAProxy).
# Usage: bench/failover.sh [--runs N] [--profiles "fast default safe"] [--tls-only] [--out FILE.md]
#   --tls-only: only the default profile's kill-node and partition runs, plaintext and TLS.
# Env: PGHA (binary; default build/pgha), PGHA_TEMPLATES (optional --templates override).
set -euo pipefail
cd "$(dirname "$0")/.."
PGHA=${PGHA:-build/pgha}
RUNS=5 PROFILES="fast default safe" OUT= TLS_ONLY=0
DEFAULT_PROFILE=$(awk '/^  profile:/{print $2; exit}' inventories/docker-local.yml)
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --profiles) PROFILES=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --tls-only) TLS_ONLY=1; PROFILES=$DEFAULT_PROFILE; shift ;;
    *) echo "usage: $0 [--runs N] [--profiles LIST] [--tls-only] [--out FILE]" >&2; exit 2 ;;
  esac
done
WORK=$(mktemp -d /tmp/pgha-bench.XXXXXX)
STATE=$WORK/state
log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
tmpl=(${PGHA_TEMPLATES:+--templates "$PGHA_TEMPLATES"})
current_inv=
cleanup() { [ -n "$current_inv" ] && "$PGHA" down -i "$current_inv" --state-dir "$STATE" -q >/dev/null 2>&1; true; }
trap cleanup EXIT

# check NAME INV ARGS...: one pgha check/switchover invocation, JSON kept as $WORK/NAME.json.
check() {
  local name=$1 inv=$2; shift 2
  log "$name: pgha $*"
  "$PGHA" "$@" -i "$inv" --state-dir "$STATE" --direct -o json >"$WORK/$name.json" 2>"$WORK/$name.log" ||
    log "$name: exit $? (see the table's notes)"
}

# cluster_up INV LOGNAME: a fresh cluster from INV.
cluster_up() {
  "$PGHA" down -i "$1" --state-dir "$STATE" -q >/dev/null 2>&1 || true
  log "$2: up"
  current_inv=$1
  "$PGHA" up -i "$1" --state-dir "$STATE" "${tmpl[@]}" -q >"$WORK/up-$2.log" 2>&1 ||
    { tail -20 "$WORK/up-$2.log" >&2; exit 1; }
}
cluster_down() {
  "$PGHA" down -i "$1" --state-dir "$STATE" -q >/dev/null 2>&1 || true
  current_inv=
}

for profile in $PROFILES; do
  inv=$WORK/docker-$profile.yml
  # Its own cluster name and subnet: never collides with a cluster built from the default inventory.
  sed -e "s/^  profile: .*/  profile: $profile/" -e "s/^  name: pgha-local$/  name: pgha-bench/" -e "s/10\\.42\\.0\\./10.48.0./g" \
    inventories/docker-local.yml >"$inv"
  cluster_up "$inv" "$profile"
  if [ "$TLS_ONLY" = 1 ]; then
    check "kill-node-$profile" "$inv" check failover --fault kill-node --runs "$RUNS"
    check "partition-$profile" "$inv" check failover --fault partition --runs "$RUNS"
  else
    check "kill-node-$profile" "$inv" check failover --fault kill-node --runs "$RUNS"
    if [ "$profile" = "$DEFAULT_PROFILE" ]; then
      check "stop-postgres-$profile" "$inv" check failover --fault stop-postgres --runs "$RUNS"
      check "switchover-$profile" "$inv" switchover --runs "$RUNS"
      # The guard column (issue 17): kill-node and partition with and without `pgha guard` beside them.
      check "kill-node-guard-$profile" "$inv" check failover --fault kill-node --guard --runs "$RUNS"
      check "partition-$profile" "$inv" check failover --fault partition --runs "$RUNS"
      check "partition-guard-$profile" "$inv" check failover --fault partition --guard --runs "$RUNS"
    fi
  fi
  cluster_down "$inv"
  if [ "$profile" = "$DEFAULT_PROFILE" ]; then
    # The TLS column (issue 14): the same profile with TLS on every hop, in the same run.
    tinv=$WORK/docker-$profile-tls.yml
    sed -e "s/^  name: pgha-bench$/  name: pgha-bench-tls/" -e "s/10\\.48\\.0\\./10.45.0./g" "$inv" >"$tinv"
    printf '\ntls:\n  enabled: true\n' >>"$tinv"
    cluster_up "$tinv" "$profile-tls"
    check "kill-node-tls-$profile" "$tinv" check failover --fault kill-node --runs "$RUNS"
    check "partition-tls-$profile" "$tinv" check failover --fault partition --runs "$RUNS"
    cluster_down "$tinv"
  fi
done

python3 - "$WORK" "$DEFAULT_PROFILE" "$TLS_ONLY" $PROFILES >"$WORK/table.md" <<'PY'
import glob, json, os, statistics, sys
work, default, tls_only, profiles = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
sys.path.insert(0, ".")
def load(name):
    p = os.path.join(work, name + ".json")
    try:
        return json.load(open(p))
    except Exception:
        return None
def cell(j, key, path=None):
    """median (min-max) over the runs of a per-run value"""
    if not j: return "n/a"
    vals = []
    for r in j["runs"]:
        if path:
            p = next((x for x in r["paths"] if x["via"] == path), None)
            v = p and p[key]
        else:
            v = r[key]
        if v is not None: vals.append(v)
    if not vals: return "n/a"
    return "%.1f (%.1f-%.1f)" % (statistics.median(vals), min(vals), max(vals))
def rejoin(j):
    """a primary that recovered in place (stop-postgres) has nothing to rejoin"""
    if j and j["runs"] and all(r["old_primary"] == r["new_primary"] for r in j["runs"]): return "in place"
    return cell(j, "rejoin_s")
def verdict(j):
    if not j: return "no report"
    bad = sum(1 for r in j["runs"] if not r["pass"])
    lost = j["lost_writes"]
    split = sum(1 for r in j["runs"] if r["split_brain"])
    return "%d runs, %d failed, %d lost writes, %d split brains" % (len(j["runs"]), bad, lost, split)
timing = {"fast": "20/2/3", "default": "30/5/5", "safe": "30/10/10"}
print("| scenario | profile (ttl/loop_wait/retry_timeout) | RTO via HAProxy | detection | guard fence / release | promotion | routing | via VIP | direct floor | rejoin | runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
rows = [("kill-node", p) for p in profiles]
if default in profiles:
    if tls_only:
        rows = [("kill-node", default), ("partition", default)]
    else:
        rows += [("stop-postgres", default), ("switchover", default), ("kill-node-guard", default),
                 ("partition", default), ("partition-guard", default)]
    rows += [("kill-node-tls", default), ("partition-tls", default)]
for scen, prof in rows:
    j = load("%s-%s" % (scen, prof))
    gap = scen == "switchover"
    guarded = scen.endswith("-guard")
    print("| %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        scen + (" (write gap)" if gap else ""), prof, timing.get(prof, "?"),
        cell(j, "write_gap_s", "haproxy") if gap else cell(j, "rto_s"),
        cell(j, "detection_s"),
        ("%s / %s" % (cell(j, "fence_s"), cell(j, "release_s"))) if guarded else "-",
        cell(j, "promotion_s"), cell(j, "routing_s"),
        cell(j, "write_gap_s" if gap else "rto_s", "vip"), cell(j, "write_gap_s" if gap else "rto_s", "direct"),
        rejoin(j), verdict(j)))
def median_rto(j):
    vals = [r["rto_s"] for r in (j or {}).get("runs", []) if r.get("rto_s") is not None]
    return statistics.median(vals) if vals else None
if default in profiles:
    print()
    print("| TLS against plaintext (%s profile) | plaintext median RTO | TLS median RTO | difference | bound: 2 s or 10 %% | within |" % default)
    print("|---|---|---|---|---|---|")
    for scen in ("kill-node", "partition"):
        plain, tls = median_rto(load("%s-%s" % (scen, default))), median_rto(load("%s-tls-%s" % (scen, default)))
        if plain is None or tls is None:
            print("| %s | n/a | n/a | n/a | n/a | no |" % scen)
            continue
        bound = max(2.0, 0.1 * plain)
        print("| %s | %.1f | %.1f | %+.1f | %.1f | %s |" % (scen, plain, tls, tls - plain, bound,
                                                           "yes" if abs(tls - plain) <= bound else "NO"))
print()
print("Seconds, median (min-max). RTO: fault -> first acknowledged write of a write sent after the fault;")
print("switchover: the longest time between two acknowledged writes. Direct floor: the same runs, probed")
print("straight at the leader's postgres without HAProxy. -guard: `check failover --guard`, a guard fencing")
print("the dead primary through the provider and releasing its leader key; detection then ends at its suspicion.")
print("-tls: a second cluster of the same profile with tls.enabled: true (etcd, Patroni REST, PostgreSQL and")
print("HAProxy's checks over TLS), the probes connecting with sslmode=verify-full.")
PY
cat "$WORK/table.md"
[ -n "$OUT" ] && cp "$WORK/table.md" "$OUT"
log "raw reports kept in $WORK"
trap - EXIT
