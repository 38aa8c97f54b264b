#!/usr/bin/env bash
# Runs the composite action (action.yml) locally the way the Actions runner would
# (tests/e2e/lib/action.sh), then checks what it wrote.
# Fast cases use `validate` (a bad inventory for the file:line annotation, a ${VAR} secret for
# ::add-mask::) and `plan` with a bad `instances` map (exit 2, annotated at the map's FILE:LINE:COL).
# Then, on Docker (PGHA_ACTION_FULL=0 skips these):
#  - the action's build step in a plain debian:bookworm container that has only what
#    `install-deps.sh --build-only` installs (no daemon, no Docker): the pgha target alone, unoptimised,
#    with a ccache and apt's downloads kept under /var/cache/pgha-e2e-action between runs;
#  - with that binary, on a copy of the default inventory with its own name, subnet (pgha-action,
#    10.46.0.0/24) and images (base pgha-action/debian:bookworm, node pgha-action-node:bookworm, both
#    removed first, so no other test's cached image is touched): command=plan (the summary shows the
#    plan; with an `instances` map, the plan JSON names the map's new node), then command=all (up,
#    check failover, down), where pgha must find the base image missing, fail to pull it (no
#    registry here) and make it with debootstrap, and say so.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"
WORK=$(mktemp -d /tmp/pgha-action.XXXXXX)
BASE_IMAGE=pgha-action/debian:bookworm NODE_IMAGE=pgha-action-node:bookworm
cleanup() {
  [ -n "${FULL_INV:-}" ] && "$PGHA" down -i "$FULL_INV" --state-dir "$WORK/full/state" -q >/dev/null 2>&1
  docker_api DELETE "/containers/pgha-action-build?force=1" >/dev/null 2>&1
  if [ -n "${FULL_INV:-}" ]; then
    docker_api DELETE "/images/$NODE_IMAGE?force=1" >/dev/null 2>&1
    docker_api DELETE "/images/$BASE_IMAGE?force=1" >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/lib/action.sh"

log "bad inventory: validate fails with an annotation at the offending line"
run_action bad inventory=tests/data/bad-inventories/03-dup-node.yml command=validate pgha-binary="$PGHA"
[ "$(cat "$WORK/bad/rc")" != 0 ] || fail "the action succeeded on a bad inventory"
grep -qxF "::error file=tests/data/bad-inventories/03-dup-node.yml,line=10,col=11::duplicate node name 'pg1' (also nodes[0])" \
  "$WORK/bad/stdout" || { cat "$WORK/bad/stdout" >&2; fail "no file/line annotation for the duplicate node"; }
[ "$(out bad result)" = failure ] || fail "result output is not failure"
grep -q '| validate | \*\*failed\*\* (exit 2) |' "$WORK/bad/summary" || { cat "$WORK/bad/summary" >&2; fail "summary lacks the failed step"; }
grep -q "duplicate node name 'pg1'" "$WORK/bad/summary" || fail "summary lacks the error text"
grep -qxF "pgha=$PGHA" "$WORK/bad/step1.output" || fail "the build step did not name the binary in its output"
! grep -q '^undeclared:' "$WORK/bad/output" || fail "undeclared outputs: $(grep '^undeclared:' "$WORK/bad/output")"

log "YAML syntax error: annotation with the parser's position"
run_action syntax inventory=tests/data/bad-inventories/01-yaml-syntax.yml command=validate pgha-binary="$PGHA"
grep -qE '^::error file=tests/data/bad-inventories/01-yaml-syntax.yml,line=8,col=9::YAML syntax error' "$WORK/syntax/stdout" \
  || { cat "$WORK/syntax/stdout" >&2; fail "no annotation for the YAML syntax error"; }

log "secrets from the environment are masked; a good inventory validates"
SECRET="s3cr3t-$RANDOM-$RANDOM"
sed 's/^replication:/secrets:\n  superuser_password: "${PGHA_ACTION_TEST_PW}"\nreplication:/' inventories/docker-local.yml >"$WORK/inv.yml"
grep -q 'PGHA_ACTION_TEST_PW' "$WORK/inv.yml" || fail "test inventory not written"
PGHA_ACTION_TEST_PW=$SECRET run_action good inventory="$WORK/inv.yml" command=validate pgha-binary="$PGHA"
[ "$(cat "$WORK/good/rc")" = 0 ] || { cat "$WORK/good/stderr" "$WORK/good/stdout" >&2; fail "validate of a good inventory failed"; }
grep -qxF "::add-mask::$SECRET" "$WORK/good/stdout" || fail "the inventory's \${PGHA_ACTION_TEST_PW} was not masked"
[ "$(grep -c -- "$SECRET" "$WORK/good/stdout")" = 1 ] || fail "the secret appears outside its add-mask line"
! grep -q -- "$SECRET" "$WORK/good/output" "$WORK/good/summary" "$WORK/good/stderr" || fail "the secret leaked into outputs"
[ "$(out good result)" = success ] || fail "result output is not success"
grep -q '| validate | ok |' "$WORK/good/summary" || fail "summary lacks the ok step"

log "bad instances map: plan fails with exit 2, annotated at the map's own FILE:LINE:COL"
run_action badinst inventory=inventories/docker-local.yml command=plan pgha-binary="$PGHA" \
  instances=$'{"pg1": {"ip_address": "10.42.0.11"},\n "pg2": {"ip_address": "10.42.0.12", "ram_mb": "lots"}}'
[ "$(cat "$WORK/badinst/rc")" = 2 ] || { cat "$WORK/badinst/stderr" >&2; fail "a bad instances map: exit $(cat "$WORK/badinst/rc"), not 2"; }
grep -qE '^::error file=[^,]*/instances\.json,line=2,col=48::expected an integer for instances\.pg2\.ram_mb$' \
  "$WORK/badinst/stdout" || { cat "$WORK/badinst/stdout" >&2; fail "no FILE:LINE:COL annotation in the instances map"; }
grep -qE '/instances\.json:2:48: error: expected an integer for instances\.pg2\.ram_mb$' "$WORK/badinst/summary" \
  || { cat "$WORK/badinst/summary" >&2; fail "summary lacks the instances map's error"; }
[ "$(out badinst result)" = failure ] || fail "result output is not failure"

log "unknown command is an error annotation"
run_action badcmd inventory=inventories/docker-local.yml command=explode pgha-binary="$PGHA"
[ "$(cat "$WORK/badcmd/rc")" != 0 ] && grep -q "^::error::unknown command 'explode'" "$WORK/badcmd/stdout" || fail "unknown command accepted"

if [ "${PGHA_ACTION_FULL:-1}" = 1 ]; then
  log "build: the action's build step in a plain debian:bookworm container (build dependencies only)"
  t0=$(date +%s)
  cache=/var/cache/pgha-e2e-action
  mkdir -p "$WORK/build" "$cache/ccache" "$cache/apt"
  docker_api DELETE "/containers/pgha-action-build?force=1" >/dev/null 2>&1 || true
  # The step as the runner would run it, then proof that no daemon came with the build dependencies.
  spec=$(python3 - "$PGHA_SOURCE_DIR" "$WORK/build" "$cache" <<'PY'
import json, sys
src, out, cache = sys.argv[1:]
step = ("rm -f /etc/apt/apt.conf.d/docker-clean && bash /src/scripts/action-build.sh && "
        "for p in docker.io docker-ce postgresql-15 patroni etcd-server haproxy keepalived pgbouncer; do "
        "if dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'ok installed'; then echo \"daemon package $p\"; exit 3; fi; done")
print(json.dumps({"Image": "debian:bookworm", "Cmd": ["bash", "-c", step],
  "Env": ["GITHUB_ACTION_PATH=/src", "GITHUB_OUTPUT=/out/output", "PGHA_BUILD_DIR=/out/build",
          "RUNNER_TEMP=/out", "CCACHE_DIR=/ccache", "DEBIAN_FRONTEND=noninteractive",
          # Unoptimised (CMake's None: no -O, no -g): a cold compile costs a fraction of Release's.
          "PGHA_BUILD_TYPE=None"],
  "Labels": {"pgha.cluster": "pgha-action"},
  "HostConfig": {"Binds": [src + ":/src:ro", out + ":/out", cache + "/ccache:/ccache",
                           cache + "/apt:/var/cache/apt/archives"]}}))
PY
)
  docker_api POST "/containers/create?name=pgha-action-build" "$spec" >/dev/null
  docker_api POST /containers/pgha-action-build/start >/dev/null
  code=$(curl -sS --unix-socket "$SOCK" -X POST http://localhost/v1.41/containers/pgha-action-build/wait |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["StatusCode"])')
  if [ "$code" != 0 ]; then
    docker_api GET "/containers/pgha-action-build/logs?stdout=1&stderr=1&tail=40" | tr -d '\000-\010' >&2
    fail "the build step failed in a plain debian:bookworm container (exit $code)"
  fi
  docker_api DELETE "/containers/pgha-action-build?force=1" >/dev/null
  grep -qxF "pgha=/out/build/pgha" "$WORK/build/output" || fail "the build step named no binary: $(cat "$WORK/build/output")"
  BUILT=$WORK/build/build/pgha
  "$BUILT" --help >/dev/null || fail "the binary the build step made does not run here"
  log "build: done in $(( $(date +%s) - t0 )) s"

  log "full: on Docker, cluster pgha-action (10.46.0.0/24), with the binary the build step made"
  mkdir -p "$WORK/full"
  FULL_INV=$WORK/full/docker-action.yml
  sed -e 's/^  name: pgha-local$/  name: pgha-action/' -e 's/10\.42\.0\./10.46.0./g' \
    -e "s|^    base_image: .*|    base_image: $BASE_IMAGE|" -e "s|^    image: .*|    image: $NODE_IMAGE|" \
    inventories/docker-local.yml >"$FULL_INV"
  grep -qF "$BASE_IMAGE" "$FULL_INV" && grep -qF "$NODE_IMAGE" "$FULL_INV" || fail "test inventory not written"
  "$PGHA" down -i "$FULL_INV" --state-dir "$WORK/full/state" -q >/dev/null 2>&1 || true
  docker_api DELETE "/images/$NODE_IMAGE?force=1" >/dev/null 2>&1 || true
  docker_api DELETE "/images/$BASE_IMAGE?force=1" >/dev/null 2>&1 || true
  [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "http://localhost/v1.41/images/$BASE_IMAGE/json")" = 404 ] \
    || fail "$BASE_IMAGE is still there"
  PGHA=$BUILT

  log "full: command=plan before up: the summary shows the plan, the plan output is its JSON"
  run_action plan inventory="$FULL_INV" command=plan state-dir="$WORK/full/state" pgha-binary="$PGHA"
  [ "$(cat "$WORK/plan/rc")" = 0 ] || { cat "$WORK/plan/stderr" >&2; fail "command=plan failed"; }
  grep -q '^### Plan$' "$WORK/plan/summary" && grep -q '^```' "$WORK/plan/summary" \
    || { cat "$WORK/plan/summary" >&2; fail "the summary has no plan in a code block"; }
  # plan_nodes NAME: which of pg1..pg4 the plan output's changes name, sorted, one line (cluster-wide
  # changes may name the cluster).
  plan_nodes() { out "$1" plan | python3 -c 'import json,sys; print(" ".join(sorted({c["node"] for c in json.load(sys.stdin)["changes"]} & {"pg1", "pg2", "pg3", "pg4"})))'; }
  [ "$(plan_nodes plan)" = "pg1 pg2 pg3" ] || fail "the plan of a new cluster names nodes '$(plan_nodes plan)', not pg1 pg2 pg3"

  log "full: command=plan with an instances map (pg3 replaced by pg4): the plan is the map's"
  run_action planinst inventory="$FULL_INV" command=plan state-dir="$WORK/full/state" pgha-binary="$PGHA" \
    instances='{"pg1": {"ip_address": "10.46.0.11"}, "pg2": {"ip_address": "10.46.0.12"}, "pg4": {"ip_address": "10.46.0.14"}}'
  [ "$(cat "$WORK/planinst/rc")" = 0 ] || { cat "$WORK/planinst/stderr" >&2; fail "command=plan with instances failed"; }
  [ "$(plan_nodes planinst)" = "pg1 pg2 pg4" ] || fail "the plan with instances names nodes '$(plan_nodes planinst)', not pg1 pg2 pg4"
  out planinst plan | python3 -c 'import json,sys
sys.exit(not any(c["node"] == "pg4" and "create" in c["kind"] for c in json.load(sys.stdin)["changes"]))' \
    || fail "no create change for pg4 in the plan: $(out planinst plan)"
  grep -q 'pg4' "$WORK/planinst/summary" || fail "the summary's plan does not mention pg4"
  log "full: command=all (up, check failover, down)"
  run_action full inventory="$FULL_INV" command=all fault=kill-node max-rto=120 \
    state-dir="$WORK/full/state" pgha-binary="$PGHA"
  cat "$WORK/full/summary" >&2
  [ "$(cat "$WORK/full/rc")" = 0 ] || { tail -40 "$WORK/full/stderr" >&2; fail "command=all failed"; }
  [ "$(out full write-endpoint)" = 10.46.0.100:5000 ] || fail "write-endpoint output: $(out full write-endpoint)"
  [ "$(out full lost-writes)" = 0 ] || fail "lost-writes output: $(out full lost-writes)"
  [ -n "$(out full rto)" ] || fail "no rto output"
  grep -q '^::add-mask::' "$WORK/full/stdout" || fail "generated secrets were not masked"
  grep -q '| down | ok |' "$WORK/full/summary" || fail "down did not run"
  grep -qF "base image $BASE_IMAGE is missing: pulling it" "$WORK/full/stderr" || fail "pgha did not try to pull the missing base image"
  grep -qF "pulling $BASE_IMAGE failed (" "$WORK/full/stderr" || fail "pgha did not say the pull failed"
  grep -qF "base image $BASE_IMAGE made with debootstrap and imported" "$WORK/full/stderr" \
    || fail "pgha did not say it made the base image with debootstrap"
  [[ "$(out full connection-uri)" == postgresql://*@10.46.0.100:5000/* ]] || fail "connection-uri output: $(out full connection-uri)"
  [ "$(out full check-pass)" = true ] || fail "check-pass output: $(out full check-pass)"
  junit=$(out full junit-path)
  [ -s "$junit" ] && grep -q '<testsuite' "$junit" || fail "junit-path output '$junit' is not a JUnit report"
  ! grep -q '^undeclared:' "$WORK/full/output" || fail "undeclared outputs: $(grep '^undeclared:' "$WORK/full/output")"
  # No generated password anywhere in what the action printed or published, outside its mask (`down`
  # removed the state directory: the passwords are those pgha masked as it generated them).
  masks=$(cat "$WORK/full/stdout" "$WORK/full/stderr" | sed -n 's/^::add-mask:://p' | sort -u)
  [ "$(grep -c . <<<"$masks")" -ge 3 ] || fail "pgha masked fewer than 3 generated passwords"
  while IFS= read -r pw; do
    if cat "$WORK/full/stdout" "$WORK/full/stderr" "$WORK/full/output" "$WORK/full/summary" | grep -v '^::add-mask::' |
      grep -qF -- "$pw"; then
      fail "a generated password leaked into the action's log, outputs or summary"
    fi
  done <<<"$masks"
fi
log "PASS"
