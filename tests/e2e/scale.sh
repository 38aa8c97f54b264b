#!/usr/bin/env bash
# Scaling by editing the inventory, end to end on Docker, under a continuous write stream through
# the VIP's write port (this test's own probe: one psql session inserting a sequence number every
# 100 ms, each acknowledgement timestamped as it arrives):
#   up 3 nodes -> plain switchovers until pg1 leads (their longest write gap is the baseline) -> add pg4 and pg5 and up, with
#   the first up SIGKILLed during its etcd step and run again -> remove pg1 (the leader) and pg2 and
#   up -> a no-op up -> pg2 added back (a new machine: its old host key must be forgotten).
# Before each up, `pgha plan -o json` is compared with what up reports having done. After each step:
# etcd's members = the inventory's etcd nodes, no learners; Patroni's members = the inventory's, all
# streaming on one timeline; every haproxy.cfg lists exactly the inventory's nodes; no stale member
# key; removed containers and volumes gone. Over the run: 0 acknowledged writes lost, the scale-out
# changes no leader and leaves no write gap over 1 s, the scale-in changes the leader exactly once
# with a write gap no longer than the plain switchover's (+0.5 s for the probe's own jitter).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/probe.sh"
cd "$PGHA_SOURCE_DIR"
bash scripts/ensure-docker.sh >/dev/null

WORK=$(mktemp -d /tmp/pgha-e2e-scale.XXXXXX)
STATE_ROOT=$WORK/state
e2e_os 10.56.0 10.69.0 pgha-scale  # NET, CLUSTER; PGHA_E2E_OS=debian13: tests/e2e/scale_trixie.sh
STATE=$STATE_ROOT/$CLUSTER
VIP=$NET.100
cleanup() {
  stop_probe
  "$PGHA" down -i "$WORK/inv5.yml" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  [ -n "${PGHA_KEEP_WORK:-}" ] || rm -rf "$WORK"
  true
}
trap cleanup EXIT

# inventory FILE NODE...: the default inventory on its own subnet, with exactly these nodes.
inventory() {
  local out=$1; shift
  derive_inventory |
    awk '/^nodes:/{print; skip=1; next} skip && /^  - name:|^    address:/{next} skip && !/^ /{skip=0} {print}' |
    python3 -c '
import sys
text = sys.stdin.read()
nodes = "".join("  - name: pg%s\n    address: %s.1%s\n" % (n, sys.argv[1], n) for n in sys.argv[2:])
print(text.replace("nodes:\n", "nodes:\n" + nodes, 1), end="")' "$NET" "$@" >"$out"
}
inventory "$WORK/inv3.yml" 1 2 3
inventory "$WORK/inv5.yml" 1 2 3 4 5
inventory "$WORK/inv345.yml" 3 4 5
inventory "$WORK/inv2345.yml" 2 3 4 5

"$PGHA" down -i "$WORK/inv5.yml" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true

