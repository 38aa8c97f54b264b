#!/usr/bin/env bash
# pgha guard (issue 17), end to end on Docker: a 3-node cluster, `fast` profile, sync mode.
#
# Fault runs, each `check failover --guard` (a guard in-process beside the cycle):
#   kill-node, partition, freeze: the guard fences the old primary (guard_fenced), 0 acknowledged
#     writes lost, never two primaries, the old primary rejoined, the RTO split adds up;
#   stop-postgres: no fence (Patroni restarts PostgreSQL in place), 0 lost.
# Each also writes its --report-svg timeline, which must parse as XML and carry the phases' markers.
# False-positive drills, each with a standalone `pgha guard` in a network namespace of its own on the
# cluster's bridge, each ending with no fence, no key deletion and no leader change:
#   1. the guard's own link is cut;
#   2. one replica cannot reach the leader's Patroni and PostgreSQL ports, while the guard can;
#   3. etcd has lost quorum (stopped on both replicas) while the leader's Patroni and PostgreSQL
#      ports are cut from the guard.
# Durations are not asserted here: bench/failover.sh has the guard column.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"

WORK=$(mktemp -d /tmp/pgha-e2e-guard.XXXXXX)
STATE_ROOT=$WORK/state
INV=$WORK/docker-guard.yml
sed -e 's/^  name: pgha-local$/  name: pgha-guard/' -e 's/10\.42\.0\./10.62.0./g' inventories/docker-local.yml >"$INV"
CLUSTER=pgha-guard
STATE=$STATE_ROOT/$CLUSTER
NODES=(10.62.0.11 10.62.0.12 10.62.0.13)
NS=pgha-e2e-guard
VETH=pghag0
GUARD_ADDR=10.62.0.250
guard_pid=

cleanup() {
  [ -n "$guard_pid" ] && kill "$guard_pid" 2>/dev/null
  ip netns del "$NS" 2>/dev/null || true
  ip link del "$VETH" 2>/dev/null || true
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  [ -n "${PGHA_KEEP_WORK:-}" ] || rm -rf "$WORK"
  true
}
trap cleanup EXIT

log "removing leftovers of an earlier run"
ip netns del "$NS" 2>/dev/null || true
ip link del "$VETH" 2>/dev/null || true
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true

log "up"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" -q >"$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log" >&2; fail "up failed"; }

# leader: the member Patroni's /cluster names leader, asked of every node until one answers.
leader() {
  local a
  for a in "${NODES[@]}"; do
    curl -sf -m 2 "http://$a:8008/cluster" 2>/dev/null |
      python3 -c 'import json,sys; print(next(m["name"] for m in json.load(sys.stdin)["members"] if m["role"] == "leader"))' 2>/dev/null &&
      return 0
  done
  return 1
}
addr_of() { case $1 in pg1) echo 10.62.0.11 ;; pg2) echo 10.62.0.12 ;; pg3) echo 10.62.0.13 ;; esac; }
# wait_healthy: every member running or streaming with one leader (after a drill's fault is lifted).
wait_healthy() {
  local i
  for i in $(seq 1 90); do
    "$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status.json" 2>/dev/null && return 0
    sleep 1
  done
  cat "$WORK/status.json" >&2
  fail "the cluster did not become healthy again"
}

check() {
  local fault=$1 expect_fence=$2 rc=0
  log "check failover --guard --fault $fault"
  "$PGHA" check failover -i "$INV" --state-dir "$STATE_ROOT" --guard --fault "$fault" -o json \
    --report-svg "$WORK/$fault.svg" >"$WORK/$fault.json" 2>"$WORK/$fault.log" || rc=$?
  grep 'guard:' "$WORK/$fault.log" >&2 || true
  [ $rc = 0 ] || { cat "$WORK/$fault.log" >&2; python3 -m json.tool "$WORK/$fault.json" >&2 || true; fail "check failover --guard --fault $fault exited $rc"; }
  python3 - "$WORK/$fault.json" "$fault" "$expect_fence" "$WORK/$fault.svg" <<'PY' || fail "check failover --guard --fault $fault: see above"
import json, sys, xml.etree.ElementTree as ET
j, fault, expect_fence = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3] == "fence"
svg = ET.parse(sys.argv[4]).getroot()  # the timeline (--report-svg): well-formed, and it names the phases
assert svg.tag.endswith("svg"), svg.tag
text = " ".join(t for t in svg.itertext())
for marker in (["fault", "fence", "release"] if expect_fence else ["fault"]):
    assert marker in text, "the timeline lacks the %s marker" % marker
assert j["pass"] is True, "pgha says the check failed"
assert j["lost_writes"] == 0, "lost acknowledged writes: %s" % j["lost_writes"]
r = j["runs"][0]
assert r["split_brain"] is False and r["max_primaries"] == 1, "two primaries at once: %s" % r["split_brain_nodes"]
assert r["guard_fenced"] is expect_fence, "guard_fenced is %s, expected %s" % (r["guard_fenced"], expect_fence)
if expect_fence:
    assert r["old_primary"] != r["new_primary"], "no failover happened"
    assert r["rejoined"] is True, "the old primary did not rejoin"
    for k in ("detection_s", "fence_s", "release_s", "promotion_s", "routing_s"):
        assert r[k] is not None and r[k] >= 0, (k, r[k])
    assert abs(r["detection_s"] + r["fence_s"] + r["release_s"] + r["promotion_s"] + r["routing_s"] - r["rto_s"]) < 0.01, "phases do not add up"
