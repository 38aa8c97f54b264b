#!/usr/bin/env bash
# End to end on machines pgha did not make (provider.type: static). The test makes 3 containers of its
# own through the Engine API: plain debian:bookworm (or trixie) with systemd, sshd and sudo, a user `ops` with
# passwordless sudo and a key the test generates, and none of pgha's packages. db1 also runs Debian's
# stock postgresql-15 (17) cluster, installed by the test. Then:
#   up as ops (sudo) installs what is missing and brings the cluster to healthy -> check failover with
#   stop-patroni and partition (nftables on the host) -> down leaves the 3 hosts running with pgha's
#   services and files gone (checked over the test's own SSH) -> a stock cluster that holds a user
#   database makes `up` stop with the adopt message and change nothing.
# PGHA_STATIC_SUITE=trixie runs the same on Debian 13 hosts (PostgreSQL 17): tests/e2e/static_trixie.sh.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"

SUITE=${PGHA_STATIC_SUITE:-bookworm}
case $SUITE in
  bookworm) PGV=15 OS=debian12 NAME=pgha-e2e-static SUBNET=10.67.0 ;;
  trixie) PGV=17 OS=debian13 NAME=pgha-e2e-static-trixie SUBNET=10.68.0 ;;
  *) echo "PGHA_STATIC_SUITE: bookworm or trixie, not $SUITE" >&2; exit 2 ;;
esac
IMAGE=pgha-e2e-host:$SUITE
NET=$NAME
HOSTS=(db1 db2 db3)
WORK=$(mktemp -d /tmp/$NAME.XXXXXX)
STATE_ROOT=$WORK/state
STATE=$STATE_ROOT/$NAME
INV=$WORK/static.yml

remove_hosts() {
  local h
  for h in "${HOSTS[@]}"; do docker_api DELETE "/containers/$NAME-$h?force=1&v=1" >/dev/null 2>&1 || true; done
  docker_api DELETE "/networks/$NET" >/dev/null 2>&1 || true
}
cleanup() {
  remove_hosts
  rm -rf "$WORK"
}
trap cleanup EXIT

# host_ssh ADDRESS COMMAND...: the test's own view of a host, as ops, with its own known_hosts.
host_ssh() {
  local addr=$1; shift
  ssh -q -i "$WORK/ops_key" -o UserKnownHostsFile="$WORK/known_hosts" -o StrictHostKeyChecking=accept-new \
      -o BatchMode=yes -o ConnectTimeout=10 "ops@$addr" "$@"
}

log "removing leftovers of an earlier run"
remove_hosts

