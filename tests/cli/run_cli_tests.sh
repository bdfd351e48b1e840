#!/usr/bin/env bash
# CLI tests: run the built `preimage` on good and bad inputs and check exit codes, messages and outputs.
# Usage: PREIMAGE_BIN=path/to/preimage run_cli_tests.sh tests/data
set -u
bin=${PREIMAGE_BIN:?set PREIMAGE_BIN}
data=${1:?data folder}
photo=/usr/lib/python3/dist-packages/skimage/data/astronaut.png
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
pass=0; failed=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }

# expect_fail NAME PATTERN CMD...: non-zero exit and stderr containing PATTERN
expect_fail() {
  local name=$1 pattern=$2; shift 2
  if "$@" >"$work/stdout" 2>"$work/stderr"; then bad "$name: exited 0"; return; fi
  if grep -q -- "$pattern" "$work/stderr"; then ok "$name"; else bad "$name: stderr lacks '$pattern':"; cat "$work/stderr"; fi
}
# no_files NAME DIR GLOB: nothing matching GLOB in DIR
no_files() {
  if compgen -G "$2/$3" >/dev/null; then bad "$1: found $(ls "$2"/$3)"; else ok "$1"; fi
}

# --- demo ---
for f in "$data"/corrupt/*; do
  expect_fail "demo rejects $(basename "$f")" "$(basename "$f")" "$bin" demo "$f" --out "$work/bad"
done
no_files "no demo output for bad input" "$work/bad" "*.png"
expect_fail "demo rejects a missing file" "cannot open" "$bin" demo "$work/nope.png" --out "$work/x"
if "$bin" demo "$photo" --out "$work/demo" --size 48 >"$work/stdout" 2>&1 &&
   [ -s "$work/demo/input.png" ] && [ -s "$work/demo/gradient.png" ]; then ok "demo on a small photo"
else bad "demo on a small photo"; cat "$work/stdout"; fi

# --- features ---
mkdir -p "$work/empty" "$work/mixed"
cp "$data/tiny_7x7.png" "$work/mixed/"; cp "$data/corrupt/truncated.png" "$work/mixed/"
expect_fail "features: unknown representation" "unknown representation 'sift3d'" \
  "$bin" features "$photo" --rep sift3d --out "$work/f0"
expect_fail "features: empty folder" "holds no images" "$bin" features "$work/empty" --out "$work/f1"
expect_fail "features: image smaller than two cells" "tiny_7x7" "$bin" features "$data/tiny_7x7.png" --out "$work/f2"
no_files "features: nothing written for a too-small image" "$work/f2" "tiny*"
expect_fail "features: folder with a bad and a small image" "truncated.png" "$bin" features "$work/mixed" --out "$work/f3"
no_files "features: nothing partial for the folder" "$work/f3" "*"
for rep in hog hogb hog-dt dsift lbp sift-grid; do
  if "$bin" features "$photo" --rep "$rep" --size 64 --out "$work/feat_$rep" 2>"$work/stderr" &&
     [ -s "$work/feat_$rep/astronaut.safetensors" ]; then ok "features --rep $rep"
  else bad "features --rep $rep"; cat "$work/stderr"; fi
done
[ -s "$work/feat_hog/astronaut.png" ] && ok "features writes the HOG glyph" || bad "features writes the HOG glyph"

# --- invert ---
expect_fail "invert: unreadable file" "cannot decode" "$bin" invert "$data/corrupt/bad_pixels.png" --out "$work/i1" --iters 5
no_files "invert: no reconstruction for an unreadable file" "$work/i1" "bad_pixels*.png"
expect_fail "invert: empty folder" "holds no images" "$bin" invert "$work/empty" --out "$work/i2"
expect_fail "invert: image too small" "smaller" "$bin" invert "$data/tiny_7x7.png" --out "$work/i3" --iters 5
grep -q '"error"' "$work/i3/metrics.json" && ok "invert: per-image error recorded in metrics.json" \
  || bad "invert: per-image error recorded in metrics.json"
echo "not a folder" > "$work/file_not_dir"
expect_fail "invert: output is not a folder" "output folder" "$bin" invert "$photo" --out "$work/file_not_dir/sub"
mkdir -p "$work/readonly"; chmod a-w "$work/readonly"
if [ "$(id -u)" -ne 0 ]; then
  expect_fail "invert: non-writable output" "not writable" "$bin" invert "$photo" --out "$work/readonly"
fi
expect_fail "invert: LBP is not invertible by optimisation" "not differentiable" \
  "$bin" invert "$photo" --rep lbp --out "$work/i4"
expect_fail "invert: NaN parameters are refused" "positive finite" \
  "$bin" invert "$photo" --size 64 --iters 30 --C nan --out "$work/i5"
no_files "invert: nothing written after refusing parameters" "$work/i5" "*"
if "$bin" invert "$photo" --size 64 --iters 40 --restarts 2 --snapshots 20 --out "$work/inv" 2>"$work/stderr" &&
   [ -s "$work/inv/astronaut_r0.png" ] && [ -s "$work/inv/astronaut_r1.png" ] &&
   [ -s "$work/inv/astronaut_sheet.png" ] && [ -s "$work/inv/index.html" ] && [ -s "$work/inv/config.json" ] &&
   [ -s "$work/inv/snapshots/astronaut_r1_it40.png" ] && grep -q feature_error "$work/inv/metrics.json"; then
  ok "invert: restarts, snapshots, sheet, gallery, config and metrics"
else bad "invert: full outputs"; cat "$work/stderr"; ls -R "$work/inv"; fi

# --- eval ---
"$bin" invert "$photo" --size 64 --iters 20 --out "$work/ev" 2>/dev/null
if "$bin" eval "$photo" "$work/ev" --size 64 >"$work/stdout" 2>&1 && grep -q mean "$work/stdout" &&
   [ -s "$work/ev/eval_hog.json" ]; then ok "eval: table and JSON"
else bad "eval"; cat "$work/stdout"; fi
expect_fail "eval: size mismatch is explained" "--size" "$bin" eval "$photo" "$work/ev"
expect_fail "eval: missing reconstruction" "no reconstruction" "$bin" eval "$data/tiny_7x7.png" "$work/ev"

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
