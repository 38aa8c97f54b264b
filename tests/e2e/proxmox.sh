#!/usr/bin/env bash
# The Proxmox provider end to end against the simulator (tests/proxmox_sim) with Docker-backed VMs:
#   inventories/proxmox-3node.yml pointed at the simulator -> `pgha up` brings the 3-node cluster to
#   healthy with one VM per Proxmox host. Its storage, local-lvm, is local (not shared), as on a
#   fresh Proxmox installation: every VM is cloned on the template's host (pve1) and the stopped
#   clones migrate to pve2 and pve3; /cluster/resources learns names only at the simulated
#   pvestatd's pace (10 s); `validate` and `plan` say so before `up` (the route of each VM) ->
#   `pgha check failover --fault kill-node` (a hard stop
#   through the API) passes -> scale 3 -> 4 -> 3 (PGHA_E2E_PROXMOX_SCALE=0 skips it): a 4th node and a 4th
#   Proxmox host join the inventory, with a template of its own there (provider.proxmox.templates:
#   plan says so), `up` clones only pg4's VM, on that emptiest host from its template without a
#   migration, and the
#   cluster is healthy with 4 members; both leave again, `up` destroys pg4's VM (found by its tag on
#   a host the inventory no longer lists) and its backing container, 3 members -> `pgha down` leaves
#   no VM and no container behind; an unrelated VM survives.
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
# pve4 exists from the start but the inventory names it only while scaling out (the emptiest host).
PVE_VERSION=${PGHA_E2E_PVE_VERSION:-9}
log "starting the simulator on 127.0.0.1:$port (Proxmox VE $PVE_VERSION, 4 hosts, template 9000 on pve1's local-lvm and 9004 on pve4's, Docker-backed VMs)"
"$SIM" --listen "127.0.0.1:$port" --cert-dir "$WORK/certs" --nodes pve1,pve2,pve3,pve4 --template 9000@pve1 \
  --template 9004@pve4 \
  --template-storage local-lvm --pve-version "$PVE_VERSION" --stats-ms 10000 \
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
"$PGHA" validate -i "$INV" >"$WORK/validate.out" || fail "the derived inventory does not validate"
cat "$WORK/validate.out" >&2
grep -q "^  pg2  on pve2 from template 9000: clone with target pve2 if storage local-lvm is shared, else clone on the template's host and migrate to pve2" \
  "$WORK/validate.out" || fail "validate does not say which way pg2's VM may go"

log "plan: which way each VM goes (local-lvm is not shared: cloned on pve1, then migrated)"
"$PGHA" plan -i "$INV" --state-dir "$STATE_ROOT" -q >"$WORK/plan.out" || { cat "$WORK/plan.out" >&2; fail "plan failed"; }
grep -q "create the machine of pg1: clone from template 9000 on pve1$" "$WORK/plan.out" ||
  { cat "$WORK/plan.out" >&2; fail "plan does not show pg1's clone on the template's host"; }
grep -q "create the machine of pg2: clone from template 9000 on pve1, then migrate to pve2 (storage local-lvm is not shared; targetstorage local-lvm)" \
  "$WORK/plan.out" || { cat "$WORK/plan.out" >&2; fail "plan does not show pg2's clone and migration"; }
"$PGHA" plan -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/plan.json" || fail "plan -o json failed"
python3 - "$WORK/plan.json" <<'PY' || fail "plan -o json lacks the routes"
import json, sys
changes = json.load(open(sys.argv[1]))["changes"]
routes = {c["node"]: c["route"] for c in changes if c["kind"] == "create_machine"}
assert routes["pg3"].endswith("then migrate to pve3 (storage local-lvm is not shared; targetstorage local-lvm)"), routes
assert all("route" not in c for c in changes if c["kind"] != "create_machine"), changes
PY

