#!/usr/bin/env bash
# etcd judges the rendered /etc/default/etcd: three members (127.0.0.11-13) form one cluster from
# their rendered files alone (only the data dir moves to a temp dir), all healthy, three members listed,
# a key written through one member is read through another.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"
setup etcd_start

render_loopback "$WORK/out"
for node in "${NODES[@]}"; do
  env=$WORK/out/$node/etc/default/etcd
  [ "$(env_get "$env" ETCD_NAME)" = "$node" ] || fail "$env: ETCD_NAME is not $node"
  # The initial-cluster settings are written by `up` at the member's first start, never rendered:
  # the rendered file must not change when members come and go.
  ! grep -q '^ETCD_INITIAL_CLUSTER' "$env" || fail "$env: carries initial-cluster settings"
done

start_etcd_cluster "$WORK/out"
log "endpoints: $ETCD_ENDPOINTS"
etcdctl3 endpoint health >&2
members=$(etcdctl3 member list -w simple)
echo "$members" >&2
[ "$(echo "$members" | grep -c started)" -eq 3 ] || fail "expected 3 started members"
for node in "${NODES[@]}"; do echo "$members" | grep -q ", $node, " || fail "member $node missing"; done

first=${ETCD_ENDPOINTS%%,*}
last=${ETCD_ENDPOINTS##*,}
ETCDCTL_API=3 etcdctl --endpoints="$first" put /pgha-test/key value-1 >/dev/null
got=$(ETCDCTL_API=3 etcdctl --endpoints="$last" get --print-value-only /pgha-test/key)
[ "$got" = "value-1" ] || fail "read '$got' through $last"
# The v2 API is off (Patroni uses etcd3): the v2 keys endpoint must not answer.
code=$(curl -s -o /dev/null -w '%{http_code}' "$first/v2/keys/" || true)
[ "$code" != "200" ] || fail "etcd v2 API is enabled"
log "PASS: 3-member etcd cluster from the rendered files"
