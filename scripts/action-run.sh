#!/usr/bin/env bash
# GitHub Action step 2: run `up`, `check failover`, `down`, or all three in order, or `plan` or
# `validate`, then publish (only the outputs action.yml declares):
#   $GITHUB_OUTPUT        endpoints (JSON), write-endpoint, read-endpoint, connection-uri (no password),
#                         rto, lost-writes, check-pass, junit-path, plan (JSON, one line), result
#   $GITHUB_STEP_SUMMARY  a Markdown report (with `plan`: the text plan in a code block, or "no changes";
#                         with check-failover: a row per run and the RTO phases as a Mermaid gantt)
#   stdout                ::error file=F,line=L,col=C:: annotations for pgha's FILE:LINE:COL diagnostics,
#                         ::add-mask:: for every secret before anything could print it
# Secrets: every ${VAR} the inventory (or the instances map) names, and every password pgha keeps in
# its state, are masked line by line with the toolkit's escaping before pgha runs; pgha masks the
# passwords it generates itself as it makes them (GITHUB_ACTIONS=true). pgha's log, the annotations,
# the outputs and the summary all pass through redact(), which replaces every line of every secret
# with ***, so nothing depends on the runner's masking alone (the summary is not masked by it).
# Env: PGHA (binary), INPUT_INVENTORY (empty: the action's bundled inventories/docker-local.yml),
#      INPUT_COMMAND (up | check-failover | down | all | plan | validate), INPUT_FAULT, INPUT_MAX_RTO
#      (optional), INPUT_RUNS (optional), INPUT_STATE_DIR (optional), INPUT_INSTANCES (optional: a JSON
#      map of instance name to settings; written to a file and passed to every pgha call as
#      --instances, replacing the inventory's nodes), GITHUB_ACTION_PATH (the action's checkout).
# Exit status: pgha's (the first failing command's); with `all`, down runs even after a failure.
set -uo pipefail

