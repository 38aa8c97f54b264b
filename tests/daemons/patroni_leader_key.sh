#!/usr/bin/env bash
# Patroni's etcd3 leader key, against a real 3-member etcd and Debian's Patroni module, as shipped and
# with templates/patroni/etcd3_leader_cas.py applied. The partition story, made deterministic: pg3 holds
# the leader key; its lease expires (revoked here) and pg2 takes the key; pg3, still holding its stale
# view of the cluster, renews its leadership. Shipped 3.0.2 writes the key over pg2's (the split brain
# `pgha check failover --fault partition` found); with the fix pg3 is refused and pg2 keeps the key.
# Debian's /usr/bin/python3 on purpose: Patroni's modules (python3-etcd, urllib3) are installed for it.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"
setup patroni_leader_key

SCRIPT=$PGHA_SOURCE_DIR/templates/patroni/etcd3_leader_cas.py
SHIPPED=/usr/lib/python3/dist-packages/patroni
[ -f "$SHIPPED/dcs/etcd3.py" ] || fail "Debian's patroni package is not installed"

for copy in shipped fixed; do
  mkdir -p "$WORK/$copy"
  cp -r "$SHIPPED" "$WORK/$copy/patroni"
done
[ "$(/usr/bin/python3 "$SCRIPT" "$WORK/fixed/patroni/dcs/etcd3.py")" = applied ] || fail "the fix does not apply to this Patroni"
[ "$(/usr/bin/python3 "$SCRIPT" "$WORK/fixed/patroni/dcs/etcd3.py")" = present ] || fail "a second run is not a no-op"
echo "not patroni" >"$WORK/other.py"
[ "$(/usr/bin/python3 "$SCRIPT" "$WORK/other.py")" = absent ] || fail "unknown text is not left alone"
[ "$(cat "$WORK/other.py")" = "not patroni" ] || fail "unknown text was changed"

render_loopback "$WORK/out"
start_etcd_cluster "$WORK/out"
HOSTS=$(echo "$ETCD_ENDPOINTS" | sed 's|http://||g')

cat >"$WORK/scenario.py" <<'PY'
import base64, json, sys, urllib.request
from patroni.dcs.etcd3 import Etcd3

hosts, scope = sys.argv[1].split(","), sys.argv[2]

def member(name):
    return Etcd3({"hosts": hosts, "scope": scope, "namespace": "/pgha-test/", "name": name,
                  "ttl": 20, "loop_wait": 2, "retry_timeout": 3})

def rpc(path, body):
    req = urllib.request.Request("http://" + hosts[0] + "/v3" + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=5))

def leader():
    key = base64.b64encode(("/pgha-test/" + scope + "/leader").encode()).decode()
    kvs = rpc("/kv/range", {"key": key}).get("kvs", [])
    return base64.b64decode(kvs[0]["value"]).decode() if kvs else None

old = member("pg3")
assert old.attempt_to_acquire_leader(), "pg3 could not take the free leader key"
assert old.get_cluster().leader.name == "pg3"  # the view pg3 keeps through the partition
rpc("/lease/revoke", {"ID": old._lease})        # its lease runs out, and the key goes with it
assert leader() is None
new = member("pg2")
new.get_cluster()
assert new.attempt_to_acquire_leader(), "pg2 could not take the leader key"
renewed = old._update_leader()                  # pg3 heals, still believing it leads
print(json.dumps({"renewed": bool(renewed), "leader": leader()}))
PY

run() { PYTHONPATH=$WORK/$1 timeout 60 /usr/bin/python3 "$WORK/scenario.py" "$HOSTS" "$1" 2>"$WORK/$1.err" | tail -1; }
shipped=$(run shipped) || fail "scenario on the shipped module: $(tail -5 "$WORK/shipped.err")"
fixed=$(run fixed) || fail "scenario on the fixed module: $(tail -5 "$WORK/fixed.err")"
log "shipped 3.0.2: $shipped"
log "with the fix:  $fixed"
[ "$fixed" = '{"renewed": false, "leader": "pg2"}' ] || fail "with the fix, pg3 still took the leader key: $fixed"
case $shipped in
  *'"leader": "pg3"'*) log "the shipped module overwrites the newer leader's key (the bug the fix is for)" ;;
  *) log "note: the shipped module did not overwrite the key here: a newer Patroni?" ;;
esac
log "PASS: a stale leader cannot take the leader key back"
