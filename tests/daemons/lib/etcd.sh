# Starts the three etcd members of the loopback inventory from their rendered /etc/default/etcd.
# Sourced after common.sh. Only ETCD_DATA_DIR is changed (a temp dir); everything else is as rendered.

# start_etcd_cluster RENDER_DIR: starts pg1..pg3's etcd, waits until all three are healthy, and sets
# ETCD_ENDPOINTS (comma-separated client URLs from ETCD_ADVERTISE_CLIENT_URLS).
start_etcd_cluster() {
  local rendered=$1 node env urls=() initial=
  # What `up` writes to /var/lib/pgha/etcd-initial.env for a new cluster (roles/converge_dcs.cpp).
  for node in "${NODES[@]}"; do
    initial+=${initial:+,}$node=$(env_get "$rendered/$node/etc/default/etcd" ETCD_INITIAL_ADVERTISE_PEER_URLS)
  done
  for node in "${NODES[@]}"; do
    env=$rendered/$node/etc/default/etcd
    [ -f "$env" ] || fail "no rendered $env"
    mkdir -p "$WORK/etcd-$node"
    chmod 700 "$WORK/etcd-$node"
    # The file is an EnvironmentFile for systemd; sourcing it with allexport is the same here.
    start_bg "$WORK/etcd-$node.log" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c \
      'set -a; . "$1"; set +a; export ETCD_DATA_DIR="$2" ETCD_INITIAL_CLUSTER="$3" ETCD_INITIAL_CLUSTER_STATE=new \
         ETCD_INITIAL_CLUSTER_TOKEN=pgha-test; exec etcd' _ "$env" "$WORK/etcd-$node" "$initial"
    urls+=("$(env_get "$env" ETCD_ADVERTISE_CLIENT_URLS)")
  done
  ETCD_ENDPOINTS=$(IFS=,; echo "${urls[*]}")
  if ! wait_for 45 "3 healthy etcd members" etcdctl3 endpoint health; then
    dump_etcd_logs
    fail "etcd cluster did not become healthy"
  fi
}

etcdctl3() { ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" --command-timeout=5s "$@"; }

dump_etcd_logs() {
  local node
  for node in "${NODES[@]}"; do
    log "--- etcd $node (last lines)"
    tail -5 "$WORK/etcd-$node.log" >&2 || true
  done
}
