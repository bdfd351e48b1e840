#!/usr/bin/env bash
# The reproduction script of docs/results/decoders_alexnet.md end to end on its smoke setting (a tiny random
# network, a few steps of every experiment), and once more to check that a rerun keeps the finished training runs.
# Usage: PREIMAGE_BIN=path/to/preimage run_alexnet_results_smoke.sh tests/data
set -u
bin=${PREIMAGE_BIN:?set PREIMAGE_BIN}
data=${1:?data folder}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/check.sh"
script=$(dirname "$0")/../../tools/results/decoders_alexnet.sh
photos=$data/decoder_photos_large
if PREIMAGE_BIN=$bin bash "$script" --scale smoke --train "$photos" --test "$photos" --out "$work/r" \
     >"$work/log" 2>&1; then ok "decoders_alexnet.sh --scale smoke"
else bad "decoders_alexnet.sh --scale smoke"; cat "$work/log"; tail -n 20 "$work/r/log.txt"; fi
for f in table.md fig7.png fig5.png fig9.png fig6_autoencoder.png fig8_fc8_top5.png fig10_fc8_interpolation.png \
         fig11_fc8_samples.png units_fc8.png init.md init_decoder.png; do
  [ -s "$work/r/report/$f" ] || bad "the report lacks $f"
done
grep -q 'RANDOM WEIGHTS' "$work/r/report/table.md" && ok "the table says RANDOM WEIGHTS" ||
  bad "the table does not say RANDOM WEIGHTS"
# Every layer has a number in each decoder column, the autoencoder (conv5) in its own.
if /usr/bin/python3 - "$work/r/report/table.md" <<'PY'
import sys
rows = [l.split("|")[1:-1] for l in open(sys.argv[1]) if l.startswith("| conv") or l.startswith("| fc")]
assert [r[0].strip() for r in rows] == ["conv1", "conv5", "fc6", "fc8"], rows
for r in rows:
    vals = [c.strip() for c in r[1:6]]
    assert all(float(v) > 0 for v in vals), r
assert float(rows[1][6]) > 0, rows[1]
PY
then ok "the table has every layer and the autoencoder"
else bad "the table is incomplete"; cat "$work/r/report/table.md"; fi
cp "$work/r/dec_conv1/decoder.safetensors" "$work/before.safetensors"
if PREIMAGE_BIN=$bin bash "$script" --scale smoke --train "$photos" --test "$photos" --out "$work/r" \
     >"$work/log2" 2>&1 && cmp -s "$work/before.safetensors" "$work/r/dec_conv1/decoder.safetensors"; then
  ok "a rerun keeps the finished training runs"
else bad "rerun of decoders_alexnet.sh"; cat "$work/log2"; fi
echo "alexnet results smoke: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