# up_step NAME INV [ARGS]: plan -o json, then up -o json; the two must list the same changes.
up_step() {
  local name=$1 inv=$2; shift 2
  "$PGHA" plan -i "$inv" --state-dir "$STATE_ROOT" -o json >"$WORK/$name.plan.json" 2>"$WORK/$name.plan.log" ||
    { cat "$WORK/$name.plan.log" >&2; fail "$name: plan failed"; }
  log "$name: up ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["changes"]))' "$WORK/$name.plan.json") planned changes)"
  "$PGHA" up -i "$inv" --state-dir "$STATE_ROOT" -o json "$@" >"$WORK/$name.up.json" 2>"$WORK/$name.up.log" ||
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

# verify NAME NODE...: the cluster has exactly these nodes, in etcd, Patroni, HAProxy and Docker.
verify() {
  local name=$1; shift
  local want="$*" first=$1 n
  node_ssh "$STATE" "$NET.1$first" "ETCDCTL_API=3 etcdctl --endpoints=http://$NET.1$first:2379 member list -w json" \
    >"$WORK/$name.etcd.json"
  node_ssh "$STATE" "$NET.1$first" "ETCDCTL_API=3 etcdctl --endpoints=http://$NET.1$first:2379 get --prefix /service/$CLUSTER/members/ --keys-only" \
    >"$WORK/$name.keys.txt"
  node_ssh "$STATE" "$NET.1$first" "curl -s -f http://$NET.1$first:8008/cluster" >"$WORK/$name.cluster.json"
  for n in "$@"; do
    node_ssh "$STATE" "$NET.1$n" "grep -o '^    server pg[0-9]*' /etc/haproxy/haproxy.cfg | sort -u | tr -s ' ' | cut -d' ' -f3 | tr '\n' ' '" \
      >"$WORK/$name.haproxy.pg$n"
  done
  python3 - "$WORK" "$name" "$want" <<'PY' || fail "$name: the cluster does not match the inventory"
import json, sys, os
work, name, want = sys.argv[1], sys.argv[2], ["pg" + n for n in sys.argv[3].split()]
etcd = json.load(open(os.path.join(work, name + ".etcd.json")))["members"]
assert sorted(m.get("name", "") for m in etcd) == sorted(want), ("etcd members", [m.get("name") for m in etcd])
assert not any(m.get("isLearner") for m in etcd), "a learner is left"
keys = sorted(l.rsplit("/", 1)[1] for l in open(os.path.join(work, name + ".keys.txt")).read().split() if l)
assert keys == sorted(want), ("Patroni member keys", keys)
members = json.load(open(os.path.join(work, name + ".cluster.json")))["members"]
assert sorted(m["name"] for m in members) == sorted(want), ("Patroni members", [m["name"] for m in members])
leaders = [m for m in members if m["role"] in ("leader", "master", "primary")]
assert len(leaders) == 1, "leaders: %s" % leaders
tl = leaders[0]["timeline"]
for m in members:
    assert m["timeline"] == tl, ("timeline", m)
    if m is not leaders[0]:
        assert m["state"] in ("streaming", "running"), ("not streaming", m)
for n in want:
    servers = sorted(set(open(os.path.join(work, "%s.haproxy.%s" % (name, n))).read().split()))
    assert servers == sorted(want), ("haproxy.cfg on %s lists" % n, servers)
print("%s: etcd, Patroni (leader %s, timeline %d), member keys and HAProxy match %s"
      % (name, leaders[0]["name"], tl, want), file=sys.stderr)
open(os.path.join(work, name + ".leader"), "w").write("%s %d\n" % (leaders[0]["name"], tl))
PY
  [ "$(count_ours containers "pgha.cluster=$CLUSTER")" = "$#" ] || fail "$name: expected $# containers"
  for n in 1 2 3 4 5; do
    case " $want " in *" $n "*) continue ;; esac
    [ "$(count_ours containers "pgha.node=pg$n")" = 0 ] || fail "$name: pg$n's container is still there"
    [ "$(count_ours volumes "pgha.node=pg$n")" = 0 ] || fail "$name: pg$n's volumes are still there"
  done
}
mark() { date +%s.%N >"$WORK/$1.at"; }
# count_ours KIND LABEL: like count_labelled, among this cluster's resources only (other clusters on
# the same engine have a pg4 too).
count_ours() {
  local filters
  filters=$(python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.dumps({"label":sys.argv[1:]})))' \
    "pgha.cluster=$CLUSTER" "$2")
  case $1 in
    containers) docker_api GET "/containers/json?all=1&filters=$filters" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' ;;
    volumes) docker_api GET "/volumes?filters=$filters" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Volumes"] or []))' ;;
  esac
}

log "step 1: up 3 nodes"
up_step up3 "$WORK/inv3.yml"
verify up3 1 2 3

