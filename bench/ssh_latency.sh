#!/usr/bin/env bash
# Per-command latency of pgha's SshShell against its floor, OpenSSH's client on a multiplexed
# connection (ControlMaster), both running `true` N times per round on one connection to the same
# host, rounds alternating between the two (issue 10, item 2; target: pgha within 2x of OpenSSH).
#   bench/ssh_latency.sh [N] [ROUNDS]        (default 20 commands, 5 rounds)
# Environment: SSH_BENCH (default build/bench/ssh_bench: the C++ side, bench/ssh_bench.cpp),
#   LOCAL=0 skips the second target (this host's sshd, root's login shell) that shows where the
#   time of the former unit-test bound went; LOCAL_N (default 5) commands per round there.
# The node: one container of pgha's node image (systemd as PID 1, sshd, created as pgha's docker
# provider creates it, key installed the way pgha installs it) on its own network 10.55.0.0/24,
# labelled pgha.bench=sshbench; everything it creates is removed on exit, also on failure.
# Talks to the engine only through its API. Not a test: run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
ROUNDS=${2:-5}
SSH_BENCH=${SSH_BENCH:-build/bench/ssh_bench}
LOCAL=${LOCAL:-1}
LOCAL_N=${LOCAL_N:-5}
SOCK=${PGHA_DOCKER_SOCK:-/var/run/docker.sock}
IMAGE=${IMAGE:-pgha-node:bookworm}
NET=pgha-sshbench
ADDR=10.55.0.11
LABEL=pgha.bench=sshbench
WORK=$(mktemp -d /tmp/pgha-sshbench.XXXXXX)

