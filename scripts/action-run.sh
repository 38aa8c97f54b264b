#!/usr/bin/env bash
# GitHub Action step 2: run `up`, `check failover`, `down`, or all three in order, or `plan` or
# `validate`, then publish:
#   $GITHUB_OUTPUT        endpoints (JSON), write-endpoint, read-endpoint, rto, lost-writes, plan (JSON,
#                         one line), result
#   $GITHUB_STEP_SUMMARY  a Markdown report (with `plan`: the text plan in a code block, or "no changes")
#   stdout                ::error file=F,line=L,col=C:: annotations for pgha's FILE:LINE:COL diagnostics,
#                         ::add-mask:: for every secret before anything could print it
# Env: PGHA (binary), INPUT_INVENTORY, INPUT_COMMAND (up | check-failover | down | all | plan |
#      validate), INPUT_FAULT, INPUT_MAX_RTO (optional), INPUT_RUNS (optional), INPUT_STATE_DIR
#      (optional), INPUT_INSTANCES (optional: a JSON map of instance name to settings; written to a
#      file and passed to every pgha call as --instances, replacing the inventory's nodes).
# Exit status: pgha's (the first failing command's); with `all`, down runs even after a failure.
set -uo pipefail

PGHA=${PGHA:?PGHA must name the pgha binary}
INV=${INPUT_INVENTORY:?inventory input is required}
CMD=${INPUT_COMMAND:-all}
FAULT=${INPUT_FAULT:-kill-node}
STATE=${INPUT_STATE_DIR:-${RUNNER_TEMP:-/tmp}/pgha-state}
OUT=${GITHUB_OUTPUT:?} SUMMARY=${GITHUB_STEP_SUMMARY:?}
WORK=$(mktemp -d "${RUNNER_TEMP:-/tmp}/pgha-action.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

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

# Masks the value of every ${VAR} the inventory (or the instances map) references, and the secrets
# pgha generated and keeps in its state directory. Runs before pgha does and again after up.
mask_secrets() {
  local var val
  for var in $(cat "$INV" "$INSTANCES_FILE" 2>/dev/null | grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' | tr -d '${}' | sort -u); do
    val=${!var:-}
    [ -n "$val" ] && echo "::add-mask::$val"
  done
  for f in "$STATE"/*/secrets.json; do
    [ -f "$f" ] || continue
    python3 -c 'import json,sys; [print(v) for v in json.load(open(sys.argv[1])).values() if isinstance(v, str) and v]' "$f" |
      while IFS= read -r val; do echo "::add-mask::$val"; done
  done
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
  done <"$1"
}

# run NAME ARGS...: runs pgha, keeps stdout in $WORK/NAME.out, shows and annotates its stderr.
run() {
  local name=$1; shift
  echo "::group::pgha $*"
  "$PGHA" "$@" -i "$INV" ${INSTANCES[@]+"${INSTANCES[@]}"} --state-dir "$STATE" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  cat "$WORK/$name.err" >&2
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

# endpoint FILE KEY: one field of `up -o json`'s endpoints ("" = the whole object as JSON).
endpoint() {
  python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["endpoints"]; print(e[sys.argv[2]] if sys.argv[2] else json.dumps(e))' "$1" "$2"
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
        { echo "endpoints=$ep"; echo "write-endpoint=$w"; echo "read-endpoint=$rd"; } >>"$OUT"
        summary+="| up | ok: write \`$w\`, read \`$rd\` |"$'\n'
      else
        summary+="| up | **failed** (exit $r) |"$'\n'
      fi ;;
    check)
      args=(check failover -o json --fault "$FAULT" --junit "$WORK/junit.xml")
      [ -n "${INPUT_MAX_RTO:-}" ] && args+=(--max-rto "$INPUT_MAX_RTO")
      [ -n "${INPUT_RUNS:-}" ] && args+=(--runs "$INPUT_RUNS")
      run check "${args[@]}"; r=$?
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
open(sys.argv[3], "w").write("\n".join(lines) + "\n")
PY
        for line in $(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["runs"]:
    for v in r["verdicts"]:
        if not v["pass"]: print("run%d:%s" % (r["run"], v["name"]))' "$WORK/check.out"); do
          echo "::error::check failover $line failed"
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
  echo "## pgha \`$CMD\` on \`$INV\`"
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
} >>"$SUMMARY"
echo "result=$([ $rc = 0 ] && echo success || echo failure)" >>"$OUT"
exit $rc
