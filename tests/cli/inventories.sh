#!/usr/bin/env bash
# The binary itself on every inventory: the examples validate (exit 0), and every broken inventory
# exits 2 with exactly its expected FILE:LINE:COL diagnostics and touches nothing (no state dir).
set -euo pipefail
cd "$PGHA_SOURCE_DIR"
export PROXMOX_API_TOKEN_ID='pgha@pve!ci' PROXMOX_API_TOKEN_SECRET=fake-token-secret \
  PATRONI_SUPERUSER_PASSWORD=fake-super PATRONI_REPLICATION_PASSWORD=fake-repl \
  PATRONI_ADMIN_PASSWORD=fake-admin PGHA_TEST_PASSWORD=fake-password
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
for inv in inventories/*.yml tests/data/inventories/*.yml; do
  if ! "$PGHA" validate -i "$inv" >/dev/null 2>"$work/err"; then
    echo "FAIL: $inv does not validate:"; cat "$work/err"; fails=$((fails + 1))
  fi
done
n=0
for bad in tests/data/bad-inventories/*.yml; do
  n=$((n + 1))
  set +e
  (cd "$work" && mkdir -p run && cd run && "$PGHA" up -i "$PGHA_SOURCE_DIR/$bad" --state-dir st >/dev/null 2>"$work/up.err")
  rc_up=$?
  "$PGHA" validate -i "$bad" >/dev/null 2>"$work/err"
  rc=$?
  set -e
  if [ $rc -ne 2 ] || [ $rc_up -ne 2 ]; then echo "FAIL: $bad: validate exit $rc, up exit $rc_up (want 2)"; fails=$((fails + 1)); fi
  if ! diff -u "${bad%.yml}.expected" "$work/err" >"$work/diff"; then
    echo "FAIL: $bad: diagnostics differ:"; cat "$work/diff"; fails=$((fails + 1))
  fi
  if [ -e "$work/run/st" ]; then echo "FAIL: up on $bad created state"; fails=$((fails + 1)); fi
done
echo "cli inventories: $n broken inventories checked, $fails failures"
[ $fails -eq 0 ]
