#!/usr/bin/env bash
# The floor for adding a node to a running cluster (bench/scale_add.sh): what the join fundamentally
# costs without pgha. Against a running cluster's primary, by hand, in a bare container of the node
# image on the cluster's network:
#   1. create and start the container (Engine API; `sleep infinity` as PID 1: no systemd, no sshd,
#      no etcd, no Patroni, no other role);
#   2. copy the primary: `pg_basebackup -X stream -c fast -R` (what Patroni's `basebackup` replica
#      method with `checkpoint: fast` runs), as the replication user, into the same data directory
#      path pgha's nodes use (so the copied postgresql.conf's hba_file/ident_file resolve);
#   3. start postgres on the copy as a standby (`pg_ctl start`; the primary_conninfo and standby.signal
#      are the ones -R wrote) and wait until the primary's pg_stat_replication shows it `streaming`:
#      the condition pgha's Patroni gate waits for on a new member.
# Patroni itself is not run here: a Patroni with the cluster's scope would join the cluster (a 4th
# member, a slot, a sync-standby candidate), which is exactly what is measured on pgha's side, and a
# Patroni with a scope of its own would bootstrap a new cluster instead of a replica. So the floor is
# the copy and the replica's start; Patroni's own start-up (a Python process, its first loop, its
# member key) is counted on pgha's side, as are SSH, systemd, etcd's learner join and the files.
#
#   PGHA_REPL_PASSWORD=... PGHA_SUPER_PASSWORD=... bench/scale_floor.sh NETWORK PRIMARY FLOOR_IP DATA_DIR
# prints one line on stdout: "TOTAL CONTAINER COPY STREAM" seconds (TOTAL = the sum, from the
# container's creation until streaming); progress on stderr. Passwords only through the environment
# (the Engine API request body goes through curl's stdin, not its argv). The container is labelled
# pgha.bench=scale-floor and removed on exit, also on failure. Not a test: run by scale_add.sh or by hand.
set -euo pipefail
SOCK=${PGHA_DOCKER_SOCK:-/var/run/docker.sock}
IMAGE=${IMAGE:-pgha-node:bookworm}
TIMEOUT=${FLOOR_TIMEOUT:-300}
[ $# = 4 ] || { echo "usage: $0 NETWORK PRIMARY FLOOR_IP DATA_DIR" >&2; exit 2; }
NET=$1 PRIMARY=$2 FLOOR_IP=$3 DATA_DIR=$4
: "${PGHA_REPL_PASSWORD:?}" "${PGHA_SUPER_PASSWORD:?}"
NAME=pgha-bench-scale-floor
LABEL=pgha.bench=scale-floor
. "$(dirname "$0")/lib.sh"
log() { printf '%s scale_floor: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# exec_in SCRIPT: run SCRIPT with sh -c in the floor container as root, PGPASSWORD (the replication
# password) in its environment only; its output goes to stderr; returns its exit code.
exec_in() {
  local body id rc
  body=$(python3 -c '
import json, os, sys
print(json.dumps({"Cmd": ["sh", "-c", sys.argv[1]], "Env": ["PGPASSWORD=" + os.environ["PGHA_REPL_PASSWORD"]],
                  "AttachStdout": True, "AttachStderr": True, "Tty": True}))' "$1")
  id=$(api -X POST "http://localhost/v1.41/containers/$NAME/exec" --data-binary @- <<<"$body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
  api -X POST "http://localhost/v1.41/exec/$id/start" -d '{"Detach":false,"Tty":true}' >&2
  rc=$(api "http://localhost/v1.41/exec/$id/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ExitCode"])')
  return "$rc"
}

trap 'rc=$?; [ $rc -eq 0 ] || exec_in "tail -20 /tmp/floor.log" || true; remove_labelled "$LABEL"; exit $rc' EXIT
trap 'exit 130' INT TERM
remove_labelled "$LABEL"  # what an interrupted earlier run left behind

t0=$(now)
# Like a pgha node, the data lives on a volume (anonymous here, removed with the container).
api -X POST "http://localhost/v1.41/containers/create?name=$NAME" --data-binary @- >/dev/null <<EOF
{"Image":"$IMAGE","Hostname":"floor","Labels":{"pgha.bench":"scale-floor"},
 "Entrypoint":["/bin/sleep","infinity"],"Cmd":[],"StopSignal":"SIGKILL",
 "Volumes":{"/var/lib/postgresql":{}},
 "HostConfig":{"NetworkMode":"$NET","Tmpfs":{"/run":"rw,exec,mode=755"}},
 "NetworkingConfig":{"EndpointsConfig":{"$NET":{"IPAMConfig":{"IPv4Address":"$FLOOR_IP"}}}}}
EOF
api -X POST "http://localhost/v1.41/containers/$NAME/start" >/dev/null
t1=$(now)

exec_in "set -e
install -d -o postgres -g postgres -m 2775 /var/run/postgresql
runuser -u postgres -- pg_basebackup -D '$DATA_DIR' -X stream -c fast -R \
  -d 'host=$PRIMARY port=5432 user=replicator application_name=pgha_floor'" ||
  { log "pg_basebackup failed"; exit 1; }
t2=$(now)

# -W: do not wait for pg_ctl's own readiness check; the primary's view below is the condition.
exec_in "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D '$DATA_DIR' -l /tmp/floor.log -W \
  -o '-c listen_addresses=$FLOOR_IP -c cluster_name=pgha_floor' start" ||
  { log "pg_ctl start failed"; exit 1; }
# One session polls the primary's pg_stat_replication every 50 ms; pg_stat_clear_snapshot() drops the
# backend-status snapshot the view joins (otherwise cached for the whole DO block's transaction).
PGPASSWORD=$PGHA_SUPER_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -q -tA -v ON_ERROR_STOP=1 -h "$PRIMARY" -U postgres -d postgres \
  -c "SET statement_timeout = '${TIMEOUT}s'" -c "DO \$\$ BEGIN
        WHILE NOT EXISTS (SELECT 1 FROM pg_stat_replication WHERE application_name = 'pgha_floor' AND state = 'streaming')
        LOOP PERFORM pg_sleep(0.05); PERFORM pg_stat_clear_snapshot(); END LOOP; END \$\$" >&2 ||
  { log "the standby did not stream within ${TIMEOUT} s"; exit 1; }
t3=$(now)
[ -z "${FLOOR_DEBUG:-}" ] || exec_in "cat /tmp/floor.log" || true
python3 -c "print(f'{$t3 - $t0:.2f} {$t1 - $t0:.2f} {$t2 - $t1:.2f} {$t3 - $t2:.2f}')"
