#!/usr/bin/env bash
# `pgha up` on a real terminal (tmux): the live view keeps exactly one line per node, redrawn in
# place, while the phases go by; a forced failure (a broken pgbackrest.conf through --templates, so
# `pgbackrest check` fails on the primary) shows the node, the step and pgBackRest's own error text.
# Own cluster: pgha-tty on 10.52.0.0/24.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$PGHA_SOURCE_DIR"
command -v tmux >/dev/null || fail "tmux is not installed (scripts/install-deps.sh)"

WORK=$(mktemp -d /tmp/pgha-tty.XXXXXX)
INV=$WORK/inventory.yml
STATE_ROOT=$WORK/state
TMUX_SOCKET=
tm() { tmux -L "$TMUX_SOCKET" "$@"; }
cleanup() {
  for s in up1 up2; do tmux -L "pgha-tty-$$-$s" kill-server >/dev/null 2>&1 || true; done
  "$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

sed -e 's/name: pgha-local/name: pgha-tty/' -e 's/10\.42\.0\./10.52.0./g' inventories/docker-local.yml >"$INV"
grep -q 'name: pgha-tty' "$INV" && grep -q '10.52.0.100' "$INV" || fail "could not derive the inventory"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null 2>&1 || true

# run NAME ARGS...: `pgha up ARGS` in a fresh 110x60 tmux pane, on a tmux server of its own (a server
# just killed may still hold its socket); the pane stays after pgha exits and $WORK/NAME.rc gets its
# exit code.
run() {
  local name=$1; shift
  [ -z "$TMUX_SOCKET" ] || tm kill-server >/dev/null 2>&1 || true
  TMUX_SOCKET=pgha-tty-$$-$name
  printf '%q ' "$PGHA" up -i "$INV" --state-dir "$STATE_ROOT" "$@" >"$WORK/$name.cmd"
  printf '; echo $? >%q; sleep 3600\n' "$WORK/$name.rc" >>"$WORK/$name.cmd"
  tm new-session -d -s tty -x 110 -y 60 "bash $WORK/$name.cmd"
}
# capture FILE: the pane's text, scrollback included (a growing log would pile up there).
capture() { tm capture-pane -p -J -S - -t tty >"$1"; }
# wait_rc NAME SECONDS: waits for the run to end, capturing every half second into NAME.cap.N.
wait_rc() {
  local name=$1 limit=$2 i=0
  while [ ! -s "$WORK/$name.rc" ]; do
    capture "$WORK/$name.cap.$i"
    i=$((i + 1))
    [ $i -lt $((limit * 2)) ] || fail "$name did not finish within $limit s"
    sleep 0.5
  done
  capture "$WORK/$name.final"
  tm capture-pane -p -e -t tty >"$WORK/$name.final.esc"
}

log "up under tmux: one line per node, redrawn in place"
run up1
wait_rc up1 600
[ "$(cat "$WORK/up1.rc")" = 0 ] || { cat "$WORK/up1.final" >&2; fail "up failed"; }
python3 - "$WORK" <<'PY' || { cat "$WORK/up1.final" >&2; fail "the node lines were not redrawn in place"; }
import glob, re, sys
work = sys.argv[1]
node_line = re.compile(r"^ (\S) (pg[123])  (\S+)")
frames, phases = 0, set()
for path in sorted(glob.glob(work + "/up1.cap.*"), key=lambda p: int(p.rsplit(".", 1)[1])) + [work + "/up1.final"]:
    lines = open(path, encoding="utf-8").read().splitlines()
    nodes = [m.groups() for m in map(node_line.match, lines) if m]
    headers = [l for l in lines if l.startswith("[+]")]
    if not nodes and not headers:
        continue  # pgha not started yet
    frames += 1
    names = sorted(n for _, n, _ in nodes)
    assert names == ["pg1", "pg2", "pg3"], f"{path}: node lines {names}, expected one per node:\n" + "\n".join(lines)
    assert len(headers) == 1, f"{path}: {len(headers)} header lines"
    phases.update(step for icon, _, step in nodes if icon not in "✔✘")
final = open(work + "/up1.final", encoding="utf-8").read()
assert all(icon == "✔" for icon, _, _ in (m.groups() for m in map(node_line.match, final.splitlines()) if m)), final
assert re.search(r"^\[\+\] ✔ Done · \d+ phases", final, re.M), final
assert re.search(r"^  pg1: \d+ files written", final, re.M), final  # the grouped summary
assert frames >= 4, f"only {frames} captures showed the view"
assert len(phases) >= 3, f"the node lines showed only {sorted(phases)}: not redrawn as the phases went by"
print(f"{frames} captures, phases seen on the node lines: {sorted(phases)}")
PY
grep -q $'\e\\[32m✔' "$WORK/up1.final.esc" || fail "no green check mark in the pane's escapes"

log "up with a broken pgbackrest.conf: the failing node, its step and pgBackRest's error"
mkdir -p "$WORK/templates/pgbackrest"
sed 's/^pg1-port=.*/pg1-port=1/' templates/pgbackrest/pgbackrest.conf.mustache >"$WORK/templates/pgbackrest/pgbackrest.conf.mustache"
run up2 --templates "$WORK/templates"
wait_rc up2 300
[ "$(cat "$WORK/up2.rc")" = 1 ] || { cat "$WORK/up2.final" >&2; fail "up with a broken template exited $(cat "$WORK/up2.rc"), expected 1"; }
python3 - "$WORK/up2.final" <<'PY' || { cat "$WORK/up2.final" >&2; fail "the failure was not shown under its node"; }
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
err = next(l for l in lines if l.startswith("pgha: error: "))
node = re.search(r"host (pg\d)", err).group(1)
at = next(i for i, l in enumerate(lines) if re.match(r"^ ✘ " + node + r"  pgbackrest:check ", l))
below = []
for l in lines[at + 1:]:
    if not l.startswith("      "):
        break
    below.append(l.strip())
assert below, "no message under the failed node"
assert any("exit" in l for l in below) and any(re.search(r"ERROR: \[\d+\]", l) for l in below), below
assert sum(bool(re.match(r"^ \S pg\d  ", l)) for l in lines) == 3, "one line per node"
assert any(l.startswith("[+] ✘ Failed in ") for l in lines), lines
print(f"{node} failed at pgbackrest:check; under it: {below[-1]}")
PY

log "down"
"$PGHA" down -i "$INV" --state-dir "$STATE_ROOT" -q >/dev/null
log "PASS"
