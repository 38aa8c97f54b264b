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

# expect_healthy STATUS_JSON: `pgha status -o json` of a healthy 3-node cluster: 3 members, one
# leader, 3 healthy etcd members, a VIP holder.
expect_healthy() {
  python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert len(s["members"]) == 3, s["members"]
assert sum(m["role"] in ("leader", "primary") for m in s["members"]) == 1, s["members"]
assert len(s["etcd"]) == 3 and all(e["healthy"] for e in s["etcd"]), s["etcd"]
assert s["vip"]["holder"] is not None, s["vip"]
PY
}

# e2e_os DEBIAN12_NET TRIXIE_NET NAME: the node OS a scenario runs on (PGHA_E2E_OS: debian12, the
# default, or debian13) as shell variables: BASE_INV (the example inventory it derives from),
# BASE_NAME and BASE_NET (that inventory's cluster name and /24 prefix), NET (the scenario's own
# prefix), CLUSTER (NAME, suffixed -trixie on Debian 13) and PGV (PostgreSQL's major version).
# derive_inventory: BASE_INV renamed to CLUSTER and moved to NET, on stdout.
e2e_os() {
  case ${PGHA_E2E_OS:-debian12} in
    debian12) BASE_INV=inventories/docker-local.yml BASE_NAME=pgha-local BASE_NET=10.42.0 NET=$1 CLUSTER=$3 PGV=15 ;;
    debian13) BASE_INV=inventories/docker-trixie.yml BASE_NAME=pgha-trixie BASE_NET=10.66.0 NET=$2 CLUSTER=$3-trixie PGV=17 ;;
    *) fail "PGHA_E2E_OS: debian12 or debian13, not $PGHA_E2E_OS" ;;
  esac
}
derive_inventory() {
  sed -e "s/^  name: $BASE_NAME\$/  name: $CLUSTER/" -e "s/${BASE_NET//./\\.}\\./$NET./g" "$BASE_INV"
}
