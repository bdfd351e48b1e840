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