vip = next(p for p in r["paths"] if p["via"] == "vip")
print("%s with the guard: fenced %s, RTO through the VIP %s s (HAProxy path %s s)" % (fault, r["guard_fenced"], vip["rto_s"], r["rto_s"]), file=sys.stderr)
PY
}

check kill-node fence
check partition fence
check freeze fence
check stop-postgres none
wait_healthy

# --- The false-positive drills -------------------------------------------------------------------
# The guard runs in a network namespace whose only link is a veth on the cluster's bridge (found by
# the gateway address). Its Docker socket is a file, so fencing stays possible: a wrong decision
# would show.
BRIDGE=$(ip -o -4 addr show to 10.62.0.1/32 | awk '{print $2; exit}')
[ -n "$BRIDGE" ] || fail "no bridge holds 10.62.0.1"
ip netns add "$NS"
ip link add "$VETH" type veth peer name pghag1
ip link set pghag1 netns "$NS"
ip link set "$VETH" master "$BRIDGE"
ip link set "$VETH" up
ip netns exec "$NS" ip addr add "$GUARD_ADDR/24" dev pghag1
ip netns exec "$NS" ip link set pghag1 up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" curl -sf -m 3 "http://${NODES[0]}:8008/health" >/dev/null || fail "the guard's namespace cannot reach the cluster"

start_guard() {
  ip netns exec "$NS" "$PGHA" guard -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/guard-$1.log" 2>&1 &
  guard_pid=$!
  local i
  for i in $(seq 1 30); do
    grep -q '"event":"observed".*"node"' "$WORK/guard-$1.log" 2>/dev/null && return 0
    sleep 0.5
  done
  cat "$WORK/guard-$1.log" >&2
  fail "drill $1: the guard never observed a leader"
}
stop_guard() { kill "$guard_pid" 2>/dev/null; wait "$guard_pid" 2>/dev/null || true; guard_pid=; }
# after_drill NAME LEADER_BEFORE [REASON]: no fence, no release, same leader, all three containers up;
# with REASON, the guard declined for it.
after_drill() {
  local name=$1 before=$2 reason=${3:-} after
  stop_guard
  cat "$WORK/guard-$name.log" >&2
  ! grep -Eq '"event":"(fenced|confirmed|released|would_fence|restarted)"' "$WORK/guard-$name.log" ||
    fail "drill $name: the guard fenced or released"
  if [ -n "$reason" ]; then
    grep '"event":"declined"' "$WORK/guard-$name.log" | grep -q "$reason" || fail "drill $name: the guard did not decline for '$reason'"
  fi
  wait_healthy
  after=$(leader) || fail "drill $name: no leader afterwards"
  [ "$after" = "$before" ] || fail "drill $name: the leader changed from $before to $after"
  [ "$(count_running)" = 3 ] || fail "drill $name: not every container is running"
  log "drill $name: no fence, no release, $after still leads"
}
count_running() {
  docker_api GET "/containers/json" | python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if any(n.startswith("/pgha-pgha-guard-") for n in c["Names"])))'
}

log "drill 1: the guard's own link is cut"
L=$(leader) || fail "no leader"
start_guard link
ip link set "$VETH" down
sleep 12
ip link set "$VETH" up
sleep 3
after_drill link "$L"

log "drill 2: one replica cannot reach the leader, the guard can"
L=$(leader) || fail "no leader"
LA=$(addr_of "$L")
R=""
for n in pg1 pg2 pg3; do [ "$n" != "$L" ] && { R=$n; break; }; done
RA=$(addr_of "$R")
start_guard replica
# iptables in the replica's network namespace (entered from the host: the node image has no
# netfilter tools): it sends nothing to the leader's Patroni and PostgreSQL ports.
RPID=$(docker_api GET "/containers/pgha-$CLUSTER-$R/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["State"]["Pid"])')
nsenter -t "$RPID" -n iptables -A OUTPUT -d "$LA" -p tcp -m multiport --dports 8008,5432 -j REJECT ||
  fail "cannot filter $R's traffic"
node_ssh "$STATE" "$RA" "! curl -sf -m 2 http://$LA:8008/health" || fail "the filter on $R does not hold"
sleep 10
nsenter -t "$RPID" -n iptables -F OUTPUT
after_drill replica "$L"

log "drill 3: etcd has lost quorum while the leader looks dead to the guard"
L=$(leader) || fail "no leader"
LA=$(addr_of "$L")
start_guard quorum
# The guard loses the leader's Patroni and PostgreSQL ports only: the leader's etcd member stays in
# reach, so its own copy still names the leader and the guard gets as far as its quorum rule.
ip netns exec "$NS" iptables -A OUTPUT -d "$LA" -p tcp -m multiport --dports 8008,5432 -j REJECT
for n in pg1 pg2 pg3; do [ "$n" != "$L" ] && node_ssh "$STATE" "$(addr_of "$n")" "systemctl stop etcd"; done
sleep 9
for n in pg1 pg2 pg3; do [ "$n" != "$L" ] && node_ssh "$STATE" "$(addr_of "$n")" "systemctl start etcd"; done
ip netns exec "$NS" iptables -F OUTPUT
sleep 3
after_drill quorum "$L" "no quorum"

log "down"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q
log "PASS"
