#!/usr/bin/env bash
# Idle soak (not run in CI): brings up a 3-node Docker cluster with one timing profile, leaves it idle
# for DURATION seconds while polling Patroni's /cluster every 2 s, and counts spurious failovers:
# leader changes and timeline increments, plus the seconds during which no member reported a leader.
# Used to pick the default profile: the fastest one with zero spurious failovers on a busy machine.
# Usage: bench/idle_soak.sh PROFILE [DURATION_S=600]
# Prints one Markdown row:
#   | profile | duration s | leader changes | timeline at start -> end | seconds without a leader |
# Env: PGHA (binary; default build/pgha), PGHA_TEMPLATES (optional --templates override),
#      SOAK_KEEP=1 keeps the work directory (poll log) after exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${1:?usage: $0 PROFILE [DURATION_S]}
DURATION=${2:-600}
PGHA=${PGHA:-build/pgha}
NODES="10.49.0.11 10.49.0.12 10.49.0.13"
WORK=$(mktemp -d /tmp/pgha-soak.XXXXXX)
INV=$WORK/docker-soak-$PROFILE.yml
STATE=$WORK/state
log() { printf '%s soak: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
tmpl=(${PGHA_TEMPLATES:+--templates "$PGHA_TEMPLATES"})
cleanup() {
  "$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null 2>&1 || true
  if [ -n "${SOAK_KEEP:-}" ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Own cluster name and subnet (10.49.0.0/24): never collides with the default inventory's cluster,
# the failover bench (10.48) or CI's clusters.
sed -e "s/^  profile: .*/  profile: $PROFILE/" -e "s/^  name: pgha-local$/  name: pgha-soak/" \
  -e "s/10\\.42\\.0\\./10.49.0./g" inventories/docker-local.yml >"$INV"
grep -q "^  profile: $PROFILE$" "$INV" || { log "could not set the profile in $INV"; exit 2; }
grep -q "^  name: pgha-soak$" "$INV" || { log "could not set the cluster name in $INV"; exit 2; }

"$PGHA" down -i "$INV" --state-dir "$STATE" -q >/dev/null 2>&1 || true
log "profile $PROFILE: up"
"$PGHA" up -i "$INV" --state-dir "$STATE" "${tmpl[@]}" -q >"$WORK/up.log" 2>&1 ||
  { tail -20 "$WORK/up.log" >&2; exit 1; }

# poll: prints "LEADER TIMELINE" from the first node whose /cluster answers, "- -" when there is no
# leader (or no node answers). The timeline is the leader's, else the highest any member reports.
poll() {
  local ip body
  for ip in $NODES; do
    body=$(curl -fsS --max-time 1.5 "http://$ip:8008/cluster" 2>/dev/null) || continue
    jq -r '(.members // []) as $m
           | ([$m[] | select(.role == "leader")][0]) as $l
           | "\($l.name // "-") \($l.timeline // ([$m[].timeline // empty] | max) // "-")"' <<<"$body" &&
      return 0
  done
  echo "- -"
}

# Wait (at most 120 s) for a leader and a timeline before the clock starts.
for _ in $(seq 60); do
  read -r leader tl < <(poll)
  [ "$leader" != - ] && [ "$tl" != - ] && break
  sleep 2
done
[ "$leader" != - ] || { log "no leader 120 s after up"; exit 1; }
start_leader=$leader start_tl=$tl last_leader=$leader last_tl=$tl
changes=0 leaderless_ms=0
log "soaking $DURATION s; leader $leader, timeline $tl"

now_ms() { date +%s%3N; }
t0=$(now_ms) prev=$t0 end=$((t0 + DURATION * 1000))
while [ "$(now_ms)" -lt "$end" ]; do
  sleep 2
  read -r leader tl < <(poll)
  t=$(now_ms)
  printf '%s %s %s\n' "$(((t - t0) / 1000))" "$leader" "$tl" >>"$WORK/poll.log"
  if [ "$leader" = - ]; then
    leaderless_ms=$((leaderless_ms + t - prev))
  else
    if [ "$leader" != "$last_leader" ] || { [ "$tl" != - ] && [ "$tl" -gt "$last_tl" ]; }; then
      changes=$((changes + 1))
      log "leader $last_leader (timeline $last_tl) -> $leader (timeline $tl) at +$(((t - t0) / 1000)) s"
    fi
    last_leader=$leader
    [ "$tl" != - ] && last_tl=$tl
  fi
  prev=$t
done

printf '| %s | %s | %s | %s -> %s | %s |\n' "$PROFILE" "$DURATION" "$changes" "$start_tl" "$last_tl" \
  "$(awk -v ms="$leaderless_ms" 'BEGIN { printf "%.0f", ms / 1000 }')"
