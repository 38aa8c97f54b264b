#!/usr/bin/env bash
# HAProxy judges each node's rendered haproxy.cfg (`haproxy -c`, warnings included), and the
# routing the cluster depends on is there: Patroni checks on both listeners, every member as a server.
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
  log "$node: valid"
done
log "PASS: haproxy accepts every rendered haproxy.cfg"
