#!/usr/bin/env bash
# The hand-run floor for `pgha up` (issue 10): etcd + Patroni started by hand in 3 containers of pgha's
# own node image, no SSH, no systemd, no other roles; what an experienced operator's bring-up costs.
#   bench/floor.sh            prints the seconds on stdout (progress on stderr)
# Timed from the first container's creation (a hand-run `docker run`) until Patroni's /cluster shows one
# leader and 2 replicas running with lag 0 AND the leader's pg_stat_replication (Patroni's /patroni
# `replication`) lists both replicas as streaming. The image must exist (`pgha up` builds it once).
# Talks to the engine only through its API; own network 10.53.0.0/24 labelled pgha.bench=floor;
# everything it creates is removed on exit, also on failure. Not a test: run by hand or by up_down.sh.
set -euo pipefail
SOCK=${PGHA_DOCKER_SOCK:-/var/run/docker.sock}
IMAGE=${IMAGE:-pgha-node:bookworm}
NET=pgha-floor
PREFIX=10.53.0
LABEL=pgha.bench=floor
TIMEOUT=${FLOOR_TIMEOUT:-180}

log() { printf '%s floor: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
. "$(dirname "$0")/lib.sh"

# Everything carrying our label: containers first (they hold the network), then the network.
cleanup() { remove_labelled "$LABEL"; }

# On failure: the last lines each node wrote (etcd and Patroni log to the container's stdout/stderr).
dump_logs() {
  for i in 1 2 3; do
    log "--- pgha-floor-$i (last 15 lines)"
    curl -sS --unix-socket "$SOCK" "http://localhost/v1.41/containers/pgha-floor-$i/logs?stdout=1&stderr=1&tail=15" 2>/dev/null |
      python3 -c '
import sys
b = sys.stdin.buffer.read()
while len(b) >= 8:  # multiplexed stream: 8-byte header [stream,0,0,0,size BE]
    n = int.from_bytes(b[4:8], "big"); sys.stderr.write(b[8:8 + n].decode(errors="replace")); b = b[8 + n:]
' || true
  done
}

CREATED=0
trap 'rc=$?; [ $rc -eq 0 ] || [ $CREATED = 0 ] || dump_logs; cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM

api "http://localhost/v1.41/images/$IMAGE/json" >/dev/null ||
  { log "image $IMAGE is missing: run \`pgha up\` once to build it"; exit 1; }
cleanup  # what an interrupted earlier run left behind

# Started in each container instead of systemd: etcd in the background, then Patroni as postgres.
# Debian's stock 15/main cluster stays in the image, untouched and not started; Patroni has its own
# data dir. Timing as pgha's default profile `fast` (core/profiles.cpp): ttl 20, loop_wait 2, retry 3.
read -r -d '' NODE_SCRIPT <<'SH' || true
set -e
members=pg1=http://10.53.0.11:2380,pg2=http://10.53.0.12:2380,pg3=http://10.53.0.13:2380
etcd --name "$NODE" --data-dir /var/lib/etcd/floor \
  --listen-peer-urls "http://$IP:2380" --initial-advertise-peer-urls "http://$IP:2380" \
  --listen-client-urls "http://$IP:2379,http://127.0.0.1:2379" --advertise-client-urls "http://$IP:2379" \
  --initial-cluster "$members" --initial-cluster-token floor --initial-cluster-state new &
install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/patroni
install -d -o postgres -g postgres -m 2775 /var/run/postgresql
cat >/etc/patroni-floor.yml <<EOF
scope: floor
name: $NODE
restapi:
  listen: $IP:8008
  connect_address: $IP:8008
etcd3:
  hosts: [10.53.0.11:2379, 10.53.0.12:2379, 10.53.0.13:2379]
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 2
    retry_timeout: 3
    postgresql:
      use_pg_rewind: true
  initdb: [{encoding: UTF8}, data-checksums]
postgresql:
  listen: $IP:5432
  connect_address: $IP:5432
  data_dir: /var/lib/postgresql/patroni
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: /tmp/pgpass
  authentication:
    superuser: {username: postgres, password: floor-super}
    replication: {username: replicator, password: floor-repl}
  parameters:
    unix_socket_directories: /var/run/postgresql
  pg_hba:
  - local all all trust
  - host replication replicator 10.53.0.0/24 scram-sha-256
  - host all all 10.53.0.0/24 scram-sha-256
  - host all all 127.0.0.1/32 scram-sha-256
EOF
chown postgres:postgres /etc/patroni-floor.yml
chmod 0600 /etc/patroni-floor.yml
exec runuser -u postgres -- patroni /etc/patroni-floor.yml
SH

api -X POST http://localhost/v1.41/networks/create -d "{\"Name\":\"$NET\",\"CheckDuplicate\":true,
  \"IPAM\":{\"Config\":[{\"Subnet\":\"$PREFIX.0/24\",\"Gateway\":\"$PREFIX.1\"}]},\"Labels\":{\"pgha.bench\":\"floor\"}}" >/dev/null

script_json=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$NODE_SCRIPT")
t0=$(now)
CREATED=1
for i in 1 2 3; do
  api -X POST "http://localhost/v1.41/containers/create?name=pgha-floor-$i" -d "{\"Image\":\"$IMAGE\",
    \"Hostname\":\"pg$i\",\"Labels\":{\"pgha.bench\":\"floor\"},\"Env\":[\"NODE=pg$i\",\"IP=$PREFIX.1$i\"],
    \"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[$script_json],\"StopSignal\":\"SIGKILL\",
    \"HostConfig\":{\"NetworkMode\":\"$NET\"},
    \"NetworkingConfig\":{\"EndpointsConfig\":{\"$NET\":{\"IPAMConfig\":{\"IPv4Address\":\"$PREFIX.1$i\"}}}}}" >/dev/null
  api -X POST "http://localhost/v1.41/containers/pgha-floor-$i/start" >/dev/null
done
log "3 containers started after $(python3 -c "print(round($(now) - $t0, 2))") s; waiting for a leader and 2 streaming replicas"

# One poller process (not one per probe): /cluster on any node, then the leader's /patroni. Logs when
# each stage is first seen (seconds since t0) to stderr.
python3 - "$PREFIX" "$TIMEOUT" "$t0" <<'PY'
import json, sys, time, urllib.request
prefix, timeout, t0 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def get(url):
    with urllib.request.urlopen(url, timeout=1) as r:
        return json.load(r)
seen = set()
def stage(name):
    if name not in seen:
        seen.add(name)
        print(f"{time.strftime('%H:%M:%S', time.gmtime())} floor: +{time.time() - t0:.1f} s {name}", file=sys.stderr)
deadline, last = time.monotonic() + timeout, ""
while time.monotonic() < deadline:
    for i in (1, 2, 3):
        try:
            members = get(f"http://{prefix}.1{i}:8008/cluster")["members"]
        except Exception as e:
            last = f"/cluster on pg{i}: {e}"
            continue
        stage("Patroni's REST API answers")
        leaders = [m for m in members if m.get("role") in ("leader", "master", "primary")]
        if leaders:
            stage(f"leader {leaders[0]['name']}")
        replicas = [m for m in members if m.get("role") == "replica"
                    and m.get("state") in ("running", "streaming") and m.get("lag") == 0]
        if len(leaders) != 1 or len(replicas) != 2:
            last = "members: " + ", ".join(f"{m['name']} {m.get('role')} {m.get('state')} lag {m.get('lag')}" for m in members)
            break
        stage("2 replicas running, lag 0")
        try:
            repl = get(f"http://{leaders[0]['host']}:8008/patroni").get("replication", [])
        except Exception as e:
            last = f"/patroni on the leader: {e}"
            break
        if sum(1 for r in repl if r.get("state") == "streaming") == 2:
            sys.exit(0)
        last = f"leader {leaders[0]['name']} streams to {len(repl)} replica(s)"
        break
    time.sleep(0.1)
print(f"floor: not healthy within {timeout:.0f} s; last seen: {last}", file=sys.stderr)
sys.exit(1)
PY
t1=$(now)
python3 -c "print(round($t1 - $t0, 2))"