log "an unrelated VM that down must not touch"
python3 - "$WORK/certs/pve-root-ca.pem" "$ENDPOINT" <<'PY' || fail "could not create the bystander VM"
import os, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
req = urllib.request.Request(sys.argv[2] + "/api2/json/nodes/pve1/qemu/9000/clone", method="POST",
    data=b"newid=500&name=bystander&full=1",
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
state = json.load(open(sys.argv[1]))["data"]
# local-lvm is not shared: Proxmox refuses `target` on the clone, so pgha cloned on pve1 and
# migrated the two VMs that belong elsewhere.
assert state["task_types"].get("qmigrate", 0) == 2, state["task_types"]
assert state["task_types"].get("qmclone", 0) == 4, state["task_types"]  # 3 + the bystander
for v in vms:
    c = v["config"]
    assert c["scsi0"].startswith("local-lvm:vm-%d-disk-0" % v["vmid"]), c
    assert v["lock"] == "", v
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

# cluster_vms: "name node vmid running" per VM tagged for the cluster, sorted by name.
cluster_vms() {
  sim_api GET /sim/state | python3 -c '
import json, sys
for v in sorted(json.load(sys.stdin)["data"]["vms"], key=lambda v: v["config"].get("name", "")):
    if "pgha-pgha-prod" in v["config"].get("tags", "").split(";"):
        print(v["config"]["name"], v["node"], v["vmid"], int(v["running"]))'
}
# status_members N: `pgha status -o json` is healthy with N Patroni members, one leader, all running.
# Patroni publishes each member's WAL position once per loop_wait, and up's last check (pgBackRest's,
# which switches WAL segments) moves the leader's by up to 16 MB: right after `up` a replica can show
# that lag for one loop. So the verdict is read up to 10 times, 3 s apart.
status_members() {
  local try
  for try in 1 2 3 4 5 6 7 8 9 10; do
    status_members_once "$1" 2>"$WORK/status.err" && return 0
    sleep 3
  done
  cat "$WORK/status.err" "$WORK/status.json" >&2
  return 1
}
status_members_once() {
  "$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status.json" || true
  python3 - "$WORK/status.json" "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert s["health"] == "healthy", (s["health"], s["reasons"])
assert len(s["members"]) == n, [m["member"] for m in s["members"]]
roles = [m["role"] for m in s["members"]]
assert sum(r in ("leader", "master", "primary") for r in roles) == 1, roles
assert all(m["state"] in ("running", "streaming") for m in s["members"]), s["members"]
print("members:", sorted((m["member"], m["role"], m["state"]) for m in s["members"]))
PY
}

if [ "${PGHA_E2E_PROXMOX_SCALE:-1}" = 1 ]; then
  log "scale out: pg4 (10.88.0.54) and the Proxmox host pve4 join the inventory"
  cp "$INV" "$WORK/proxmox-3.yml"
  cluster_vms >"$WORK/vms-3.txt"
  python3 - "$INV" <<'PY' || fail "could not add pg4 to the inventory"
import sys
path = sys.argv[1]
text = open(path).read()
assert "nodes: [pve1, pve2, pve3]" in text and "\nnetwork:" in text
text = text.replace("nodes: [pve1, pve2, pve3]", "nodes: [pve1, pve2, pve3, pve4]\n    templates: {pve4: 9004}")
text = text.replace("\nnetwork:", "  - name: pg4\n    address: 10.88.0.54\n\nnetwork:", 1)
open(path, "w").write(text)
PY
  "$PGHA" validate -i "$INV" >&2 || fail "the 4-node inventory does not validate"
  "$PGHA" plan -i "$INV" --state-dir "$STATE_ROOT" -q >"$WORK/plan-4.out" || { cat "$WORK/plan-4.out" >&2; fail "plan with pg4 failed"; }
  grep -q "create the machine of pg4: clone from pve4's own template 9004$" "$WORK/plan-4.out" ||
    { cat "$WORK/plan-4.out" >&2; fail "plan does not show pg4's clone from pve4's own template"; }
  "$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/up-4.log" 2>&1 ||
    { tail -40 "$WORK/up-4.log" >&2; tail -20 "$WORK/sim.log" >&2
      for a in 51 52 53; do
        log "etcd on 10.88.0.$a, last 3 minutes:"
        node_ssh "$STATE_ROOT/pgha-prod" "10.88.0.$a" "journalctl -o short-precise --no-pager -u etcd --since '-180s' | tail -60" >&2 || true
      done
      fail "up with pg4 failed"; }
  cluster_vms >"$WORK/vms-4.txt"
  python3 - "$WORK/vms-3.txt" "$WORK/vms-4.txt" <<'PY' || fail "scale out: wrong VMs or placement"
import sys
before = {l.split()[0]: l.split() for l in open(sys.argv[1])}
after = {l.split()[0]: l.split() for l in open(sys.argv[2])}
assert sorted(after) == ["pg1", "pg2", "pg3", "pg4"], after
for name, vm in before.items():
    assert after[name][1:3] == vm[1:3], "%s was recreated or moved: %s -> %s" % (name, vm, after[name])
hosts = ["pve1", "pve2", "pve3", "pve4"]
load = {h: sum(vm[1] == h for vm in before.values()) for h in hosts}
emptiest = min(hosts, key=lambda h: (load[h], hosts.index(h)))
assert after["pg4"][1] == emptiest, "pg4 on %s, the emptiest host is %s (%s)" % (after["pg4"][1], emptiest, load)
assert after["pg4"][3] == "1", after["pg4"]
print("pg4:", after["pg4"], "load before:", load)
PY
  sim_api GET /sim/state | python3 -c '
import json, sys
t = json.load(sys.stdin)["data"]["task_types"]
assert t.get("qmigrate", 0) == 2, "pg4 came from pve4'"'"'s own template: no migration (%s)" % t' ||
    fail "scale out: pg4 was migrated although pve4 has its own template"
  vmid4=$(awk '$1 == "pg4" {print $3}' "$WORK/vms-4.txt")
  [ "$(sim_containers)" = 4 ] || fail "expected 4 VM containers: $(sim_containers)"
  status_members 4 || fail "the cluster is not healthy with 4 members"

  log "scale in: pg4 and pve4 leave the inventory again"
  cp "$WORK/proxmox-3.yml" "$INV"
  "$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/up-3.log" 2>&1 ||
    { tail -40 "$WORK/up-3.log" >&2; tail -20 "$WORK/sim.log" >&2; fail "up without pg4 failed"; }
  cluster_vms >"$WORK/vms-3b.txt"
  diff "$WORK/vms-3.txt" "$WORK/vms-3b.txt" >&2 || fail "scale in: pg4's VM is left, or another VM changed"
  sim_api GET /sim/state | python3 -c '
import json, sys
ids = [v["vmid"] for v in json.load(sys.stdin)["data"]["vms"]]
assert int(sys.argv[1]) not in ids and 500 in ids, ids' "$vmid4" || fail "VM $vmid4 (pg4) not destroyed, or the bystander went"
  [ "$(count_labelled containers "pgha.sim.vmid=$vmid4")" = 0 ] || fail "pg4's backing container is still there"
  [ "$(sim_containers)" = 3 ] || fail "expected 3 VM containers: $(sim_containers)"
  if grep -q '"pg4"' "$STATE_ROOT/pgha-prod/proxmox-vms.json"; then fail "pg4 is still in proxmox-vms.json"; fi
  status_members 3 || fail "the cluster is not healthy with 3 members"
else
  log "scale 3 -> 4 -> 3 skipped (PGHA_E2E_PROXMOX_SCALE=0)"
fi

log "down"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" >&2 || fail "down failed"
sim_api GET /sim/state >"$WORK/state.json"
python3 - "$WORK/state.json" <<'PY' || fail "down left VMs behind or removed the bystander"
import json, sys
vms = json.load(open(sys.argv[1]))["data"]["vms"]
left = sorted(v["vmid"] for v in vms)
assert left == [500, 9000, 9004], "VMs left: %s" % left
PY
[ "$(sim_containers)" = 0 ] || fail "containers left behind: $(sim_containers)"
log "PASS"
