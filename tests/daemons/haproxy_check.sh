#!/usr/bin/env bash
# HAProxy judges each node's rendered haproxy.cfg (`haproxy -c`, warnings included), and the
# routing the cluster depends on is there: Patroni checks on both listeners, every member as a server.
# Then pg1's HAProxy runs, rendered with an admin password full of characters HAProxy's parser treats
# specially: its stats page answers on pg1's address only, 401 without the password, the CSV with it,
# and the password is in no process's command line.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
setup haproxy_check

render_loopback "$WORK/out"
for node in "${NODES[@]}"; do
  cfg=$WORK/out/$node/etc/haproxy/haproxy.cfg
  [ -f "$cfg" ] || fail "no rendered $cfg"
  out=$(haproxy -c -f "$cfg" 2>&1) || fail "haproxy -c rejected $cfg: $out"
  echo "$out" | grep -q "Configuration file is valid" || fail "haproxy -c: $out"
  if echo "$out" | grep -qi "warning\|alert"; then fail "haproxy -c warns about $cfg: $out"; fi
  grep -q "option httpchk OPTIONS /primary" "$cfg" || fail "$cfg: no /primary check"
  grep -q "option httpchk OPTIONS /replica" "$cfg" || fail "$cfg: no /replica check"
  grep -q "on-marked-down shutdown-sessions" "$cfg" || fail "$cfg: sessions survive a demotion"
  for member in 127.0.0.11 127.0.0.12 127.0.0.13; do
    [ "$(grep -c "server .* $member:[0-9]* .*check port" "$cfg")" -eq 2 ] || fail "$cfg: $member not in both listeners"
  done
  grep -q "^    bind $(sed -n "/^  - name: $node\$/{n;s/ *address: //p}" "$LOOPBACK_INV"):[0-9]*\$" "$cfg" ||
    fail "$cfg: the stats page is not bound to $node's own address"
  grep -q "^    stats auth " "$cfg" || fail "$cfg: the stats page needs no password"
  log "$node: valid"
done

# pg1 with a hostile admin password; only the sockets and the ports nobody needs here move.
inv=$WORK/inventory.yml
{ cat "$LOOPBACK_INV"; printf 'secrets:\n  admin_password: "${PGHA_TEST_ADMIN}"\n'; } >"$inv"
export PGHA_TEST_ADMIN='a"b\c$d #e'"'"'f:g${HOME}'
"$PGHA" render -i "$inv" --out "$WORK/hostile" >"$WORK/render-hostile.log" 2>&1 ||
  fail "pgha render with a hostile admin password: $(cat "$WORK/render-hostile.log")"
cfg=$WORK/haproxy.cfg
sed -e "s|stats socket /run/haproxy/admin.sock|stats socket $WORK/admin.sock|" \
    -e "s|^    bind \*:|    bind 127.0.0.11:|" "$WORK/hostile/pg1/etc/haproxy/haproxy.cfg" >"$cfg"
out=$(haproxy -c -f "$cfg" 2>&1) || fail "haproxy -c rejected the hostile password: $out"
stats_port=$(sed -n 's/^    bind 127\.0\.0\.11:\([0-9]*\)$/\1/p' "$cfg" | head -1)
start_bg "$WORK/haproxy.log" haproxy -db -f "$cfg"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@"; }
wait_for 20 "haproxy's stats page on 127.0.0.11:$stats_port" \
  bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://127.0.0.11:$stats_port/)\" = 401 ]" ||
  fail "the stats page does not answer 401 without the password: $(cat "$WORK/haproxy.log")"
printf 'user = "admin:%s"\n' "$(printf '%s' "$PGHA_TEST_ADMIN" | sed 's/[\\"]/\\&/g')" >"$WORK/curl.cfg"
csv=$(curl -s --max-time 3 -K "$WORK/curl.cfg" "http://127.0.0.11:$stats_port/;csv") || fail "curl with the password failed"
echo "$csv" | grep -q '^# pxname,svname' || fail "the stats page refused the admin password: $(echo "$csv" | head -3)"
[ "$(code -u admin:wrong "http://127.0.0.11:$stats_port/")" = 401 ] || fail "a wrong password was accepted"
for other in 127.0.0.1 127.0.0.12 127.0.0.100; do
  [ "$(code "http://$other:$stats_port/")" = 000 ] || fail "the stats page answers on $other"
done
if ps -eo args | grep -F -- "$PGHA_TEST_ADMIN" | grep -v grep >/dev/null; then
  fail "the admin password is in a process list"
fi
log "PASS: haproxy accepts every rendered haproxy.cfg; the stats page is pg1's own, behind the password"