# The host image: what a minimal Debian 12 server has (systemd, sshd, sudo), a sudoer `ops`. Built
# once through the Engine API and kept (its Dockerfile's hash is in the tag's label).
DOCKERFILE=$(cat <<'EOF'
FROM debian:@SUITE@
ENV container=docker
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      systemd systemd-sysv dbus openssh-server sudo \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_* /usr/sbin/policy-rc.d \
 && mkdir -p /etc/systemd/system/ssh.service.d \
 && printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
      > /etc/systemd/system/ssh.service.d/hostkeys.conf \
 && useradd -m -s /bin/bash ops \
 && printf 'ops ALL=(ALL) NOPASSWD: ALL\n' > /etc/sudoers.d/ops && chmod 440 /etc/sudoers.d/ops \
 && systemctl mask getty@tty1.service console-getty.service systemd-udevd.service \
      systemd-udev-trigger.service systemd-firstboot.service systemd-remount-fs.service \
 && systemctl enable ssh.service \
 && rm -f /etc/machine-id && touch /etc/machine-id
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
EOF
)
DOCKERFILE=${DOCKERFILE/@SUITE@/$SUITE}
HASH=$(printf '%s' "$DOCKERFILE" | sha256sum | cut -c1-16)
have=$(docker_api GET "/images/$IMAGE/json" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(((j.get("Config") or {}).get("Labels") or {}).get("pgha.e2e.hash",""))' 2>/dev/null || true)
if [ "$have" != "$HASH" ]; then
  log "building $IMAGE (Engine API)"
  printf '%s\nLABEL pgha.e2e.hash=%s\n' "$DOCKERFILE" "$HASH" >"$WORK/Dockerfile"
  tar -C "$WORK" -cf "$WORK/context.tar" Dockerfile
  curl -sS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/x-tar' --data-binary "@$WORK/context.tar" \
    "http://localhost/v1.41/build?t=$IMAGE&rm=1&forcerm=1" >"$WORK/build.log"
  if grep -q '"errorDetail"' "$WORK/build.log"; then tail -c 2000 "$WORK/build.log" >&2; fail "image build failed"; fi
fi

log "the test's own key for ops, and 3 hosts on $SUBNET.0/24"
ssh-keygen -q -t ed25519 -N '' -C ops@pgha-e2e -f "$WORK/ops_key"
mkdir -p "$WORK/home/ops/.ssh"
cp "$WORK/ops_key.pub" "$WORK/home/ops/.ssh/authorized_keys"
chmod 700 "$WORK/home/ops/.ssh"; chmod 600 "$WORK/home/ops/.ssh/authorized_keys"
tar -C "$WORK/home/ops" --owner=1000 --group=1000 --numeric-owner -cf "$WORK/keys.tar" .ssh
docker_api POST /networks/create "{\"Name\":\"$NET\",\"Driver\":\"bridge\",\"IPAM\":{\"Config\":[{\"Subnet\":\"$SUBNET.0/24\",\"Gateway\":\"$SUBNET.1\"}]}}" >/dev/null
CGROUP_V=$(docker_api GET /info | python3 -c 'import json,sys; print(json.load(sys.stdin).get("CgroupVersion","1"))')
i=10
for h in "${HOSTS[@]}"; do
  i=$((i + 1))
  spec=$(python3 - "$IMAGE" "$h" "$NET" "$SUBNET.$i" "$CGROUP_V" <<'PY'
import json, sys
image, host, net, addr, cg = sys.argv[1:]
hc = {"NetworkMode": net, "CapAdd": ["SYS_ADMIN", "NET_ADMIN", "NET_RAW"],
      "Tmpfs": {"/run": "rw,exec,mode=755", "/run/lock": "rw"},
      "Binds": ["/sys/fs/cgroup:/sys/fs/cgroup:" + ("rw" if cg == "2" else "ro")],
      "Sysctls": {"net.ipv4.ip_nonlocal_bind": "1"}}
if cg == "2":
    hc["CgroupnsMode"] = "host"
print(json.dumps({"Image": image, "Hostname": host, "Cmd": ["/sbin/init"], "StopSignal": "SIGRTMIN+3",
                  "Labels": {"purpose": "pgha-e2e-static-host"}, "HostConfig": hc,
                  "NetworkingConfig": {"EndpointsConfig": {net: {"IPAMConfig": {"IPv4Address": addr}}}}}))
PY
)
  docker_api POST "/containers/create?name=$NAME-$h" "$spec" | grep -q '"Id"' || fail "cannot create $h"
  curl -sS -f --unix-socket "$SOCK" -X PUT -H 'Content-Type: application/x-tar' --data-binary "@$WORK/keys.tar" \
    "http://localhost/v1.41/containers/$NAME-$h/archive?path=/home/ops" >/dev/null
  docker_api POST "/containers/$NAME-$h/start" >/dev/null
done
for n in 11 12 13; do
  for _ in $(seq 1 60); do host_ssh "$SUBNET.$n" true 2>/dev/null && break; sleep 1; done
  host_ssh "$SUBNET.$n" true || fail "$SUBNET.$n does not answer SSH as ops"
done
for n in 11 12 13; do
  host_ssh "$SUBNET.$n" 'dpkg-query -W patroni etcd-server haproxy 2>/dev/null | grep -q .' &&
    fail "$SUBNET.$n has pgha's packages before pgha ran"
done

log "db1: Debian's stock postgresql-$PGV, installed and running (with only its default databases)"
host_ssh "$SUBNET.11" "sudo apt-get -q update >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-$PGV >/dev/null" \
  || fail "cannot install postgresql-$PGV on db1"
host_ssh "$SUBNET.11" "systemctl is-active -q postgresql@$PGV-main" || fail "the stock cluster does not run on db1"

cat >"$INV" <<EOF
cluster:
  name: $NAME
  postgres_version: $PGV
provider:
  type: static
  static:
    user: ops
    ssh_key: $WORK/ops_key
defaults:
  os: $OS
  roles: [etcd, patroni, haproxy, keepalived, pgbouncer]
nodes:
  - name: db1
    address: $SUBNET.11
  - name: db2
    address: $SUBNET.12
  - name: db3
    address: $SUBNET.13
network:
  subnet: $SUBNET.0/24
  vip: $SUBNET.100
  interface: eth0
patroni:
  profile: fast
replication:
  mode: sync
users:
  - name: app
    options: [LOGIN]
databases:
  - name: app
    owner: app
EOF

log "up as ops through sudo on hosts without pgha's packages"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" -q >"$WORK/up.log" 2>&1 || { tail -40 "$WORK/up.log" >&2; fail "up failed"; }
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status.json" || { cat "$WORK/status.json" >&2; fail "status not healthy after up"; }
expect_healthy "$WORK/status.json" || fail "status after up"
host_ssh "$SUBNET.11" "[ ! -d /etc/postgresql/$PGV/main ] && ! systemctl is-active -q postgresql@$PGV-main" \
  || fail "db1's stock cluster (no databases of its own) was not replaced"
APP_PW=$(secret "$STATE" user:app)
psql_at "$SUBNET.100" 5000 app "$APP_PW" app "CREATE TABLE IF NOT EXISTS e2e (id int primary key)"
psql_at "$SUBNET.100" 5000 app "$APP_PW" app "INSERT INTO e2e VALUES (1) ON CONFLICT DO NOTHING"

log "a second up changes nothing"
"$PGHA" plan -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/noop.json" || fail "plan after up failed"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["changes"] == [], j["changes"]' "$WORK/noop.json" \
  || fail "the cluster is not converged after up"

check() {
  local fault=$1
  log "check failover --fault $fault"
  local rc=0
  "$PGHA" check failover -i "$INV" --state-dir "$STATE_ROOT" --fault "$fault" -o json \
    >"$WORK/$fault.json" 2>"$WORK/$fault.log" || rc=$?
  cat "$WORK/$fault.log" >&2
  python3 -m json.tool "$WORK/$fault.json" >&2 || true
  [ $rc = 0 ] || fail "check failover --fault $fault exited $rc"
  python3 - "$WORK/$fault.json" <<'PY' || fail "check failover --fault $fault: see above"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["pass"] is True and j["lost_writes"] == 0, j
r = j["runs"][0]
assert r["old_primary"] != r["new_primary"] and r["max_primaries"] == 1 and r["rejoined"] is True, r
PY
}
check stop-patroni
check partition
host_ssh "$SUBNET.11" 'sudo nft list tables' | grep -q pgha_partition && fail "the partition's nftables table stayed on db1"
host_ssh "$SUBNET.12" 'sudo nft list tables' | grep -q pgha_partition && fail "the partition's nftables table stayed on db2"

log "down: pgha's services and files go, the hosts and their data stay"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log" >&2; fail "down failed"; }
cat "$WORK/down.log" >&2
for h in "${HOSTS[@]}"; do
  running=$(docker_api GET "/containers/$NAME-$h/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["State"]["Running"])')
  [ "$running" = True ] || fail "$h is not running after down"
done
for n in 11 12 13; do
  host_ssh "$SUBNET.$n" "sudo sh -s $PGV $NAME" <<'SH' || fail "$SUBNET.$n still has pgha on it after down"
for u in patroni etcd haproxy keepalived pgbouncer; do
  systemctl is-active -q $u && { echo "$u still active"; exit 1; }
  [ "$(systemctl is-enabled $u 2>/dev/null)" = enabled ] && { echo "$u still enabled"; exit 1; }
done
for f in /etc/patroni/config.yml /etc/default/etcd /etc/haproxy/haproxy.cfg /etc/keepalived/keepalived.conf /var/lib/pgha; do
  [ -e $f ] && { echo "$f still there"; exit 1; }
done
[ -d "/var/lib/postgresql/$1/$2/base" ] || { echo "the data directory is gone"; exit 1; }
SH
done

log "a stock cluster that holds a user database: up refuses, naming it, and changes nothing"
host_ssh "$SUBNET.11" "sudo pg_createcluster $PGV main --start >/dev/null && sudo runuser -u postgres -- createdb shop" \
  || fail "cannot make db1's stock cluster"
before=$(host_ssh "$SUBNET.11" "sudo sh -c 'ls /etc/patroni /etc/default 2>/dev/null; systemctl is-active postgresql@$PGV-main'")
rc=0
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/refused.log" 2>&1 || rc=$?
cat "$WORK/refused.log" >&2
[ $rc = 2 ] || fail "up with a stock cluster in use exited $rc, not 2"
grep -q "db1.*$PGV/main.*shop.*--adopt-stock-cluster" "$WORK/refused.log" || fail "the refusal does not name db1, $PGV/main, shop and --adopt-stock-cluster"
after=$(host_ssh "$SUBNET.11" "sudo sh -c 'ls /etc/patroni /etc/default 2>/dev/null; systemctl is-active postgresql@$PGV-main'")
[ "$before" = "$after" ] || fail "the refused up changed db1: before [$before] after [$after]"
host_ssh "$SUBNET.11" 'sudo runuser -u postgres -- psql -Atc "select 1" shop' | grep -q 1 || fail "the shop database is gone"
"$PGHA" plan -i "$INV" --state-dir "$STATE_ROOT" --adopt-stock-cluster >"$WORK/adopt.log" 2>&1 \
  || { cat "$WORK/adopt.log" >&2; fail "plan --adopt-stock-cluster refused"; }
grep -q "stopped and disabled" "$WORK/adopt.log" || { cat "$WORK/adopt.log" >&2; fail "plan --adopt-stock-cluster does not warn"; }

log "static hosts ($SUITE): ok"
