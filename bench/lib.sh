# Helpers shared by the benchmark scripts. Sourced, not run; needs SOCK (the engine's socket).
# The engine is reached only through its API.

api() { curl -fsS --unix-socket "$SOCK" -H 'Content-Type: application/json' "$@"; }
api_q() { curl -sS -o /dev/null --unix-socket "$SOCK" "$@" 2>/dev/null || true; }
now() { date +%s.%N; }
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(map(float, sys.argv[1:])):.2f}")' "$@"; }

# remove_labelled LABEL: every container carrying the label (they hold the network), then its networks.
remove_labelled() {
  local filters ids
  filters=$(python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.dumps({"label":[sys.argv[1]]})))' "$1")
  ids=$(curl -sS --unix-socket "$SOCK" "http://localhost/v1.41/containers/json?all=1&filters=$filters" 2>/dev/null |
    python3 -c 'import json,sys; [print(c["Id"]) for c in json.load(sys.stdin)]' 2>/dev/null || true)
  for id in $ids; do api_q -X DELETE "http://localhost/v1.41/containers/$id?force=1&v=1"; done
  ids=$(curl -sS --unix-socket "$SOCK" "http://localhost/v1.41/networks?filters=$filters" 2>/dev/null |
    python3 -c 'import json,sys; [print(n["Id"]) for n in json.load(sys.stdin)]' 2>/dev/null || true)
  for id in $ids; do api_q -X DELETE "http://localhost/v1.41/networks/$id"; done
}
