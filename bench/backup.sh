#!/usr/bin/env bash
# Benchmark of `pgha backup`, `pgha restore --latest` and `pgha check restore` with about 1 GB of data,
# each against a floor run by hand with pgBackRest in the same run, alternating (issue 15). Not a test:
# run by hand.
#   PGHA=build/pgha bench/backup.sh [--runs N] [--data-mb MB]    (default 3 runs, 1024 MB)
# Sets up once: `pgha up` of a copy of inventories/docker-local.yml (pgha-bkbench, 10.65.0.0/24; the
# backup settings are the defaults: gz, process-max 2, start-fast), then a table of DATA_MB through
# the VIP's write port, and waits until the archiver has caught up. Each run then does, alternating
# which side goes first (odd runs pgha first, even runs the floor first):
#   1. backup:  `pgha backup --type full` against the same `pgbackrest --stanza=S --type=full backup`
#      run by hand as postgres on the leader over OpenSSH (the options pgha passes; the rest comes from
#      the same pgbackrest.conf);
#   2. drill:   `pgha check restore` against, by hand, `pgbackrest check` on the leader, then on the
#      replica the drill uses: `pgbackrest restore` of the latest set into an empty scratch directory
#      (--type=default --archive-mode=off), PostgreSQL started on it on a unix socket until it has
#      replayed the archive and promoted, stopped (immediate) and removed;
#   3. restore: `pgha restore --latest --yes` against, by hand on the leader (where pgha restores):
#      `pgbackrest restore` of the latest set into an empty scratch directory beside the data
#      directory, PostgreSQL started on it until promoted, stopped cleanly, removed. That is what
#      pgha's `restore` stage does; the whole command also stops the cluster, clears the DCS, starts
#      the leader under Patroni, re-clones both replicas, checks archiving, takes a new full backup and
#      runs `up`'s gates, so the stage (from the progress lines) is reported beside the whole.
# Each floor is split into its pieces (the remote script's own clock). Prints a Markdown table of
# median (min-max) and the ratios; the raw JSON, progress lines and floor timings stay in the work
# directory, which is printed. `pgha down` runs on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3
DATA_MB=${DATA_MB:-1024}
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --data-mb) DATA_MB=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--data-mb MB]" >&2; exit 2 ;;
  esac
done
PGHA=${PGHA:-build/pgha}
WORK=$(mktemp -d /tmp/pgha-bench-backup.XXXXXX)
INV=$WORK/inventory.yml
STATE_ROOT=$WORK/state
CLUSTER=pgha-bkbench
STATE=$STATE_ROOT/$CLUSTER
NET=10.65.0
VIP=$NET.100
BIN=/usr/lib/postgresql/15/bin
log() { printf '%s backup-bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
node_ssh() {
  local addr=$1; shift
  ssh -q -i "$STATE/id_ed25519" -o UserKnownHostsFile="$STATE/known_hosts" -o StrictHostKeyChecking=yes \
      -o BatchMode=yes -o ConnectTimeout=10 "root@$addr" "$@"
}
addr_of() { echo "$NET.1${1#pg}"; }

[ -x "$PGHA" ] || { log "$PGHA is missing: build it, or set PGHA"; exit 1; }
sed -e "s/^\(  name:\) pgha-local$/\1 $CLUSTER/" -e "s/10\.42\.0\./$NET./g" inventories/docker-local.yml >"$INV"
grep -q "name: $CLUSTER" "$INV" && ! grep -q '10\.42\.' "$INV" ||
  { log "inventories/docker-local.yml changed shape: cannot derive the bench inventory"; exit 1; }
trap '"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true; log "work directory kept: $WORK"' EXIT
trap 'exit 130' INT TERM
P=(-i "$INV" --state-dir "$STATE_ROOT")

"$PGHA" down "${P[@]}" -q >/dev/null 2>&1 || true  # an interrupted earlier run
log "up ($WORK)"
"$PGHA" up "${P[@]}" -q >"$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log" >&2; exit 1; }
PW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["superuser_password"])' "$STATE/secrets.json")
sql() { PGPASSWORD=$PW psql -X -q -tA -v ON_ERROR_STOP=1 -h "$VIP" -p 5000 -U postgres -d postgres -c "$1"; }

