# Shared helpers for the end-to-end scenarios. Sourced, not run.
# Needs: PGHA (the binary), PGHA_SOURCE_DIR; a running Docker engine (scripts/ensure-docker.sh).

SOCK=${PGHA_DOCKER_SOCK:-/var/run/docker.sock}
log() { printf '%s e2e: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# docker_api METHOD PATH [JSON]: the Engine API through its socket (the tests' own independent view).
docker_api() {
  local method=$1 path=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -sS --unix-socket "$SOCK" -X "$method" -H 'Content-Type: application/json' -d "$body" "http://localhost/v1.41$path"
  else
    curl -sS --unix-socket "$SOCK" -X "$method" "http://localhost/v1.41$path"
  fi
}

# count_labelled KIND LABEL: how many containers|networks|volumes carry the label.
count_labelled() {
  local kind=$1 label=$2 filters
  filters=$(python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.dumps({"label":[sys.argv[1]]})))' "$label")
  case $kind in
    containers) docker_api GET "/containers/json?all=1&filters=$filters" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' ;;
    networks) docker_api GET "/networks?filters=$filters" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' ;;
    volumes) docker_api GET "/volumes?filters=$filters" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Volumes"] or []))' ;;
  esac
}

# secret STATE_DIR KEY: a generated secret from the state directory.
secret() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/secrets.json" "$2"; }

# psql_at HOST PORT USER PASSWORD DB SQL: one query over TCP, password through the environment of
# this process only.
psql_at() {
  PGPASSWORD=$4 PGCONNECT_TIMEOUT=5 psql -X -q -tA -v ON_ERROR_STOP=1 -h "$1" -p "$2" -U "$3" -d "$5" -c "$6"
}

# node_ssh STATE_DIR ADDRESS COMMAND...: OpenSSH with the cluster key and pgha's known_hosts, strict,
# which also proves that pgha's known_hosts file is one OpenSSH agrees with.
node_ssh() {
  local state=$1 addr=$2; shift 2
  ssh -q -i "$state/id_ed25519" -o UserKnownHostsFile="$state/known_hosts" -o StrictHostKeyChecking=yes \
      -o BatchMode=yes -o ConnectTimeout=10 "root@$addr" "$@"
}