PGHA=${PGHA:?PGHA must name the pgha binary}
ACTION_DIR=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
INV=${INPUT_INVENTORY:-$ACTION_DIR/inventories/docker-local.yml}
[ -f "$INV" ] || { echo "::error::inventory $INV does not exist"; exit 2; }
CMD=${INPUT_COMMAND:-all}
FAULT=${INPUT_FAULT:-kill-node}
STATE=${INPUT_STATE_DIR:-${RUNNER_TEMP:-/tmp}/pgha-state}
GH_OUTPUT=${GITHUB_OUTPUT:?} SUMMARY=${GITHUB_STEP_SUMMARY:?}
WORK=$(mktemp -d "${RUNNER_TEMP:-/tmp}/pgha-action.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Outputs are gathered here and published through redact() at the end.
OUT=$WORK/outputs
: >"$OUT"
# The JUnit report outlives this step (the caller uploads it): outside $WORK, named by the output.
JUNIT=${RUNNER_TEMP:-/tmp}/pgha-junit-${WORK##*.}.xml

# The instances map travels in a file, never on a command line; pgha's diagnostics name this file.
INSTANCES=() INSTANCES_FILE=/dev/null
if [ -n "${INPUT_INSTANCES:-}" ]; then
  INSTANCES_FILE=$WORK/instances.json
  printf '%s\n' "$INPUT_INSTANCES" >"$INSTANCES_FILE"
  INSTANCES=(--instances "$INSTANCES_FILE")
fi

# Annotation escaping (GitHub's workflow-command rules): data escapes % CR LF; properties also : and ,.
esc_data() { local s=${1//'%'/%25}; s=${s//$'\r'/%0D}; printf '%s' "${s//$'\n'/%0A}"; }
esc_prop() { local s; s=$(esc_data "$1"); s=${s//:/%3A}; printf '%s' "${s//,/%2C}"; }

# The names of the environment variables the inventory (or the instances map) references.
SECRET_VARS=$(cat "$INV" "$INSTANCES_FILE" 2>/dev/null | grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' | tr -d '${}' | sort -u)

# mask VALUE: ::add-mask:: for each non-blank line of VALUE (the runner masks within a line), then the
# whole value when it spans lines, escaped as the toolkit does.
mask() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    [[ $line =~ [^[:space:]] ]] && echo "::add-mask::$(esc_data "$line")"
  done <<<"$1"
  [[ $1 == *$'\n'* ]] && echo "::add-mask::$(esc_data "$1")"
  return 0
}

# Masks the value of every ${VAR} the inventory names and the secrets pgha keeps in its state
# directory. Runs before pgha does and again after each pgha call (pgha masks what it generates
# itself, at once; this catches a state directory carried over from an earlier step).
mask_secrets() {
  local var val
  for var in $SECRET_VARS; do
    val=${!var:-}
    [ -n "$val" ] && mask "$val"
  done
  for f in "$STATE"/*/secrets.json; do
    [ -f "$f" ] || continue
    while IFS= read -r -d '' val; do mask "$val"; done < <(python3 -c '
import json, sys
for v in json.load(open(sys.argv[1])).values():
    if isinstance(v, str) and v: sys.stdout.write(v + "\0")' "$f")
  done
}

# redact: stdin to stdout with every non-blank line of every secret (the ${VAR}s the inventory names,
# the passwords in the state directory) replaced by ***, longest first; ::add-mask:: lines (pgha's
# own, for the passwords it generates) pass unchanged.
redact() {
  python3 -c '
import glob, json, os, sys
secrets = set()
def add(value):
    if not isinstance(value, str) or not value: return
    secrets.add(value)
    for line in value.split("\n"):
        line = line.rstrip("\r")
        if line.strip(): secrets.add(line)
for name in sys.argv[2].split():
    add(os.environ.get(name, ""))
for path in glob.glob(os.path.join(sys.argv[1], "*", "secrets.json")):
    try:
        for v in json.load(open(path)).values(): add(v)
    except (OSError, ValueError):
        pass
ordered = sorted(secrets, key=len, reverse=True)
for line in sys.stdin.buffer.read().decode("utf-8", "surrogateescape").splitlines(keepends=True):
    if not line.startswith("::add-mask::"):  # pgha'"'"'s own masks pass as they are
        for s in ordered:
            line = line.replace(s, "***")
    sys.stdout.buffer.write(line.encode("utf-8", "surrogateescape"))' "$STATE" "$SECRET_VARS"
}

# Turns pgha's stderr into annotations: "FILE:LINE:COL: error: msg" points at the inventory line;
# "pgha: error: msg" has no location.
annotate() {
  local line re='^([^:]+):([0-9]+):([0-9]+): (error|warning): (.*)$'
  while IFS= read -r line; do
    if [[ $line =~ $re ]]; then
      echo "::${BASH_REMATCH[4]} file=$(esc_prop "${BASH_REMATCH[1]}"),line=${BASH_REMATCH[2]},col=${BASH_REMATCH[3]}::$(esc_data "${BASH_REMATCH[5]}")"
    elif [[ $line == "pgha: error: "* ]]; then
      echo "::error::$(esc_data "${line#pgha: error: }")"
    fi
  done < <(redact <"$1")
}

# run NAME ARGS...: runs pgha, keeps stdout in $WORK/NAME.out, shows and annotates its stderr.
run() {
  local name=$1; shift
  echo "::group::pgha $*"
  "$PGHA" "$@" -i "$INV" ${INSTANCES[@]+"${INSTANCES[@]}"} --state-dir "$STATE" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  redact <"$WORK/$name.err" >&2
  echo "::endgroup::"
  annotate "$WORK/$name.err"
  return $rc
}

# plan_publish JSON TEXT MD: the plan output (JSON on one line) to $GITHUB_OUTPUT, the Markdown plan
# to MD, "N changes" or "no changes" to $WORK/plan.count. Fails on JSON that is not a plan.
plan_publish() {
  python3 - "$1" "$2" "$3" "$OUT" "$WORK/plan.count" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
changes, warnings = plan["changes"], plan.get("warnings", [])
assert isinstance(changes, list) and isinstance(warnings, list)
text = open(sys.argv[2]).read().rstrip("\n")
with open(sys.argv[4], "a") as out:
    out.write("plan=%s\n" % json.dumps(plan, separators=(",", ":")))
lines = ["### Plan", ""]
if not changes:
    lines.append("no changes")
else:
    # A fence longer than any backtick run in the text, so nothing in it can close the block.
    run, longest = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    lines += [fence, text, fence]
for w in warnings:
    lines += ["", "**warning:** " + str(w).replace("\n", " ")]
open(sys.argv[3], "w").write("\n".join(lines) + "\n")
n = len(changes)
open(sys.argv[5], "w").write("no changes\n" if n == 0 else "%d change%s\n" % (n, "" if n == 1 else "s"))
PY
}

# endpoint FILE KEY: one field of `up -o json`'s endpoints ("" = the whole object as JSON; "uri" =
# postgresql://USER@WRITE/DATABASE, without a password: outputs are not secret).
endpoint() {
  python3 -c '
import json, sys, urllib.parse as u
e = json.load(open(sys.argv[1]))["endpoints"]
k = sys.argv[2]
if k == "uri":
    print("postgresql://%s@%s/%s" % (u.quote(e["user"], safe=""), e["write"], u.quote(e["database"], safe="")))
else:
    print(e[k] if k else json.dumps(e))' "$1" "$2"
}

mask_secrets
rc=0
summary=""
steps=()
case $CMD in
  up) steps=(up) ;;
  check-failover|check) steps=(check) ;;
  down) steps=(down) ;;
  all) steps=(up check down) ;;
  validate) steps=(validate) ;;
  plan) steps=(plan) ;;
  *) echo "::error::unknown command '$CMD' (up, check-failover, down, all, plan, validate)"; exit 2 ;;
esac

for step in "${steps[@]}"; do
  if [ $rc -ne 0 ] && [ "$step" != down ]; then
    summary+="| $step | skipped |"$'\n'
    continue
  fi
  case $step in
    validate)
      run validate validate; r=$?
      summary+="| validate | $([ $r = 0 ] && echo ok || echo "**failed** (exit $r)") |"$'\n' ;;
    plan)
      # JSON for the output, text for people; exit 2 = invalid inventory or a safety rule refused it.
      run plan plan -o json; r=$?
      mask_secrets
      if [ $r = 0 ]; then
        run plan-text plan; r=$?
      fi
      if [ $r = 0 ] && plan_publish "$WORK/plan.out" "$WORK/plan-text.out" "$WORK/plan.md"; then
        summary+="| plan | $(head -1 "$WORK/plan.count") |"$'\n'
      else
        why="exit $r"
        [ $r = 0 ] && { r=1; why="no plan in the JSON output"; }
        { echo "### Plan: **failed** ($why)"; echo; echo '```'; cat "$WORK"/plan*.err; echo '```'; } >"$WORK/plan.md"
        summary+="| plan | **failed** ($why) |"$'\n'
      fi ;;
    up)
      run up up -o json; r=$?
      mask_secrets
      if [ $r = 0 ]; then
        ep=$(endpoint "$WORK/up.out" "") w=$(endpoint "$WORK/up.out" write) rd=$(endpoint "$WORK/up.out" read)
        uri=$(endpoint "$WORK/up.out" uri)
        { echo "endpoints=$ep"; echo "write-endpoint=$w"; echo "read-endpoint=$rd"; echo "connection-uri=$uri"; } >>"$OUT"
        summary+="| up | ok: write \`$w\`, read \`$rd\` |"$'\n'
      else
        summary+="| up | **failed** (exit $r) |"$'\n'
      fi ;;
    check)
      args=(check failover -o json --fault "$FAULT" --junit "$JUNIT")
      [ -n "${INPUT_MAX_RTO:-}" ] && args+=(--max-rto "$INPUT_MAX_RTO")
      [ -n "${INPUT_RUNS:-}" ] && args+=(--runs "$INPUT_RUNS")
      run check "${args[@]}"; r=$?
      [ -s "$JUNIT" ] && echo "junit-path=$JUNIT" >>"$OUT"
      if [ -s "$WORK/check.out" ]; then
        python3 - "$WORK/check.out" "$OUT" "$WORK/check.md" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
runs = j["runs"]
rto = (j["summary"].get("rto_s") or {}).get("median")
with open(sys.argv[2], "a") as out:
    out.write("rto=%s\n" % ("" if rto is None else "%.2f" % rto))
    out.write("lost-writes=%d\n" % j["lost_writes"])
    out.write("check-pass=%s\n" % str(j["pass"]).lower())
f = lambda v: "-" if v is None else "%.2f" % v
lines = ["| run | fault | primary | RTO (s) | detection | promotion | routing | lost | two primaries | rejoin (s) | result |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
for r in runs:
    lines.append("| %d | %s | %s → %s | %s | %s | %s | %s | %d | %s | %s | %s |" % (
        r["run"], r["fault"], r["old_primary"], r["new_primary"], f(r["rto_s"]), f(r["detection_s"]),
        f(r["promotion_s"]), f(r["routing_s"]), r["lost_writes"], "**yes**" if r["split_brain"] else "no",
        f(r["rejoin_s"]), "pass" if r["pass"] else "**FAIL**"))
    for v in r["verdicts"]:
        if not v["pass"]:
            lines.append("| | | | | | | | | | | %s: %s |" % (v["name"], v["message"].replace("|", "\\|")))
# The RTO's phases as a Mermaid gantt, a section per run (the first 10 with an RTO), each run's phases
# from its own fault, laid on the first run's clock (whole milliseconds: Mermaid's dateFormat x).
timed = [r for r in runs if r["rto_s"] is not None][:10]
if timed:
    name = lambda s: "".join(c if c.isalnum() or c in "._-" else "_" for c in str(s))
    base = int(timed[0]["fault_at"]) * 1000
    lines += ["", "```mermaid", "gantt", "    title RTO phases (each run from its own fault)", "    dateFormat x",
              "    axisFormat %H:%M:%S"]
    for r in timed:
        lines.append("    section run %d %s %s to %s" % (r["run"], name(r["fault"]), name(r["old_primary"]),
                                                        name(r["new_primary"])))
        at = 0.0
        for phase in ("detection", "fence", "release", "promotion", "routing"):
            d = r.get(phase + "_s")
            if d is None or d < 0.001:
                continue
            lines.append("    %s %.2f s :r%d%s, %d, %d" % (phase, d, r["run"], phase, base + round(at * 1000),
                                                          base + round((at + d) * 1000)))
            at += d
    lines.append("```")
open(sys.argv[3], "w").write("\n".join(lines) + "\n")
PY
        for line in $(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["runs"]:
    for v in r["verdicts"]:
        if not v["pass"]: print("run%d:%s" % (r["run"], v["name"]))' "$WORK/check.out"); do
          echo "::error::check failover $line failed" | redact
        done
        summary+="| check failover ($FAULT) | $([ $r = 0 ] && echo pass || echo "**failed** (exit $r)") |"$'\n'
      else
        echo "lost-writes=" >>"$OUT"
        summary+="| check failover ($FAULT) | **failed** (exit $r) |"$'\n'
      fi ;;
    down)
      run down down; r=$?
      summary+="| down | $([ $r = 0 ] && echo ok || echo "**failed** (exit $r)") |"$'\n' ;;
  esac
  [ $rc -eq 0 ] && rc=$r
done

{
  echo "## pgha \`$CMD\` on \`${INPUT_INVENTORY:-inventories/docker-local.yml (bundled)}\`"
  echo
  echo "| step | result |"
  echo "|---|---|"
  printf '%s' "$summary"
  if [ -f "$WORK/check.md" ]; then echo; cat "$WORK/check.md"; fi
  if [ -f "$WORK/plan.md" ]; then echo; cat "$WORK/plan.md"; fi
  # plan.md already quotes the plan's stderr whole (a refused plan names its rule there).
  errs=$(for f in "$WORK"/*.err; do [[ $f == */plan*.err ]] || cat "$f"; done 2>/dev/null |
    grep -E ': error: |^pgha: error: ' || true)
  if [ -n "$errs" ]; then echo; echo '```'; echo "$errs"; echo '```'; fi
} | redact >>"$SUMMARY"
echo "result=$([ $rc = 0 ] && echo success || echo failure)" >>"$OUT"
# Only the declared outputs, each on one line, redacted.
grep -E '^(endpoints|write-endpoint|read-endpoint|connection-uri|rto|lost-writes|check-pass|junit-path|plan|result)=' "$OUT" |
  redact >>"$GH_OUTPUT"
exit $rc
