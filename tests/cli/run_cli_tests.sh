#!/usr/bin/env bash
# CLI tests: run the built `preimage` on good and bad inputs and check exit codes, messages and outputs.
# Usage: PREIMAGE_BIN=path/to/preimage run_cli_tests.sh tests/data [folder of network fixtures]
set -u
bin=${PREIMAGE_BIN:?set PREIMAGE_BIN}
data=${1:?data folder}
photo=/usr/lib/python3/dist-packages/skimage/data/astronaut.png
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
source "$(dirname "$0")/check.sh"
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

# --- CPU code path (kernels/cpu_isa.h) ---
"$bin" --version >"$work/version" 2>&1
runnable=$(sed -n 's/.*this machine runs: \([a-z0-9 ]*\);.*/\1/p' "$work/version")
case " $runnable " in *" baseline "*) ok "--version lists the runnable code paths ($runnable)" ;;
  *) bad "--version lists the runnable code paths"; cat "$work/version" ;; esac
for isa in $runnable; do
  if PREIMAGE_ISA=$isa "$bin" --version 2>&1 | grep -q "CPU code path: $isa "; then ok "PREIMAGE_ISA=$isa is used"
  else bad "PREIMAGE_ISA=$isa is used"; fi
done
expect_fail "PREIMAGE_ISA: an unknown value is refused" "not an ISA this build knows" \
  env PREIMAGE_ISA=sse9 "$bin" --version
for isa in avx2 avx512; do
  case " $runnable " in *" $isa "*) ;;
    *) expect_fail "PREIMAGE_ISA=$isa is refused on a machine without it" "cannot run the $isa code path" \
         env PREIMAGE_ISA=$isa "$bin" features "$photo" --size 64 --out "$work/isa_$isa" ;; esac
done
if PREIMAGE_ISA=baseline "$bin" invert "$photo" --size 48 --iters 3 --out "$work/isa_base" 2>/dev/null &&
   grep -q '"cpu_isa": "baseline"' "$work/isa_base/config.json"; then ok "config.json records the CPU code path"
else bad "config.json records the CPU code path"; fi

# --- features ---
mkdir -p "$work/empty" "$work/mixed"
cp "$data/tiny_7x7.png" "$work/mixed/"; cp "$data/corrupt/truncated.png" "$work/mixed/"
expect_fail "features: unknown representation" "unknown representation 'sift3d'" \
  "$bin" features "$photo" --rep sift3d --out "$work/f0"
expect_fail "features: empty folder" "holds no images" "$bin" features "$work/empty" --out "$work/f1"
expect_fail "features: image smaller than two cells" "tiny_7x7" "$bin" features "$data/tiny_7x7.png" --out "$work/f2"
no_files "features: nothing written for a too-small image" "$work/f2" "tiny*"
expect_fail "features: folder with a bad and a small image" "truncated.png" "$bin" features "$work/mixed" --out "$work/f3"
no_files "features: no features for the failed images" "$work/f3" "*.safetensors"
grep -q '"failures": 2' "$work/f3/metrics.json" && ok "features: both failures in metrics.json" ||
  bad "features: both failures in metrics.json"
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

