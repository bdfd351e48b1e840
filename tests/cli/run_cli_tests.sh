#!/usr/bin/env bash
# CLI tests: run the built `preimage` on good and bad inputs and check exit codes, messages and outputs.
# Usage: PREIMAGE_BIN=path/to/preimage run_cli_tests.sh tests/data
set -u
bin=${PREIMAGE_BIN:?set PREIMAGE_BIN}
data=${1:?data folder}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0; failed=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }

# expect_fail NAME PATTERN CMD...: non-zero exit and stderr containing PATTERN
expect_fail() {
  local name=$1 pattern=$2; shift 2
  if "$@" >"$work/stdout" 2>"$work/stderr"; then bad "$name: exited 0"; return; fi
  if grep -q -- "$pattern" "$work/stderr"; then ok "$name"; else bad "$name: stderr lacks '$pattern':"; cat "$work/stderr"; fi
}

for f in "$data"/corrupt/*; do
  expect_fail "demo rejects $(basename "$f")" "$(basename "$f")" "$bin" demo "$f" --out "$work/bad"
done
[ ! -e "$work/bad/input.png" ] && ok "no output written for bad input" || bad "output written for bad input"
expect_fail "demo rejects a missing file" "cannot open" "$bin" demo "$work/nope.png" --out "$work/x"

if "$bin" demo /usr/lib/python3/dist-packages/skimage/data/astronaut.png --out "$work/demo" --size 48 >"$work/stdout" 2>&1 &&
   [ -s "$work/demo/input.png" ] && [ -s "$work/demo/gradient.png" ]; then ok "demo on a small photo"
else bad "demo on a small photo"; cat "$work/stdout"; fi

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
