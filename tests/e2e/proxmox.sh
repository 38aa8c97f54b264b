#!/usr/bin/env bash
# The Proxmox provider end to end against the simulator (tests/proxmox_sim) with Docker-backed VMs:
#   inventories/proxmox-3node.yml pointed at the simulator -> `pgha up` brings the 3-node cluster to
#   healthy with one VM per Proxmox host -> `pgha check failover --fault kill-node` (a hard stop
#   through the API) passes -> `pgha down` leaves no VM and no container behind; an unrelated VM
#   survives.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"
bash scripts/ensure-docker.sh >/dev/null

SIM=${PGHA_PVE_SIM:-$(dirname "$PGHA")/tests/proxmox_sim/pgha-pve-sim}
[ -x "$SIM" ] || fail "simulator binary not found at $SIM (build target pgha-pve-sim)"
WORK=$(mktemp -d /tmp/pgha-e2e-proxmox.XXXXXX)
STATE_ROOT=$WORK/state
INV=$WORK/proxmox.yml
sim_pid=

# Secrets reach the simulator and pgha through the environment only.
export PROXMOX_API_TOKEN_ID='root@pam!pgha'
export PROXMOX_API_TOKEN_SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export PGHA_SIM_TOKEN="$PROXMOX_API_TOKEN_ID=$PROXMOX_API_TOKEN_SECRET"
export PATRONI_SUPERUSER_PASSWORD=e2e-super PATRONI_REPLICATION_PASSWORD=e2e-repl PATRONI_ADMIN_PASSWORD=e2e-admin

sim_api() {  # sim_api METHOD PATH [DATA]: the simulator's own view (its /sim/ control calls)
  curl -sS --cacert "$WORK/certs/pve-root-ca.pem" -X "$1" ${3:+-d "$3"} "$ENDPOINT$2"
}
sim_containers() { count_labelled containers pgha.sim=1; }

cleanup() {
  if [ -n "$sim_pid" ]; then
    "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  for id in $(docker_api GET '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22pgha.sim%3D1%22%5D%7D' |
              python3 -c 'import json,sys; print(" ".join(c["Id"] for c in json.load(sys.stdin)))'); do
    docker_api DELETE "/containers/$id?force=1&v=1" >/dev/null 2>&1 || true
  done
  docker_api DELETE /networks/pgha-pve-sim >/dev/null 2>&1 || true
  [ -n "${PGHA_KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log "starting the simulator on 127.0.0.1:$port (3 hosts, template 9000, Docker-backed VMs)"
"$SIM" --listen "127.0.0.1:$port" --cert-dir "$WORK/certs" --nodes pve1,pve2,pve3 --template 9000 \
  --token-env PGHA_SIM_TOKEN --backend docker --network pgha-pve-sim --subnet 10.88.0.0/24 \
  --ready-file "$WORK/sim.json" >"$WORK/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 900); do
  [ -s "$WORK/sim.json" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$WORK/sim.log" >&2; fail "the simulator exited"; }
  sleep 1
done
[ -s "$WORK/sim.json" ] || fail "the simulator did not come up"
ENDPOINT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoint"])' "$WORK/sim.json")

log "inventory: inventories/proxmox-3node.yml pointed at the simulator, addresses in 10.88.0.0/24"
sed -e "s#endpoint: .*#endpoint: $ENDPOINT#" \
    -e "s#ca_file: .*#ca_file: $WORK/certs/pve-root-ca.pem#" \
    -e "s#ciuser: .*#ciuser: root#" \
    -e "s#nameserver: .*#nameserver: 10.88.0.1#" \
    -e "s#10\.20\.0\.#10.88.0.#g" \
    -e "s#cpu: 4#cpu: 2#; s#memory_mb: 8192#memory_mb: 2048#" \
    inventories/proxmox-3node.yml >"$INV"
"$PGHA" validate -i "$INV" >&2 || fail "the derived inventory does not validate"

log "an unrelated VM that down must not touch"
python3 - "$WORK/certs/pve-root-ca.pem" "$ENDPOINT" <<'PY' || fail "could not create the bystander VM"
import os, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
req = urllib.request.Request(sys.argv[2] + "/api2/json/nodes/pve1/qemu/9000/clone", method="POST",
    data=b"newid=500&name=bystander&full=1&target=pve2",
    headers={"Authorization": "PVEAPIToken=" + os.environ["PGHA_SIM_TOKEN"]})
urllib.request.urlopen(req, context=ctx).read()
PY

log "up"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/up.log" 2>&1 || { tail -40 "$WORK/up.log" >&2; tail -20 "$WORK/sim.log" >&2; fail "up failed"; }

sim_api GET /sim/state >"$WORK/state.json"
python3 - "$WORK/state.json" <<'PY' || fail "placement or configuration is wrong"
import json, sys, urllib.parse
vms = [v for v in json.load(open(sys.argv[1]))["data"]["vms"] if not v["template"] and v["vmid"] != 500]
assert len(vms) == 3, vms
assert len({v["node"] for v in vms}) == 3, "anti-affinity: %s" % [(v["config"]["name"], v["node"]) for v in vms]
for v in vms:
    c = v["config"]
    assert v["running"], v
    assert c["tags"] == "pgha-pgha-prod", c
    assert c["ipconfig0"].startswith("ip=10.88.0.5") and c["ipconfig0"].endswith("/24,gw=10.88.0.1"), c
    assert c["net0"] == "virtio,bridge=vmbr0,tag=20", c
    assert urllib.parse.unquote(c["sshkeys"]).startswith("ssh-ed25519 "), c
print("placement:", sorted((v["config"]["name"], v["node"], v["vmid"]) for v in vms))
PY
[ "$(sim_containers)" = 3 ] || fail "expected 3 VM containers (the bystander never started): $(sim_containers)"
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" >&2 || fail "status after up"

log "check failover --fault kill-node (a hard stop through the Proxmox API)"
rc=0
"$PGHA" check failover -i "$INV" --state-dir "$STATE_ROOT" --fault kill-node >"$WORK/failover.log" 2>&1 || rc=$?
cat "$WORK/failover.log" >&2
[ $rc = 0 ] || fail "check failover --fault kill-node exited $rc"

log "down"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" >&2 || fail "down failed"
sim_api GET /sim/state >"$WORK/state.json"
python3 - "$WORK/state.json" <<'PY' || fail "down left VMs behind or removed the bystander"
import json, sys
vms = json.load(open(sys.argv[1]))["data"]["vms"]
left = sorted(v["vmid"] for v in vms)
assert left == [500, 9000], "VMs left: %s" % left
PY
[ "$(sim_containers)" = 0 ] || fail "containers left behind: $(sim_containers)"
log "PASS"