# --- invert --batch: a folder of mixed sizes (grouped by size within a chunk), restarts split across batches, a
# failing input among them; every output byte is the unbatched run's ---
mkdir -p "$work/sizes"
cp "$data"/decoder_photos/synthetic_*.png "$data/tiny_7x7.png" "$work/sizes/"
/usr/bin/python3 -c "from PIL import Image; Image.open('$photo').convert('L').resize((64, 56)).save('$work/sizes/astro.png')"
"$bin" invert "$work/sizes" --iters 15 --restarts 2 --snapshots 10 --batch 1 --out "$work/b1" >/dev/null 2>&1
rc1=$?
"$bin" invert "$work/sizes" --iters 15 --restarts 2 --snapshots 10 --batch 3 --out "$work/b3" >"$work/stdout" 2>&1
rc3=$?
same=1
for f in "$work"/b1/*.png "$work"/b1/snapshots/*.png; do
  cmp -s "$f" "$work/b3/${f#"$work"/b1/}" || { same=0; echo "differs: ${f#"$work"/b1/}"; }
done
n1=$(ls "$work"/b1/*_r1.png | wc -l)
if [ $rc1 -eq 2 ] && [ $rc3 -eq 2 ] && [ $same -eq 1 ] && [ "$n1" -eq 5 ] && grep -q "batch of 3" "$work/stdout" &&
   /usr/bin/python3 - "$work/b1/metrics.json" "$work/b3/metrics.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert [i["file"] for i in a["images"]] == [i["file"] for i in b["images"]]
for x, y in zip(a["images"], b["images"]):
    assert ("error" in x) == ("error" in y), (x, y)
    if "error" in x: continue
    assert [r["feature_error"] for r in x["runs"]] == [r["feature_error"] for r in y["runs"]], (x, y)
    assert [r["final"] for r in x["runs"]] == [r["final"] for r in y["runs"]], (x, y)
    assert {r["batch"] for r in x["runs"]} == {1} and max(r["batch"] for r in y["runs"]) > 1, (x["file"], x["runs"], y["runs"])
assert b["failures"] == 1 and [i["file"] for i in b["images"] if "error" in i][0].endswith("tiny_7x7.png")
PY
then ok "invert --batch 3: same PNG bytes and metrics as --batch 1 over mixed sizes, restarts and a failure"
else bad "invert --batch 3 vs --batch 1 (rc $rc1 $rc3, same $same, $n1 second restarts)"; cat "$work/stdout"; fi
expect_fail "invert --batch is for --rep" "--batch is for --rep" \
  "$bin" invert "$photo" --model "$work/none.safetensors" --layer relu1 --batch 4 --out "$work/bm"

# --- --shard i/n and merge: the shards of a folder, merged, are the bytes of one run over it ---
mkdir -p "$work/shards"
for cmdname in invert features; do
  args=(--out "$work/sh_all_$cmdname"); [ $cmdname = invert ] && args+=(--iters 10 --snapshots 5)
  "$bin" $cmdname "$work/sizes" "${args[@]}" >/dev/null 2>&1
  for i in 0 1 2; do
    args=(--out "$work/sh_${cmdname}_$i" --shard $i/3); [ $cmdname = invert ] && args+=(--iters 10 --snapshots 5)
    "$bin" $cmdname "$work/sizes" "${args[@]}" >/dev/null 2>&1
  done
  "$bin" merge "$work/sh_${cmdname}_0" "$work/sh_${cmdname}_1" "$work/sh_${cmdname}_2" --out "$work/sh_m_$cmdname" \
    >"$work/stdout" 2>&1; rc=$?
  a="$work/sh_all_$cmdname" m="$work/sh_m_$cmdname" same=1
  [ "$(cd "$a" && find . -type f ! -name '*.json' ! -name '*.html' | sort)" = \
    "$(cd "$m" && find . -type f ! -name '*.json' ! -name '*.html' | sort)" ] || { same=0; echo "file lists differ"; }
  for f in $(cd "$a" && find . -type f ! -name '*.json' ! -name '*.html'); do cmp -s "$a/$f" "$m/$f" || { same=0; echo "differs: $f"; }; done
  sizes=$(for i in 0 1 2; do /usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["images"]))' "$work/sh_${cmdname}_$i/metrics.json"; done | tr '\n' ' ')
  if [ $rc -eq 2 ] && [ $same -eq 1 ] && same_metrics "$a/metrics.json" "$m/metrics.json" &&
     /usr/bin/python3 - "$a/metrics.json" "$m/config.json" <<'PY'
import json, sys
a, c = (json.load(open(f)) for f in sys.argv[1:])
assert len(c["files"]) == len(a["images"]) == 6 and "shard" not in c and len(c["merged_from"]) == 3
PY
  then ok "$cmdname --shard i/3 + merge = one run over the folder (shard sizes $sizes)"
  else bad "$cmdname --shard + merge (rc $rc, same $same)"; cat "$work/stdout"; fi
done
expect_fail "merge: a missing shard is named" "shards 2 of 3 are missing" \
  "$bin" merge "$work/sh_invert_0" "$work/sh_invert_1" --out "$work/sh_bad"
expect_fail "merge: a repeated shard" "are both shard 0/3" \
  "$bin" merge "$work/sh_invert_0" "$work/sh_invert_0" "$work/sh_invert_1" --out "$work/sh_bad"
expect_fail "merge: shards of different commands" "other settings" \
  "$bin" merge "$work/sh_invert_0" "$work/sh_features_1" "$work/sh_invert_2" --out "$work/sh_bad"
expect_fail "merge: a run without --shard" "is not a shard" "$bin" merge "$work/sh_all_invert" --out "$work/sh_bad"
expect_fail "--shard: malformed" "expected i/n with 0 <= i < n" "$bin" features "$work/sizes" --shard 3/3 --out "$work/sh_bad"

# --- eval ---
"$bin" invert "$photo" --size 64 --iters 20 --out "$work/ev" 2>/dev/null
if "$bin" eval "$photo" "$work/ev" --size 64 >"$work/stdout" 2>&1 && grep -q mean "$work/stdout" &&
   [ -s "$work/ev/eval_hog.json" ]; then ok "eval: table and JSON"
else bad "eval"; cat "$work/stdout"; fi
expect_fail "eval: size mismatch is explained" "--size" "$bin" eval "$photo" "$work/ev"
expect_fail "eval: missing reconstruction" "no reconstruction" "$bin" eval "$data/tiny_7x7.png" "$work/ev"
# The lossless reconstruction: eval reads it, and its error is the optimiser's to 16-bit rounding; the 8-bit one
# is further off.
if [ -s "$work/ev/astronaut_16bit.png" ] &&
   "$bin" eval "$photo" "$work/ev" --size 64 --json "$work/ev16.json" >/dev/null 2>&1 &&
   "$bin" eval "$photo" "$work/ev" --size 64 --8bit --json "$work/ev8.json" >/dev/null 2>&1 &&
   /usr/bin/python3 - "$work/ev/metrics.json" "$work/ev16.json" "$work/ev8.json" <<'PY'
import json, sys
opt = json.load(open(sys.argv[1]))["images"][0]["feature_error"]
e16 = json.load(open(sys.argv[2]))["per_image"][0]
e8 = json.load(open(sys.argv[3]))["per_image"][0]
assert e16["file"] == "astronaut_16bit.png" and e8["file"] == "astronaut.png", (e16, e8)
assert abs(e16["ijcv_error"] - opt) < 2e-3 * opt, (opt, e16)
assert abs(e8["ijcv_error"] - opt) > abs(e16["ijcv_error"] - opt), (opt, e16, e8)
PY
then ok "eval: the 16-bit reconstruction reproduces the optimiser's error"
else bad "eval: the 16-bit reconstruction reproduces the optimiser's error"; fi

# --- bench ---
# Option errors are reported before any GPU is looked for; --list needs no GPU. Without a GPU (and always in the
# emulated build) `bench` says so, exits 0 and writes no JSON; on a GPU a quick run of one small case writes it.
expect_fail "bench: --runs 0 is refused" "--runs must be at least 1" "$bin" bench --runs 0
expect_fail "bench: a filter matching no case" "no case matches" "$bin" bench --cases no_such_case
if "$bin" bench --list >"$work/stdout" 2>&1 && grep -q "^alexnet.conv1.b64.fwd" "$work/stdout" &&
   grep -q "^vggm.conv2.b1.bwd_filter" "$work/stdout" && grep -q "^decoder_fc8.upconv5.b64.bwd_data" "$work/stdout" &&
   grep -q "^sgemm.4096.fwd" "$work/stdout" && grep -q "^dsift.640x480.bwd" "$work/stdout"; then
  ok "bench --list names the issue's cases"
else bad "bench --list"; cat "$work/stdout"; fi
if "$bin" bench --quick --cases leaky_relu.alexnet_conv1.b1 --json "$work/bench.json" >"$work/stdout" 2>&1; then
  if grep -q "no GPU present\|no CUDA GPU present" "$work/stdout"; then
    if [ ! -e "$work/bench.json" ]; then ok "bench without a GPU: says so, exits 0, writes no JSON"
    else bad "bench without a GPU wrote $work/bench.json"; fi
  elif grep -q '"median_ms"' "$work/bench.json" 2>/dev/null; then ok "bench --quick on the GPU writes JSON"
  else bad "bench --quick: no GPU message and no timings"; cat "$work/stdout"; fi
else bad "bench --quick exited non-zero"; cat "$work/stdout"; fi

# --- CNN commands: init-weights, invert --model, stats, actmax, caricature (random reduced AlexNet) ---
net="$work/alex_random.safetensors"
if "$bin" init-weights --model alexnet --seed 0 --fc-width 16 --classes 10 --out "$net" 2>"$work/stderr" &&
   [ -s "$net" ] && head -c 4096 "$net" | grep -aq '"preimage.random_weights":"true"'; then
  ok "init-weights: a random reduced AlexNet labelled as random"
else bad "init-weights"; cat "$work/stderr"; fi
expect_fail "invert --model: unknown layer lists the valid names" "the layers are: conv1, relu1" \
  "$bin" invert "$photo" --model "$net" --layer conv9 --out "$work/c1"
no_files "invert --model: nothing written for an unknown layer" "$work/c1" "*"
expect_fail "invert: --rep and --model are mutually exclusive" "mutually exclusive" \
  "$bin" invert "$photo" --rep hog --model "$net" --layer relu1 --out "$work/c2"
expect_fail "invert: --layer without --model" "need --model" "$bin" invert "$photo" --layer relu1 --out "$work/c2b"
expect_fail "invert --model: missing network file" "no such network file" \
  "$bin" invert "$photo" --model "$work/nope.safetensors" --layer relu1 --out "$work/c3"
head -c 5000 "$net" > "$work/truncated.safetensors"
expect_fail "invert --model: truncated network file" "truncated file" \
  "$bin" invert "$photo" --model "$work/truncated.safetensors" --layer relu1 --out "$work/c4"
no_files "invert --model: nothing written for a corrupt network file" "$work/c4" "*"
expect_fail "invert --model: channel group that does not split the layer" "equal groups" \
  "$bin" invert "$photo" --model "$net" --layer relu1 --size 64 --channel-group 1/5 --out "$work/c5"
no_files "invert --model: nothing written after refusing a mask" "$work/c5" "*"
if "$bin" invert "$photo" --model "$net" --layer relu1 --size 64 --iters 4 --final-iters 2 --restarts 2 \
     --snapshots 3 --out "$work/cinv" 2>"$work/stderr" &&
   [ -s "$work/cinv/astronaut_r0.png" ] && [ -s "$work/cinv/astronaut_r1.png" ] &&
   [ -s "$work/cinv/astronaut_sheet.png" ] && [ -s "$work/cinv/index.html" ] &&
   [ -s "$work/cinv/snapshots/astronaut_r1_it6.png" ] && grep -q feature_error "$work/cinv/metrics.json" &&
   grep -q '"random_weights": true' "$work/cinv/config.json" && grep -q '"C": 300.0' "$work/cinv/config.json" &&
   grep -q 'RANDOM WEIGHTS' "$work/cinv/index.html"; then
  ok "invert --model relu1: restarts, snapshots through the final stage, sheet, gallery, random-weight labels"
else bad "invert --model relu1"; cat "$work/stderr"; ls -R "$work/cinv"; fi
if "$bin" invert "$photo" --model "$net" --layer conv2 --size 64 --iters 3 --final-iters 1 --mask-window 5 \
     --channel-group 2/2 --out "$work/cmask" 2>"$work/stderr" && grep -q feature_error_unmasked "$work/cmask/metrics.json" &&
   grep -q '"channel_group": "2/2"' "$work/cmask/config.json"; then ok "invert --model: window and channel-group masks"
else bad "invert --model masks"; cat "$work/stderr"; fi
if "$bin" invert "$photo" --model "$net" --layer fc8 --iters 1 --final-iters 1 --out "$work/cfc8" 2>"$work/stderr" &&
   [ -s "$work/cfc8/astronaut.png" ] && grep -q '"jitter": 8' "$work/cfc8/config.json"; then
  ok "invert --model fc8 at the nominal 227x227 (C 1, jitter 8)"
else bad "invert --model fc8"; cat "$work/stderr"; fi
mkdir -p "$work/statsin"; cp "$photo" "$work/statsin/"; cp "$data/tiny_7x7.png" "$work/statsin/"
expect_fail "stats: images too small for the layer stop the command" "too small" \
  "$bin" stats "$work/statsin" --model "$net" --layer conv2 --out "$work/st/bad.json" --size 8
no_files "stats: no partial statistics file" "$work/st" "*"
rm "$work/statsin/tiny_7x7.png"
if "$bin" stats "$work/statsin" --model "$net" --layer conv2 --size 64 --out "$work/st/conv2.json" 2>"$work/stderr" &&
   grep -q '"max"' "$work/st/conv2.json" && grep -q '"random_weights": true' "$work/st/conv2.json"; then
  ok "stats: per-channel maxima"
else bad "stats"; cat "$work/stderr"; fi
expect_fail "actmax: --unit out of range" "units 0..255" \
  "$bin" actmax --model "$net" --layer conv2 --size 64 --unit 256 --out "$work/am0"
no_files "actmax: nothing written for a bad unit" "$work/am0" "*"
expect_fail "actmax: statistics of another layer" "statistics of alexnet conv2" \
  "$bin" actmax --model "$net" --layer relu2 --size 64 --unit 3 --stats "$work/st/conv2.json" --out "$work/am1"
if "$bin" actmax --model "$net" --layer conv2 --size 64 --unit 3 --stats "$work/st/conv2.json" --iters 5 \
     --out "$work/am" 2>"$work/stderr" && [ -s "$work/am/conv2_unit3.png" ] && [ -s "$work/am/conv2_unit3_sheet.png" ] &&
   grep -q activation_over_M "$work/am/metrics.json" && grep -q '"M_source"' "$work/am/config.json" &&
   [ -s "$work/am/index.html" ]; then ok "actmax: unit 3 of conv2 with M from stats"
else bad "actmax"; cat "$work/stderr"; fi
if "$bin" caricature "$photo" --model "$net" --layer relu2 --size 64 --iters 5 --out "$work/car" 2>"$work/stderr" &&
   [ -s "$work/car/astronaut.png" ] && grep -q projection "$work/car/metrics.json" &&
   grep -q '"random_weights": true' "$work/car/config.json"; then ok "caricature: relu2"
else bad "caricature"; cat "$work/stderr"; fi
expect_fail "caricature: missing network file" "no such network file" \
  "$bin" caricature "$photo" --model "$work/none.safetensors" --layer relu2 --out "$work/car2"
expect_fail "activations: unknown layer lists the valid names" "the layers are" \
  "$bin" activations "$photo" --model "$net" --layer conv5,conv9 --out "$work/act0"
no_files "activations: nothing written for an unknown layer" "$work/act0" "*"
expect_fail "activations: --top 0 is refused" "--top must be at least 1" \
  "$bin" activations "$photo" --model "$net" --layer fc8 --top 0 --out "$work/act1"
expect_fail "activations: an unknown --preprocess" "preprocess" \
  "$bin" activations "$photo" --model "$net" --layer fc8 --preprocess opencv --out "$work/act2"
expect_fail "eval: --model without --layer" "go together" "$bin" eval "$photo" "$work/cinv" --model "$net"
for p in caffe torchvision; do
  if "$bin" activations "$photo" --model "$net" --layer relu1 --preprocess $p --out "$work/act_$p" 2>/dev/null &&
     grep -q "\"preprocess\": \"$p\"" "$work/act_$p/config.json"; then ok "activations --preprocess $p"
  else bad "activations --preprocess $p"; fi
done

# --- the CNN commands on a converted file: the parity tests' MatConvNet AlexNet fixture (random weights saved by
# tests/golden/gen_models.py laid out like imagenet-caffe-alex.mat, fc6/fc7 32 wide, 10 classes) ---
fixtures=${2:-}
if [ -n "$fixtures" ] && [ -s "$fixtures/alexnet.mat" ]; then
  conv="$work/alexnet_converted.safetensors"
  if "$bin" convert-weights "$fixtures/alexnet.mat" "$conv" --model alexnet --fc-width 32 --classes 10 \
       >"$work/stdout" 2>&1 && [ -s "$conv" ]; then ok "convert-weights: the MatConvNet fixture"
  else bad "convert-weights of the fixture"; cat "$work/stdout"; fi
  if "$bin" invert "$photo" --model "$conv" --layer relu3 --size 99 --iters 2 --final-iters 1 --out "$work/cv" \
       2>"$work/stderr" && [ -s "$work/cv/astronaut.png" ] && grep -q '"random_weights": false' "$work/cv/config.json" &&
     mkdir -p "$work/cvin" && cp "$photo" "$work/cvin/" &&
     "$bin" stats "$work/cvin" --model "$conv" --layer fc8 --out "$work/cv/fc8.json" 2>>"$work/stderr" &&
     grep -q "\"max\"" "$work/cv/fc8.json" &&
     "$bin" actmax --model "$conv" --layer fc8 --unit 7 --M 50 --iters 2 --out "$work/cva" \
       2>>"$work/stderr" && [ -s "$work/cva/fc8_unit7.png" ] &&
     "$bin" caricature "$photo" --model "$conv" --layer conv4 --size 99 --iters 2 --out "$work/cvc" \
       2>>"$work/stderr" && [ -s "$work/cvc/astronaut.png" ]; then
    ok "invert, stats, actmax, caricature on the converted fixture"
  else bad "the CNN commands on the converted fixture"; cat "$work/stderr"; fi
  [ -s "$work/cv/astronaut_features.png" ] && [ -s "$work/cv/astronaut_16bit.png" ] &&
    grep -q features_png "$work/cv/metrics.json" && ok "invert --model: the layer's channel grid and a 16-bit file"     || bad "invert --model: the layer's channel grid and a 16-bit file"
  # activations: layer dumps, channel grids, top-k with the class names the converter took from meta.classes
  if "$bin" activations "$photo" --model "$conv" --layer conv5,fc8,prob --top 3 --out "$work/act"        >"$work/stdout" 2>"$work/stderr" && [ -s "$work/act/astronaut_conv5.safetensors" ] &&
     [ -s "$work/act/astronaut_conv5.png" ] && [ -s "$work/act/astronaut_fc8.png" ] && [ -s "$work/act/index.html" ] &&
     grep -q "fixture class" "$work/stdout" && grep -q '"probabilities_from": "softmax of fc8"' "$work/act/metrics.json" &&
     /usr/bin/python3 - "$work/act/metrics.json" <<'PY'
import json, sys
layers = {l["layer"]: l for l in json.load(open(sys.argv[1]))["images"][0]["layers"]}
for name in ("fc8", "prob"):
    top = layers[name]["top"]
    assert len(top) == 3 and top[0]["probability"] >= top[1]["probability"] >= top[2]["probability"], top
# the softmax of fc8 is prob
assert [t["class"] for t in layers["fc8"]["top"]] == [t["class"] for t in layers["prob"]["top"]]
assert abs(layers["fc8"]["top"][0]["probability"] - layers["prob"]["top"][0]["probability"]) < 1e-5
PY
  then ok "activations: dumps, channel grids and top-3 with class names"
  else bad "activations"; cat "$work/stderr" "$work/stdout"; fi
  # eval of a CNN layer: the reconstruction written by invert --model above
  if "$bin" eval "$photo" "$work/cv" --model "$conv" --layer relu3 --size 99 --json "$work/cv_eval.json"        >/dev/null 2>"$work/stderr" &&
     /usr/bin/python3 - "$work/cv/metrics.json" "$work/cv_eval.json" <<'PY'
import json, sys
opt = json.load(open(sys.argv[1]))["images"][0]["feature_error"]
ev = json.load(open(sys.argv[2]))["per_image"][0]["ijcv_error"]
assert abs(ev - opt) < 1e-2 * opt + 1e-4, (opt, ev)
PY
  then ok "eval --model --layer: the CNN layer error of invert --model's reconstruction"
  else bad "eval --model --layer"; cat "$work/stderr"; fi
else bad "no converted-network fixture folder given (second argument; tests/CMakeLists.txt passes it)"; fi

# --- --device cuda (docs/device.md) ---
# `--help` names the build's CUDA backend (nvcc or emulated). In the nvcc build without a GPU every computing
# command refuses --device cuda at once, with the message, a non-zero exit and no output; with a GPU, or in the
# emulated build (whose emulated device counts as one), tiny runs on cuda write their outputs and record the device.
backend=$("$bin" invert --help | grep -o 'CUDA backend: [a-z]*' | head -n 1 | cut -d' ' -f3)
[ "$backend" = nvcc ] || [ "$backend" = emulated ] && ok "--help names the CUDA backend ($backend)" \
  || bad "--help names the CUDA backend: got '$backend'"
has_gpu=no
if [ "$backend" = emulated ] || { command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; }; then
  has_gpu=yes
fi
if [ "$has_gpu" = no ]; then
  nogpu="no CUDA device found"
  expect_fail "features --device cuda without a GPU" "$nogpu" "$bin" features "$photo" --device cuda --out "$work/dv1"
  expect_fail "invert --rep --device cuda without a GPU" "$nogpu" \
    "$bin" invert "$photo" --size 32 --iters 2 --device cuda --out "$work/dv2"
  expect_fail "invert --model --device cuda without a GPU" "$nogpu" \
    "$bin" invert "$photo" --model "$net" --layer relu1 --device cuda --out "$work/dv3"
  expect_fail "stats --device cuda without a GPU" "$nogpu" \
    "$bin" stats "$photo" --model "$net" --layer conv1 --device cuda --out "$work/dv4/s.json"
  expect_fail "actmax --device cuda without a GPU" "$nogpu" \
    "$bin" actmax --model "$net" --layer conv1 --unit 0 --device cuda --out "$work/dv5"
  expect_fail "caricature --device cuda without a GPU" "$nogpu" \
    "$bin" caricature "$photo" --model "$net" --layer relu1 --device cuda --out "$work/dv6"
  expect_fail "eval --device cuda without a GPU" "$nogpu" "$bin" eval "$photo" "$work/ev" --device cuda
  grep -q "use --device cpu" "$work/stderr" && ok "the message says to use --device cpu" \
    || bad "the message says to use --device cpu"
  for d in dv1 dv2 dv3 dv4 dv5 dv6; do
    [ -e "$work/$d" ] && bad "--device cuda without a GPU wrote $work/$d" || ok "--device cuda without a GPU: no $d"
  done
else
  if "$bin" features "$photo" --rep hog --size 48 --out "$work/dvf_cpu" 2>"$work/stderr" &&
     "$bin" features "$photo" --rep hog --size 48 --device cuda --out "$work/dvf_cuda" 2>>"$work/stderr" &&
     cmp -s "$work/dvf_cpu/astronaut.png" "$work/dvf_cuda/astronaut.png"; then
    ok "features --device cuda: the HOG glyph is the CPU's, byte for byte"
  else bad "features --device cuda"; cat "$work/stderr"; fi
  if "$bin" invert "$photo" --size 32 --iters 6 --snapshots 3 --device cuda --out "$work/dvi" 2>"$work/stderr" &&
     [ -s "$work/dvi/astronaut.png" ] && [ -s "$work/dvi/snapshots/astronaut_it3.png" ] &&
     grep -q '"name": "cuda"' "$work/dvi/config.json" && grep -q "\"backend\": \"$backend\"" "$work/dvi/config.json" &&
     grep -q feature_error "$work/dvi/metrics.json"; then
    ok "invert --rep hog --device cuda: reconstruction, snapshot, device in config.json"
  else bad "invert --device cuda"; cat "$work/stderr"; fi
  if [ "$backend" = emulated ]; then
    # The emulated kernels round exactly as the CPU reference on this path (no FMA contraction by g++).
    if "$bin" invert "$photo" --size 32 --iters 6 --device cpu --out "$work/dvi_cpu" 2>"$work/stderr" &&
       cmp -s "$work/dvi/astronaut.png" "$work/dvi_cpu/astronaut.png"; then
      ok "invert --rep hog: emulated cuda and cpu reconstructions are byte for byte the same"
    else bad "invert --rep hog: emulated cuda differs from cpu"; cat "$work/stderr"; fi
  fi
  if "$bin" invert "$photo" --model "$net" --layer relu1 --size 35 --iters 2 --final-iters 1 --device cuda \
       --out "$work/dvm" 2>"$work/stderr" && [ -s "$work/dvm/astronaut.png" ] &&
     grep -q '"name": "cuda"' "$work/dvm/config.json"; then
    ok "invert --model relu1 --device cuda"
  else bad "invert --model --device cuda"; cat "$work/stderr"; fi
fi
expect_fail "--device must be cpu or cuda" "device" "$bin" features "$photo" --device tpu --out "$work/dv7"

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
