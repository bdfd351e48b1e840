# Helpers of the CLI test scripts (sourced after $work is set): counters, ok/bad, expected failures, absent outputs.
pass=0; failed=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }
# expect_fail NAME PATTERN CMD...: non-zero exit and stderr containing PATTERN
expect_fail() {
  local name=$1 pattern=$2; shift 2
  if "$@" >"$work/stdout" 2>"$work/stderr"; then bad "$name: exited 0"; return; fi
  if grep -q -- "$pattern" "$work/stderr"; then ok "$name"; else bad "$name: stderr lacks '$pattern':"; cat "$work/stderr"; fi
}
# absent NAME PATH: the refused command left nothing at PATH
absent() { if [ -e "$2" ]; then bad "$1: $2 exists"; else ok "$1"; fi; }
# same_metrics A.json B.json: equal JSON but for timings ("seconds" fields) and "batch" (how many shared a batch);
# results depend on neither.
same_metrics() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
def strip(j):
    if isinstance(j, dict):
        return {k: strip(v) for k, v in j.items() if "seconds" not in k and k != "batch"}
    if isinstance(j, list):
        return [strip(v) for v in j]
    return j
a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
}