PW=$(secret "$STATE" superuser_password)
psql_at "$VIP" 5000 postgres "$PW" postgres "CREATE TABLE IF NOT EXISTS e2e_scale (seq bigint PRIMARY KEY)" >/dev/null
start_probe "$WORK" "$VIP" 5000 "$PW" e2e_scale
sleep 2

log "baseline: plain switchovers until pg1 leads"
# In sync mode Patroni hands over only to the synchronous standby, which it picks itself: plain
# switchovers until pg1 leads (at least one). The baseline is the longest write gap among them.
cp "$WORK/up3.leader" "$WORK/sw.leader"
mark sw.begin
for attempt in 1 2 3 4 5 6; do
  "$PGHA" switchover -i "$WORK/inv3.yml" --state-dir "$STATE_ROOT" -o json >"$WORK/sw.json" 2>"$WORK/sw.log" ||
    { cat "$WORK/sw.log" "$WORK/sw.json" >&2; fail "switchover failed"; }
  sleep 2
  mark sw.end
  verify sw 1 2 3
  read -r leader _ <"$WORK/sw.leader"
  log "baseline switchover $attempt: $leader leads"
  [ "$leader" != pg1 ] || break
done
[ "$leader" = pg1 ] || fail "pg1 never became the leader"

log "step 2: add pg4 and pg5; the first up is SIGKILLed during its etcd step"
mark out.begin
"$PGHA" plan -i "$WORK/inv5.yml" --state-dir "$STATE_ROOT" -o json >"$WORK/out0.plan.json" 2>/dev/null
"$PGHA" up -i "$WORK/inv5.yml" --state-dir "$STATE_ROOT" >"$WORK/killed.out" 2>"$WORK/killed.log" &
up_pid=$!
for _ in $(seq 1 1200); do
  grep -q 'pg4: adding to etcd as a learner' "$WORK/killed.log" && break
  kill -0 "$up_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q 'pg4: adding to etcd as a learner' "$WORK/killed.log" || { tail -20 "$WORK/killed.log" >&2; fail "up never reached the etcd step"; }
sleep 1
kill -KILL "$up_pid"
wait "$up_pid" 2>/dev/null || true
log "killed up during: $(grep -o 'pg[45]: [a-z].*' "$WORK/killed.log" | tail -1)"
node_ssh "$STATE" $NET.11 "ETCDCTL_API=3 etcdctl --endpoints=http://$NET.11:2379 member list" >&2
node_ssh "$STATE" $NET.14 "systemctl show -p ActiveState,UnitFileState etcd | tr '\n' ' '" >&2 || true
echo >&2
# The killed run's last remote command (etcd's start on pg4) carries on without it. The rerun's plan
# is compared with what the rerun does, so let that start finish first (the member publishes its
# name): a world that changes between the plan and its execution is one no plan can predict.
for _ in $(seq 1 60); do
  node_ssh "$STATE" $NET.14 "systemctl is-active -q etcd" || break
  node_ssh "$STATE" $NET.11 "ETCDCTL_API=3 etcdctl --endpoints=http://$NET.11:2379 member list" |
    grep -q ', started, pg4,' && break
  sleep 0.5
done
up_step out "$WORK/inv5.yml"
mark out.end
verify out 1 2 3 4 5

log "step 3: remove pg1 (the leader) and pg2"
# pg1 also leads etcd, so that removing its member always takes the path that hands etcd's leadership
# over first (without it the others wait out an election, and Patroni's leader may demote meanwhile).
ALL5=http://$NET.11:2379,http://$NET.12:2379,http://$NET.13:2379,http://$NET.14:2379,http://$NET.15:2379
pg1_leads() {
  node_ssh "$STATE" $NET.11 "ETCDCTL_API=3 etcdctl --endpoints=$ALL5 endpoint status -w json" |
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["members"]; pg1=next(x["ID"] for x in m if x["name"]=="pg1"); s=json.load(sys.stdin); sys.exit(0 if s[0]["Status"]["leader"]==pg1 else 1)' "$WORK/out.etcd.json"
}
if ! pg1_leads; then
  pg1_id=$(python3 -c 'import json,sys; print("%x" % next(m["ID"] for m in json.load(open(sys.argv[1]))["members"] if m["name"] == "pg1"))' "$WORK/out.etcd.json")
  node_ssh "$STATE" $NET.11 "ETCDCTL_API=3 etcdctl --endpoints=$ALL5 move-leader $pg1_id" >&2
  pg1_leads || fail "could not make pg1 etcd's leader"
