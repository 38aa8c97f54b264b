#!/usr/bin/env bash
# The action's masking cannot leak: a multi-line secret (a PEM-like key) and one containing % : and ,
# are named by the inventory; a stand-in pgha prints both on stderr in diagnostics, in a generated
# secrets.json, and in its JSON output. Every line of both must be masked line by line with the
# toolkit's escaping before pgha's first line, and none may appear in the log (outside its
# ::add-mask:: command), the annotations, the action's outputs or the step summary. The real pgha's
# own mask of a generated password is checked too. No Docker needed.
set -euo pipefail
cd "$PGHA_SOURCE_DIR"
WORK=$(mktemp -d /tmp/pgha-action-mask.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
. tests/e2e/lib/action.sh
fail() { echo "FAIL: $*" >&2; exit 1; }

KEY=$'-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU'"$RANDOM"$'\nAAAAMwAAAAtzc2gtZWQyNTUxOQ'"$RANDOM"$'\n-----END OPENSSH PRIVATE KEY-----'
ODD="p%25w:x,y%0A-$RANDOM"   # a literal "%25" and "%0A": escaping must not turn them into % or a newline
GEN="generated-$RANDOM-$RANDOM"
export PGHA_MASK_KEY=$KEY PGHA_MASK_ODD=$ODD

sed 's/^replication:/secrets:\n  superuser_password: "${PGHA_MASK_ODD}"\n  replication_password: "${PGHA_MASK_KEY}"\nreplication:/' \
  inventories/docker-local.yml >"$WORK/inv.yml"

# A pgha that misbehaves on purpose: it leaks every secret it can reach.
cat >"$WORK/fake-pgha" <<FAKE
#!/usr/bin/env bash
[ "\$1" = --help ] && exit 0
state=; while [ \$# -gt 0 ]; do [ "\$1" = --state-dir ] && state=\$2; shift; done
mkdir -p "\$state/pgha-local"
printf '{"admin_password": "%s"}\n' "$GEN" >"\$state/pgha-local/secrets.json"
echo "pgha: error: cannot log in with \$PGHA_MASK_ODD"
printf '%s\n' "\$PGHA_MASK_KEY" | sed 's/^/pgha: error: key line: /' >&2
echo "$WORK/inv.yml:3:5: error: bad password \$PGHA_MASK_ODD" >&2
echo "pgha: error: generated $GEN" >&2
echo '{"endpoints": {"write": "10.42.0.100:5000", "read": "x", "pooled": "x", "user": "'"\$PGHA_MASK_ODD"'", "database": "postgres"}}'
exit 1
FAKE
chmod +x "$WORK/fake-pgha"

run_action leak inventory="$WORK/inv.yml" command=up pgha-binary="$WORK/fake-pgha"
[ "$(cat "$WORK/leak/rc")" != 0 ] || fail "the action succeeded although pgha failed"
log=$WORK/leak/log
cat "$WORK/leak/stdout" "$WORK/leak/stderr" >"$log"

# Each line of each secret, and the whole of each, is masked with the toolkit's escaping...
esc() { local s=${1//'%'/%25}; s=${s//$'\r'/%0D}; printf '%s' "${s//$'\n'/%0A}"; }
# ...before the first line of pgha's output (the ::group:: that opens it).
first_pgha=$(grep -n '^::group::' "$WORK/leak/stdout" | head -1 | cut -d: -f1)
[ -n "$first_pgha" ] || fail "pgha never ran"
head -n "$first_pgha" "$WORK/leak/stdout" >"$WORK/leak/before"
expect_mask() { grep -qxF "::add-mask::$(esc "$1")" "$WORK/leak/before" || fail "no ::add-mask:: for '$1' before pgha ran"; }
while IFS= read -r line; do expect_mask "$line"; done <<<"$KEY"
expect_mask "$KEY"
expect_mask "$ODD"

# No line of any secret outside its mask command: log, annotations, outputs, summary.
scan() {
  local what=$1 file=$2 line
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    if grep -v '^::add-mask::' "$file" | grep -qF -- "$line"; then fail "'$line' leaked into the $what"; fi
  done <<<"$KEY"$'\n'"$ODD"$'\n'"$GEN"
}
scan log "$log"
scan outputs "$WORK/leak/output"
scan summary "$WORK/leak/summary"
grep -q '\*\*\*' "$WORK/leak/summary" || fail "the summary shows no redaction at all: $(cat "$WORK/leak/summary")"
grep -q '^::error file=' "$WORK/leak/stdout" || fail "the located diagnostic was not annotated"
! grep -q '^undeclared:' "$WORK/leak/output" || fail "undeclared outputs: $(grep '^undeclared:' "$WORK/leak/output")"

# The real pgha announces a password it generates itself, under GITHUB_ACTIONS=true, at once.
if [ -n "${PGHA:-}" ]; then
  mkdir -p "$WORK/real"
  GITHUB_ACTIONS=true "$PGHA" plan -i inventories/docker-local.yml --state-dir "$WORK/real" >/dev/null 2>"$WORK/real/err" || true
  if [ -f "$WORK/real/pgha-local/secrets.json" ]; then
    python3 -c 'import json,sys; [print(v) for v in json.load(open(sys.argv[1])).values()]' \
      "$WORK/real/pgha-local/secrets.json" | while IFS= read -r pw; do
      grep -qxF "::add-mask::$pw" "$WORK/real/err" || fail "pgha did not mask its generated password"
    done
  fi
fi
echo "action masking: PASS"