# The leader's and the drill's nodes, from Patroni's /cluster (the drill takes the first replica in
# inventory order, as `pgha check restore` does).
leader() {
  curl -s --max-time 5 "http://$NET.11:8008/cluster" |
    python3 -c 'import json,sys; print([m["name"] for m in json.load(sys.stdin)["members"] if m["role"] == "leader"][0])'
}
first_replica() { for n in pg1 pg2 pg3; do [ "$n" = "$1" ] || { echo "$n"; return; }; done; }

# ~30 rows of 268 bytes (232 bytes of text, uncompressed, inline) a page: 3840 rows a MB.
ROWS=$((DATA_MB * 3840))
log "loading $ROWS rows (~$DATA_MB MB) through the VIP"
t0=$(now)
sql "CREATE TABLE big AS SELECT g, md5(g::text) || repeat('x', 200) AS v FROM generate_series(1, $ROWS) g" >/dev/null
sql "CHECKPOINT" >/dev/null
SEG=$(sql "SELECT pg_walfile_name(pg_switch_wal())")
for _ in $(seq 1 600); do
  [[ "$(sql "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" < "$SEG" ]] || break
  sleep 1
done
SIZES=$(sql "SELECT pg_size_pretty(pg_relation_size('big')) || ' table, ' || pg_size_pretty(sum(pg_database_size(datname))::bigint) || ' in all databases' FROM pg_database")
log "loaded in $(since "$t0") s: $SIZES; archived up to $SEG"

# floor_restore NODE DIR STOP_MODE: on NODE as postgres, `pgbackrest restore` of the latest set into
# an empty DIR, PostgreSQL on it (unix socket only) until promoted, stopped, removed. Prints
# "restore S", "recover S", "stop S", "remove S" (the node's own clock).
# The script travels base64-encoded in the command, not on stdin, so nothing it runs can read the
# rest of it, whatever the remote login shell.
FLOOR_RESTORE=$(cat <<'SH'
set -euo pipefail
cd /
S=$1 D=$2 MODE=$3 BIN=$4 R=$2-run
now() { date +%s.%N; }
pg() { runuser -u postgres -- "$@"; }
clean() { if [ -e "$D/postmaster.pid" ]; then pg "$BIN/pg_ctl" -D "$D" stop -m immediate -w -t 60 >/dev/null 2>&1 || true; fi; rm -rf "$D" "$R"; }
clean
install -d -o postgres -g postgres -m 0700 "$D" "$R"
t0=$(now)
pg pgbackrest --stanza="$S" --log-level-console=warn --pg1-path="$D" --type=default --archive-mode=off restore
t1=$(now)
pg "$BIN/pg_ctl" -D "$D" -l "$R/postgresql.log" -W start \
  -o "-c listen_addresses='' -c unix_socket_directories=$R -c port=5998 -c archive_mode=off -c logging_collector=off -c hot_standby=on" >/dev/null
for i in $(seq 1 6000); do
  [ "$(pg psql -X -At -h "$R" -p 5998 -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && break
  [ "$i" = 6000 ] && { tail -5 "$R/postgresql.log" >&2; clean; exit 1; }
  sleep 0.1
done
t2=$(now)
pg "$BIN/pg_ctl" -D "$D" stop -m "$MODE" -w -t 600 >/dev/null
t3=$(now)
rm -rf "$D" "$R"
t4=$(now)
python3 -c 'import sys; t = [float(x) for x in sys.argv[1:]]; [print(n, f"{b - a:.2f}") for n, a, b in zip(("restore", "recover", "stop", "remove"), t, t[1:])]' "$t0" "$t1" "$t2" "$t3" "$t4"
SH
)
floor_restore() {
  node_ssh "$(addr_of "$1")" "bash -c \"\$(echo $(base64 -w0 <<<"$FLOOR_RESTORE") | base64 -d)\" floor $CLUSTER $2 $3 $BIN" </dev/null
}

# One row per measurement and run in $WORK/times: "KEY RUN SECONDS".
rec() { echo "$1 $2 $3" >>"$WORK/times"; }
: >"$WORK/times"

pgha_backup() {
  local t0; t0=$(now)
  "$PGHA" backup "${P[@]}" --type full -o json >"$WORK/backup-$1.json" 2>"$WORK/backup-$1.log" ||
    { cat "$WORK/backup-$1.log" >&2; exit 1; }
  rec pgha_backup "$1" "$(since "$t0")"
  rec pgha_backup_own "$1" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duration_s"])' "$WORK/backup-$1.json")"
}
floor_backup() {
  local t0 l; l=$(leader); t0=$(now)
  node_ssh "$(addr_of "$l")" "cd /; runuser -u postgres -- pgbackrest --stanza=$CLUSTER --log-level-console=warn --type=full backup" </dev/null
  rec floor_backup "$1" "$(since "$t0")"
}
pgha_drill() {
  local t0; t0=$(now)
  "$PGHA" check restore "${P[@]}" -o json >"$WORK/check-restore-$1.json" 2>"$WORK/check-restore-$1.log" ||
    { cat "$WORK/check-restore-$1.json" "$WORK/check-restore-$1.log" >&2; exit 1; }
  rec pgha_drill "$1" "$(since "$t0")"
  rec pgha_drill_own "$1" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duration_s"])' "$WORK/check-restore-$1.json")"
}
floor_drill() {
  local t0 l r; l=$(leader); r=$(first_replica "$l"); t0=$(now)
  node_ssh "$(addr_of "$l")" "cd /; runuser -u postgres -- pgbackrest --stanza=$CLUSTER --log-level-console=warn check" </dev/null
  rec floor_drill_check "$1" "$(since "$t0")"
  floor_restore "$r" /var/lib/pgha/bench-drill immediate >"$WORK/floor-drill-$1.txt"
  rec floor_drill "$1" "$(since "$t0")"
  while read -r k v; do rec "floor_drill_$k" "$1" "$v"; done <"$WORK/floor-drill-$1.txt"
}
pgha_restore() {
  local t0; t0=$(now)
  "$PGHA" restore "${P[@]}" --latest --yes >"$WORK/restore-$1.out" 2>"$WORK/restore-$1.log" ||
    { cat "$WORK/restore-$1.out" "$WORK/restore-$1.log" >&2; exit 1; }
  rec pgha_restore "$1" "$(since "$t0")"
  # The plain progress lines: "TIME [stage] done stage (S s)" for each of the restore's stages. The
  # verify stage runs `up`, whose own last phase is also called verify: the stage's line is the last.
  python3 - "$WORK/restore-$1.log" <<'PY' | while read -r k v; do rec "pgha_restore_$k" "$1" "$v"; done
import re, sys
stages = ("preflight", "stop", "dcs", "restore", "leader", "replicas", "archive", "backup", "verify")
seen = {}
for m in re.finditer(r"\] done (\S+) \(([\d.]+) s\)", open(sys.argv[1]).read()):
    if m.group(1) in stages:
        seen[m.group(1)] = m.group(2)
for k, v in seen.items():
    print(k, v)
PY
}
floor_restore_run() {
  local t0 l; l=$(leader); t0=$(now)
  floor_restore "$l" "/var/lib/postgresql/15/bench-floor" fast >"$WORK/floor-restore-$1.txt"
  rec floor_restore "$1" "$(since "$t0")"
  while read -r k v; do rec "floor_restore_$k" "$1" "$v"; done <"$WORK/floor-restore-$1.txt"
}

pair() {  # pair RUN PGHA_FN FLOOR_FN: odd runs pgha first, even runs the floor first
  if [ $(($1 % 2)) = 1 ]; then "$2" "$1"; "$3" "$1"; else "$3" "$1"; "$2" "$1"; fi
}
for r in $(seq 1 "$RUNS"); do
  log "run $r: backup (leader $(leader))"
  pair "$r" pgha_backup floor_backup
  log "run $r: check restore"
  pair "$r" pgha_drill floor_drill
  log "run $r: restore"
  pair "$r" pgha_restore floor_restore_run
  log "run $r: $(awk -v r="$r" '$2 == r && $1 ~ /^(pgha|floor)_(backup|drill|restore)$/ {printf "%s %s s  ", $1, $3}' "$WORK/times")"
done

"$PGHA" backup list "${P[@]}" -q >"$WORK/backup-list.txt" 2>&1 || true
python3 - "$WORK/times" "$RUNS" "$DATA_MB" "$SIZES" <<'PY' | tee "$WORK/table.md"
import collections, statistics, sys
runs, mb, sizes = int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, _, v = line.split()
    t[k].append(float(v))
med = lambda k: statistics.median(t[k]) if t[k] else float("nan")
def cell(k):
    if not t[k]:
        return "-"
    return f"{med(k):.1f} ({min(t[k]):.1f}-{max(t[k]):.1f})"
def ratio(a, b):
    return f"{med(a) / med(b):.2f}" if t[a] and t[b] else "-"
print(f"{sizes}; {runs} runs, alternating; seconds, median (min-max)")
print()
print("| measurement | pgha | floor | pgha / floor |")
print("|---|---|---|---|")
print(f"| full backup: `pgha backup --type full` / `pgbackrest backup --type=full` by hand on the leader | {cell('pgha_backup')} | {cell('floor_backup')} | **{ratio('pgha_backup', 'floor_backup')}** |")
print(f"| `pgha check restore` / `pgbackrest restore` into a scratch directory on the replica | {cell('pgha_drill')} | {cell('floor_drill_restore')} | **{ratio('pgha_drill', 'floor_drill_restore')}** |")
print(f"| `pgha check restore` / the whole drill by hand: check on the leader, restore, replay until promoted, stop, remove | {cell('pgha_drill')} | {cell('floor_drill')} | {ratio('pgha_drill', 'floor_drill')} |")
print(f"| `pgha restore --latest` (whole) / `pgbackrest restore` into a scratch directory on the leader | {cell('pgha_restore')} | {cell('floor_restore_restore')} | **{ratio('pgha_restore', 'floor_restore_restore')}** |")
print(f"| pgha's `restore` stage / by hand: restore, replay until promoted, clean stop, remove | {cell('pgha_restore_restore')} | {cell('floor_restore')} | {ratio('pgha_restore_restore', 'floor_restore')} |")
print()
print("| floor piece (node's clock) | drill, on the replica | restore, on the leader |")
print("|---|---|---|")
print(f"| `pgbackrest check` on the leader (ssh included) | {cell('floor_drill_check')} | |")
for p in ("restore", "recover", "stop", "remove"):
    print(f"| {p} | {cell('floor_drill_' + p)} | {cell('floor_restore_' + p)} |")
print()
print("| pgha's own clock (`-o json`'s `duration_s`) | seconds | wall time of the command |")
print("|---|---|---|")
print(f"| `pgha backup`: `pgbackrest info`, backup, info on the leader | {cell('pgha_backup_own')} | {cell('pgha_backup')} |")
print(f"| `pgha check restore`: the drill, from `pgbackrest check` to the copy removed | {cell('pgha_drill_own')} | {cell('pgha_drill')} |")
print()
print("| stage of `pgha restore --latest` | seconds |")
print("|---|---|")
for s in ("preflight", "stop", "dcs", "restore", "leader", "replicas", "archive", "backup", "verify"):
    if t["pgha_restore_" + s]:
        print(f"| {s} | {cell('pgha_restore_' + s)} |")
PY
