#!/usr/bin/env bash
# keepalived 2.2.7 judges each node's rendered keepalived.conf (`keepalived --config-test`, which
# must print nothing: no warnings, no insecure scripts). keepalived refuses VRRP on `lo`, which the
# loopback inventory names, so the test swaps in a real interface of this machine; nothing else
# changes, and nothing is started.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
setup keepalived_check

render_loopback "$WORK/out"
iface=$(ip -o link show | awk -F': ' '$2 != "lo" && $2 !~ /@/ {print $2; exit}')
[ -n "$iface" ] || fail "no non-loopback interface to test with"
priorities=()
for node in "${NODES[@]}"; do
  cfg=$WORK/out/$node/etc/keepalived/keepalived.conf
  [ -f "$cfg" ] || fail "no rendered $cfg"
  sed -E "s/(interface|dev) lo\b/\1 $iface/" "$cfg" >"$WORK/$node.conf"
  out=$(keepalived --config-test -f "$WORK/$node.conf" 2>&1) || fail "keepalived rejected $cfg: $out"
  [ -z "$out" ] || fail "keepalived --config-test complains about $cfg: $out"
  grep -q "unicast_src_ip 127.0.0.1[123]" "$cfg" || fail "$cfg: no unicast_src_ip"
  grep -q "127.0.0.100/24 dev lo" "$cfg" || fail "$cfg: VIP not 127.0.0.100/24 on lo"
  [ "$(sed -n '/unicast_peer/,/}/p' "$cfg" | grep -c '127.0.0.1[123]')" -eq 2 ] || fail "$cfg: expected 2 peers"
  priorities+=("$(awk '$1 == "priority" {print $2}' "$cfg")")
  log "$node: valid"
done
[ "$(printf '%s\n' "${priorities[@]}" | sort -u | wc -l)" -eq 3 ] || fail "priorities not distinct: ${priorities[*]}"
log "PASS: keepalived accepts every rendered keepalived.conf"
