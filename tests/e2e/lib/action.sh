# Runs the composite action (action.yml) locally the way the Actions runner would. Sourced, not run.
# Needs: PGHA_SOURCE_DIR, WORK (a temp dir), python3 with PyYAML.
#
# run_action NAME KEY=VALUE...: the inputs. Each `run` step gets its `env` and its own GITHUB_OUTPUT,
# with ${{ inputs.* }}, ${{ steps.<id>.outputs.* }}, ${{ runner.temp|os|arch }} and
# ${{ github.action_ref|action_repository|sha }} substituted, GITHUB_ACTION_PATH pointed at the source
# and GITHUB_ACTIONS=true; `uses` steps (actions/cache) are skipped. The action's outputs are
# computed from action.yml's `outputs` as a caller would see them. Writes $WORK/NAME/{stdout,stderr,
# output (the action's outputs), summary, rc}; PGHA_ACTION_ENV (NAME=VALUE words) adds environment.
run_action() {
  local name=$1; shift
  local dir=$WORK/$name
  mkdir -p "$dir/temp"
  : >"$dir/output"; : >"$dir/summary"
  set +e
  python3 - "$PGHA_SOURCE_DIR" "$dir" "$@" <<'PY' >"$dir/stdout" 2>"$dir/stderr"
import os, re, subprocess, sys, yaml
src, d, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
action = yaml.safe_load(open(os.path.join(src, "action.yml")))
inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
for p in pairs:
    k, v = p.split("=", 1)
    assert k in inputs, "unknown input " + k
    inputs[k] = v
for k, v in action["inputs"].items():
    assert not v.get("required") or inputs[k], "missing required input " + k
steps = {}
context = {"runner.temp": d + "/temp", "runner.os": "Linux", "runner.arch": "X64",
           "github.action_ref": "", "github.sha": "local", "github.action_repository": ""}
def value(e):
    e = e.strip()
    if " || " in e:
        return next((v for v in (value(x) for x in e.split(" || ")) if v), "")
    if e in context: return context[e]
    if e.startswith("inputs."): return inputs[e[len("inputs."):]]
    g = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", e)
    if g: return steps.get(g.group(1), {}).get(g.group(2), "")
    raise SystemExit("unsupported expression " + e)
def expand(s):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: value(m.group(1)), str(s))
env = dict(os.environ, GITHUB_STEP_SUMMARY=d + "/summary", RUNNER_TEMP=d + "/temp", GITHUB_ACTIONS="true",
           GITHUB_ACTION_PATH=src)
assert action["runs"]["using"] == "composite"
rc = 0
for i, step in enumerate(action["runs"]["steps"]):
    if "uses" in step:
        continue
    out = "%s/step%d.output" % (d, i)
    open(out, "w").close()
    step_env = dict(env, GITHUB_OUTPUT=out, **{k: expand(v) for k, v in step.get("env", {}).items()})
    rc = subprocess.run(["bash", "-e", "-c", expand(step["run"])], env=step_env, cwd=src).returncode
    outputs = {}
    for line in open(out):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            outputs[k] = v
    if "id" in step:
        steps[step["id"]] = outputs
    if rc != 0:
        break
with open(d + "/output", "w") as f:
    for k, v in action["outputs"].items():
        published = expand(v["value"])
        if published:
            f.write("%s=%s\n" % (k, published))
    # What the run step wrote that action.yml does not declare, for the test to find.
    for k in steps.get("run", {}):
        if k not in action["outputs"]:
            f.write("undeclared:%s\n" % k)
sys.exit(rc)
PY
  echo $? >"$dir/rc"
  set -e
}
# out NAME KEY: the action's output KEY after run_action NAME.
out() { grep "^$2=" "$WORK/$1/output" | tail -1 | cut -d= -f2-; }
