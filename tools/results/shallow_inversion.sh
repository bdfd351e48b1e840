#!/usr/bin/env bash
# Reproduces docs/results/shallow.md: inverts the 21 photos of tools/results/photos.txt (227x227, gray) from their
# HOG, HOGb and DSIFT features (IJCV 2016 settings: C = 20, no jitter, cell 8, T = 300; plus our two solver changes,
# spelled out so that an older binary fails instead of silently giving other numbers: the step of Algorithm 1 annealed
# linearly to 0, and for hard HOG the straight-through bilinear gradient) and evaluates both error definitions.
# Usage: tools/results/shallow_inversion.sh [OUT=out/shallow] [extra invert options...]
# The papers' Algorithm 1 unchanged: add --anneal-from 1 --hog-gradient hard.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-out/shallow}
shift || true
bin=${PREIMAGE_BIN:-build/preimage}
[ -x "$bin" ] || { echo "build first: bash tools/build.sh" >&2; exit 1; }
mkdir -p "$out/photos"
grep -v '^#' tools/results/photos.txt | while read -r f; do
  [ -n "$f" ] && ln -sf "$f" "$out/photos/$(basename "$f")"
done
for rep in hog hogb dsift; do
  # DSIFT with VLFeat's flat ("fast") window, as the papers' CNN-DSIFT (CVPR 2015 footnote 1)
  extra=(); [ "$rep" = dsift ] && extra=(--flat-window)
  solver=(--C 20 --iters 300 --anneal-from 0); [ "$rep" = hog ] && solver+=(--hog-gradient bilinear)
  "$bin" invert "$out/photos" --rep "$rep" --size 227 --out "$out/$rep" "${solver[@]}" "${extra[@]}" "$@"
  # the lossless 16-bit reconstructions (eval's default) and the 8-bit PNGs
  "$bin" eval "$out/photos" "$out/$rep" --rep "$rep" --size 227 "${extra[@]}" --json "$out/eval_$rep.json"
  "$bin" eval "$out/photos" "$out/$rep" --rep "$rep" --size 227 "${extra[@]}" --8bit --json "$out/eval8_$rep.json"
done
/usr/bin/python3 tools/results/shallow_figure.py "$out" "$out/figure.png"
/usr/bin/python3 tools/results/shallow_table.py "$out" > "$out/tables.md"
echo "results in $out (figure: $out/figure.png)"