fi
mark in.begin
up_step in "$WORK/inv345.yml"
mark in.end
# What the staying nodes saw during the scale-in, for the write-gap verdict below.
for a in 13 14 15; do
  node_ssh "$STATE" "$NET.$a" "journalctl -o short-precise --no-pager -u patroni -u haproxy -u keepalived --since '-90s'; ip -br addr" \
    >"$WORK/in.journal.$a" 2>&1 || true
done
grep -q "pg1: handing etcd's leadership to" "$WORK/in.up.log" || fail "in: pg1 led etcd but up did not hand its leadership over"
verify in 3 4 5

log "step 4: a no-op up"
up_step noop "$WORK/inv345.yml"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["changes"]; assert c == [], c' "$WORK/noop.up.json" ||
  fail "the no-op up changed something"
verify noop 3 4 5

log "step 5: pg2 comes back (a new machine, with a new host key)"
up_step back "$WORK/inv2345.yml"
verify back 2 3 4 5

sleep 1
kill -0 "$probe_pid" 2>/dev/null || fail "the write probe died"
stop_probe
wait 2>/dev/null || true
psql_at "$VIP" 5000 postgres "$PW" postgres "SELECT seq FROM e2e_scale ORDER BY seq" >"$WORK/rows.txt"

python3 - "$WORK" "$PGHA_SOURCE_DIR/tests/e2e/lib" <<'PY' || fail "the write stream says the scaling was not safe"
import os, sys
work = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from probe import acks as read_acks, gap as probe_gap, at as mark_at
at = lambda n: mark_at(work, n)
acks = read_acks(work)
rows = {int(l) for l in open(os.path.join(work, "rows.txt")).read().split()}
lost = [seq for _, seq in acks if seq not in rows]
gap = lambda begin, end: probe_gap(acks, begin, end)
leader = lambda n: open(os.path.join(work, n + ".leader")).read().split()
sw, out, inn = gap(at("sw.begin"), at("sw.end")), gap(at("out.begin"), at("out.end")), gap(at("in.begin"), at("in.end"))
tl = {n: int(leader(n)[1]) for n in ("sw", "out", "in", "noop")}
print("writes acknowledged %d, lost %d" % (len(acks), len(lost)), file=sys.stderr)
print("longest write gap: plain switchover %.2f s, scale-out %.2f s, scale-in %.2f s" % (sw, out, inn), file=sys.stderr)
print("timelines: after switchover %(sw)d, after scale-out %(out)d, after scale-in %(in)d, after no-op %(noop)d" % tl, file=sys.stderr)
open(os.path.join(work, "..", "pgha-e2e-scale.numbers"), "w").write(
    "acked %d lost %d gap_switchover %.2f gap_scale_out %.2f gap_scale_in %.2f\n" % (len(acks), len(lost), sw, out, inn))
assert not lost, "acknowledged writes lost: %s" % lost[:20]
assert tl["out"] == tl["sw"], "the scale-out changed the leader"
assert out <= 1.0, "the scale-out left a write gap of %.2f s" % out
assert tl["in"] == tl["out"] + 1, "the scale-in changed the leader %d times" % (tl["in"] - tl["out"])
assert inn <= sw + 0.5, "the scale-in's write gap %.2f s is longer than a plain switchover's %.2f s" % (inn, sw)
assert tl["noop"] == tl["in"]
PY
log "PASS"