log() { printf '%s ssh_latency: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
. "$(dirname "$0")/lib.sh"
cleanup() {
  for cm in "$WORK"/cm-*; do [ -S "$cm" ] && ssh -o ControlPath="$cm" -O exit x >/dev/null 2>&1 || true; done
  [ -f "$WORK/sshd.pid" ] && kill "$(cat "$WORK/sshd.pid")" 2>/dev/null || true
  remove_labelled "$LABEL"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$SSH_BENCH" ] || { log "$SSH_BENCH missing: cmake --build build --target ssh_bench"; exit 1; }
api "http://localhost/v1.41/images/$IMAGE/json" >/dev/null ||
  { log "image $IMAGE is missing: run \`pgha up\` once to build it"; exit 1; }
remove_labelled "$LABEL"
ssh-keygen -q -t ed25519 -N '' -C pgha-sshbench -f "$WORK/id_ed25519"

# OPENSSH_ROUND KEY KNOWN_HOSTS CONTROL_PATH PORT ADDRESS: ms per command over the master connection.
openssh_round() {
  local o=(-q -i "$1" -o UserKnownHostsFile="$2" -o StrictHostKeyChecking=yes -o BatchMode=yes
    -o ControlMaster=auto -o ControlPath="$3" -o ControlPersist=60 -p "$4" "root@$5")
  ssh "${o[@]}" true  # the master: made (once) before the clock starts, like SshShell's connection
  local t0 t1 i
  t0=$(now)
  for ((i = 0; i < N; i++)); do ssh "${o[@]}" true; done
  t1=$(now)
  python3 -c "print(f'{($t1 - $t0) * 1000 / $N:.2f}')"
}
# PGHA_ROUND KEY KNOWN_HOSTS PORT ADDRESS: ms per command over one SshShell connection.
pgha_round() {
  "$SSH_BENCH" --address "$4" --port "$3" --key "$1" --known-hosts "$2" -n "$N" --rounds 1 |
    awk '/^median_ms_per_command/ {print $2}'
}

# MEASURE LABEL KEY KNOWN_HOSTS PORT ADDRESS: alternating rounds; one table row.
ROWS=()
measure() {
  local label="$1 ($ROUNDS rounds of $N)" key=$2 kh=$3 port=$4 addr=$5 p=() s=() r a b
  for ((r = 1; r <= ROUNDS; r++)); do
    a=$(pgha_round "$key" "$kh" "$port" "$addr")  # first: its TOFU records the host key OpenSSH then checks
    b=$(openssh_round "$key" "$kh" "$WORK/cm-$port" "$port" "$addr")
    p+=("$a"); s+=("$b")
    log "$label round $r: pgha $a ms, OpenSSH $b ms per command"
  done
  a=$(median "${p[@]}"); b=$(median "${s[@]}")
  ROWS+=("| $label | $a | $b | $(python3 -c "print(f'{$a / $b:.2f}')") |")
}

# The node container, as the docker provider makes it (providers/docker/docker_spec.cpp).
api -X POST http://localhost/v1.41/networks/create -d "{\"Name\":\"$NET\",\"CheckDuplicate\":true,
  \"IPAM\":{\"Config\":[{\"Subnet\":\"10.55.0.0/24\",\"Gateway\":\"10.55.0.1\"}]},\"Labels\":{\"pgha.bench\":\"sshbench\"}}" >/dev/null
api -X POST "http://localhost/v1.41/containers/create?name=pgha-sshbench-1" -d "{\"Image\":\"$IMAGE\",
  \"Hostname\":\"node1\",\"Labels\":{\"pgha.bench\":\"sshbench\"},\"Cmd\":[\"/sbin/init\"],\"StopSignal\":\"SIGRTMIN+3\",
  \"HostConfig\":{\"NetworkMode\":\"$NET\",\"CapAdd\":[\"SYS_ADMIN\",\"NET_ADMIN\",\"NET_RAW\"],
    \"Tmpfs\":{\"/run\":\"rw,exec,mode=755\",\"/run/lock\":\"rw\"},\"Binds\":[\"/sys/fs/cgroup:/sys/fs/cgroup:ro\"]},
  \"NetworkingConfig\":{\"EndpointsConfig\":{\"$NET\":{\"IPAMConfig\":{\"IPv4Address\":\"$ADDR\"}}}}}" >/dev/null
mkdir -p "$WORK/tar/root/.ssh" && chmod 700 "$WORK/tar/root/.ssh"
install -m 0600 "$WORK/id_ed25519.pub" "$WORK/tar/root/.ssh/authorized_keys"
tar -C "$WORK/tar" --owner=0 --group=0 -cf "$WORK/keys.tar" root
curl -fsS --unix-socket "$SOCK" -X PUT -H 'Content-Type: application/x-tar' --data-binary "@$WORK/keys.tar" \
  "http://localhost/v1.41/containers/pgha-sshbench-1/archive?path=/" >/dev/null
api -X POST http://localhost/v1.41/containers/pgha-sshbench-1/start >/dev/null
log "waiting for sshd on $ADDR"
for ((i = 0; i < 600; i++)); do
  timeout 1 bash -c "exec 3<>/dev/tcp/$ADDR/22 && head -c 4 <&3" 2>/dev/null | grep -q SSH && break
  sleep 0.1
done
: >"$WORK/known_hosts"
measure "node container $ADDR (Debian's root .bashrc)" "$WORK/id_ed25519" "$WORK/known_hosts" 22 "$ADDR"

# This host's sshd (as tests/unit/ssh_shell_test.cpp starts it): commands run through root's login
# shell, whose startup here is what the former unit-test bound measured.
if [ "$LOCAL" = 1 ] && [ "$(id -u)" = 0 ] && [ -x /usr/sbin/sshd ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
  cp "$WORK/id_ed25519.pub" "$WORK/authorized_keys"
  cat >"$WORK/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $WORK/host_key
AuthorizedKeysFile $WORK/authorized_keys
PidFile $WORK/sshd.pid
StrictModes no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
EOF
  mkdir -p /run/sshd
  /usr/sbin/sshd -f "$WORK/sshd_config"
  for ((i = 0; i < 50; i++)); do [ -s "$WORK/sshd.pid" ] && break; sleep 0.1; done
  : >"$WORK/known_hosts.local"
  N=$LOCAL_N measure "this host's sshd (root's login shell: $(getent passwd root | cut -d: -f7))" \
    "$WORK/id_ed25519" "$WORK/known_hosts.local" "$port" 127.0.0.1
  # The cause, without SSH: sshd runs `SHELL -c CMD`; Debian's bash sources ~/.bashrc when SSH_CLIENT
  # is set (SSH_SOURCE_BASHRC), and root's .bashrc here may be heavy.
  shell=$(getent passwd root | cut -d: -f7)
  with=(); without=()
  for ((r = 0; r < 5; r++)); do
    t0=$(now); env -i SSH_CLIENT='127.0.0.1 1 22' HOME=/root PATH=/usr/bin:/bin "$shell" -c true; t1=$(now)
    with+=("$(python3 -c "print(($t1 - $t0) * 1000)")")
    t0=$(now); env -i HOME=/root PATH=/usr/bin:/bin "$shell" -c true; t1=$(now)
    without+=("$(python3 -c "print(($t1 - $t0) * 1000)")")
  done
  CAUSE="root's login shell \`$shell -c true\` on this host, median of 5: $(median "${with[@]}") ms with SSH_CLIENT set (as under sshd: ~/.bashrc is sourced), $(median "${without[@]}") ms without"
fi

echo "| target (rounds of N \`true\`, median) | pgha SshShell ms/command | OpenSSH ControlMaster ms/command | pgha / OpenSSH |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
[ -z "${CAUSE:-}" ] || { echo; echo "$CAUSE"; }
