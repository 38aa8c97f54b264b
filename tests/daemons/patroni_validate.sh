#!/usr/bin/env bash
# Patroni 3.0.2 judges each node's rendered config.yml (`patroni --validate-config`, which must print
# nothing). Its validator insists that the etcd3 hosts answer and that the listen ports are free, so
# the rendered three-member etcd cluster runs during the check.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"
setup patroni_validate

render_loopback "$WORK/out"
start_etcd_cluster "$WORK/out"
for node in "${NODES[@]}"; do
  cfg=$WORK/out/$node/etc/patroni/config.yml
  [ -f "$cfg" ] || fail "no rendered $cfg"
  data_dir=$(sed -n 's/^  data_dir: //p' "$cfg")
  [ ! -e "$data_dir" ] || fail "$data_dir exists on this machine; the validator would judge it too"
  out=$(patroni --validate-config "$cfg" 2>&1) || fail "patroni rejected $cfg: $out"
  [ -z "$out" ] || fail "patroni --validate-config complains about $cfg: $out"
  # What the validator does not check, but a production cluster needs.
  for want in "failsafe_mode: true" "use_pg_rewind: true" "- data-checksums" "etcd3:" \
              "password_encryption: scram-sha-256" "name: $node"; do
    grep -qF -- "$want" "$cfg" || fail "$cfg lacks '$want'"
  done
  if grep -E '^\s*- "host' "$cfg" | grep -vq 'scram-sha-256'; then fail "$cfg: a host line without scram"; fi
  if grep -qE '0\.0\.0\.0/0|trust' "$cfg"; then fail "$cfg: open network or trust"; fi
  python3 -c 'import sys, yaml; c = yaml.safe_load(open(sys.argv[1])); assert c["bootstrap"]["dcs"]["ttl"] >= 20, c' \
    "$cfg" || fail "$cfg: not YAML, or ttl below Patroni's minimum"
  log "$node: valid"
done
log "PASS: patroni accepts every rendered config.yml"
