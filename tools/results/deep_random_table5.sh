#!/usr/bin/env bash
# RANDOM WEIGHTS. Reproduces docs/results/deep.md: inverts a few Debian photos (colour, centre square resized to
# 227x227) from every layer of a random-weight AlexNet (full heads: fc6/fc7 4096, fc8 1000; He-normal, seed 0,
# `preimage init-weights`) with the paper's per-layer C (300/100/20/1, seed 001 sect. 5.2.1) and jitter, and writes
# the mean normalised feature error per layer in a table like seed 001 Table 5, plus a Fig. 5-like contact sheet of
# one photo. The paper's numbers are for the trained network and are NOT comparable: this shows that the pipeline
# inverts every layer, not what a trained AlexNet encodes. Real weights: tools/results/deep_reproduce.sh.
#
# Usage: tools/results/deep_random_table5.sh [OUT=out/deep_random] [extra `preimage invert` options...]
# Environment: ITERS (jittered iterations, default 70), FINAL_ITERS (no-jitter final stage, default 20; the paper's
# code uses 300 + 50), THREADS (2), PHOTOS (image paths, default skimage chelsea astronaut coffee), SHEET (stem of the
# contact-sheet photo, default chelsea), LAYERS (default all 20 of Table 5), PREIMAGE_BIN (default build/preimage).
# Resumable: a layer whose metrics.json exists is skipped (FORCE=1 redoes it). Run it niced on a shared machine:
#   nice -n 19 tools/results/deep_random_table5.sh out/deep_random
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-out/deep_random}
shift || true
bin=${PREIMAGE_BIN:-build/preimage}
[ -x "$bin" ] || { echo "build first: bash tools/build.sh (or set PREIMAGE_BIN)" >&2; exit 1; }
iters=${ITERS:-70}
final=${FINAL_ITERS:-20}
threads=${THREADS:-2}
sk=/usr/lib/python3/dist-packages/skimage/data
photos=${PHOTOS:-"$sk/chelsea.png $sk/astronaut.png $sk/coffee.png"}
sheet=${SHEET:-chelsea}
layers=${LAYERS:-"conv1 relu1 norm1 pool1 conv2 relu2 norm2 pool2 conv3 relu3 conv4 relu4 conv5 relu5 pool5 fc6 relu6
fc7 relu7 fc8"}
py=/usr/bin/python3
here=tools/results

mkdir -p "$out/photos"
for f in $photos; do
  [ -f "$f" ] || { echo "$f: no such photo" >&2; exit 1; }
  ln -sf "$(realpath "$f")" "$out/photos/$(basename "$f")"
done
model="$out/alexnet-random-seed0.safetensors"
[ -f "$model" ] || "$bin" init-weights --model alexnet --seed 0 --out "$model"

log="$out/layer_seconds.txt"
echo "# $(date -u +%FT%TZ) iters=$iters final_iters=$final threads=$threads photos=$(ls "$out/photos" | tr '\n' ' ')" \
  >> "$log"
t0=$(date +%s)
for l in $layers; do
  if [ -f "$out/$l/metrics.json" ] && [ -z "${FORCE:-}" ]; then
    echo "$l: already done ($out/$l/metrics.json), skipping" >&2
    continue
  fi
  ts=$(date +%s)
  "$bin" invert "$out/photos" --model "$model" --layer "$l" --iters "$iters" --final-iters "$final" \
    --threads "$threads" --out "$out/$l" "$@"
  echo "$l $(( $(date +%s) - ts ))" >> "$log"
done
echo "# total $(( $(date +%s) - t0 )) s" >> "$log"

{
  echo "RANDOM WEIGHTS (alexnet, He-normal, seed 0); $iters + $final iterations; photos: $(ls "$out/photos" | tr '\n' ' ')"
  echo
  "$py" "$here/deep_table.py" rule "$out"
} > "$out/table.md"
tiles=()
for l in $layers; do tiles+=("$l=$out/$l/$sheet.png"); done
"$py" "$here/deep_sheet.py" --out "$out/figure.jpg" --original "$(ls "$out/photos/$sheet".* | head -1)" --cols 7 \
  --tile 160 --title "RANDOM-WEIGHT AlexNet: $sheet inverted from each layer ($iters + $final iterations)" "${tiles[@]}"
cat "$out/table.md"
echo "results in $out (table.md, figure.jpg, per-layer galleries $out/<layer>/index.html; seconds: $log)"
