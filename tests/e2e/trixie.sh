#!/usr/bin/env bash
# The Debian 13 leg: inventories/docker-trixie.yml (3 nodes, pgha-node:trixie from debian:trixie
# made with debootstrap, PostgreSQL 17, Patroni 4, etcd 3.5, pgvector from Debian's package).
#   up (which says why Patroni 4 gets no leader-key fix) -> the versions on the nodes -> a plan after
#   it shows no changes -> a vector column and an HNSW index, queried on a replica through the read
#   port (the index used) -> check failover --fault kill-node and --fault partition, with the
#   independent probe of tests/e2e/failover.sh -> switchover -> down removes every resource.
# The scaling, backup/restore and static-host scenarios run on Debian 12 only (README, "Tested
# versions").
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"

INV=inventories/docker-trixie.yml
WORK=$(mktemp -d /tmp/pgha-e2e-trixie.XXXXXX)
STATE_ROOT=$WORK/state
STATE=$STATE_ROOT/pgha-trixie
LABEL=pgha.cluster=pgha-trixie
cleanup() {
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log "removing leftovers of an earlier run"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true

log "up on Debian 13"
"$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" >"$WORK/up.log" 2>&1 || { tail -40 "$WORK/up.log" >&2; fail "up failed"; }
grep -q "compare-and-sets its etcd3 leader key itself" "$WORK/up.log" ||
  { tail -40 "$WORK/up.log" >&2; fail "up does not say why Patroni 4 gets no leader-key fix"; }
"$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/status.json" || { cat "$WORK/status.json" >&2; fail "status not healthy"; }
expect_healthy "$WORK/status.json" || fail "status after up"

log "the versions on the nodes"
versions=$(node_ssh "$STATE" 10.66.0.11 'cat /etc/debian_version; /usr/lib/postgresql/17/bin/postgres --version; patroni --version; etcd --version | head -1; dpkg-query -W haproxy pgbouncer pgbackrest keepalived postgresql-17-pgvector')
printf '%s\n' "$versions" >&2
grep -q '^13\.' <<<"$versions" || fail "not Debian 13"
grep -q 'PostgreSQL) 17\.' <<<"$versions" || fail "not PostgreSQL 17"
grep -q '^patroni 4\.' <<<"$versions" || fail "not Patroni 4"
grep -q 'etcd Version: 3\.5\.' <<<"$versions" || fail "not etcd 3.5"

log "a plan after up shows no changes"
"$PGHA" plan -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/noop.json" || fail "plan after up failed"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["changes"] == [], j["changes"]' "$WORK/noop.json" ||
  fail "the cluster is not converged after up"

log "pgvector: a vector column and an HNSW index, queried on a replica"
APP_PW=$(secret "$STATE" user:app)
psql_at 10.66.0.100 5000 app "$APP_PW" app "CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))"
psql_at 10.66.0.100 5000 app "$APP_PW" app \
  "INSERT INTO items SELECT i, ARRAY[i, i * 2, i * 3]::vector FROM generate_series(1, 1000) i"
psql_at 10.66.0.100 5000 app "$APP_PW" app "CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)"
ok=
for _ in $(seq 1 30); do
  out=$(psql_at 10.66.0.100 5001 app "$APP_PW" app \
    "SET enable_seqscan = off; SELECT pg_is_in_recovery(), (SELECT id FROM items ORDER BY embedding <-> '[10,20,30]' LIMIT 1)" 2>/dev/null || true)
  [ "$out" = "t|10" ] && { ok=1; break; }
  sleep 1
done
[ -n "$ok" ] || fail "the nearest neighbour was not found on a replica (got '$out')"
plan=$(psql_at 10.66.0.100 5001 app "$APP_PW" app \
  "SET enable_seqscan = off; EXPLAIN SELECT id FROM items ORDER BY embedding <-> '[10,20,30]' LIMIT 1")
grep -q "items_hnsw" <<<"$plan" || { printf '%s\n' "$plan" >&2; fail "the replica's plan does not use the HNSW index"; }

log "failover: kill-node and partition (tests/e2e/failover.sh on this cluster)"
PGHA_FAILOVER_INVENTORY=$INV PGHA_FAILOVER_STATE_ROOT=$STATE_ROOT PGHA_FAILOVER_REUSE=1 PGHA_FAILOVER_KEEP=1 \
  bash tests/e2e/failover.sh || fail "failover on Debian 13"

log "switchover"
before=$("$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json | python3 -c 'import json,sys; print(next(m["member"] for m in json.load(sys.stdin)["members"] if m["role"] in ("leader","primary")))')
"$PGHA" switchover -i "$INV" --state-dir "$STATE_ROOT" -o json >"$WORK/sw.json" 2>"$WORK/sw.log" ||
  { cat "$WORK/sw.log" >&2; fail "switchover failed"; }
after=$("$PGHA" status -i "$INV" --state-dir "$STATE_ROOT" -o json | python3 -c 'import json,sys; print(next(m["member"] for m in json.load(sys.stdin)["members"] if m["role"] in ("leader","primary")))')
[ "$before" != "$after" ] || fail "switchover left $before the leader"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["pass"] is True and j["lost_writes"] == 0, j' "$WORK/sw.json" ||
  fail "switchover report"
log "switchover: $before -> $after"

log "down"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q
for kind in containers networks volumes; do
  n=$(count_labelled "$kind" "$LABEL")
  [ "$n" = 0 ] || fail "$n $kind of the cluster left after down"
done
log "Debian 13: ok"
