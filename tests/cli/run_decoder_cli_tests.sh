#!/usr/bin/env bash
# CLI tests of train-decoder and decode: resume after kill -9 is bit-exact, refused resumes, non-finite stops,
# bad inputs (clear errors, no partial outputs), and decode's outputs on the synthetic fixture photos.
# Usage: PREIMAGE_BIN=path/to/preimage run_decoder_cli_tests.sh tests/data
set -u
bin=${PREIMAGE_BIN:?set PREIMAGE_BIN}
data=${1:?data folder}
photos=$data/decoder_photos
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/check.sh"

# A tiny run: HOG decoder at 1/16 width, 64 x 64 windows, batches of 2; one of the four photos held out.
train=(train-decoder --rep hog --data "$photos" --val-fraction 0.25 --image-size 64 --width 0.0625 --batch 2
       --steps 20 --checkpoint-every 10 --threads 1 --seed 3)

# --- 20 steps straight vs 10, kill -9, resume to 20 ---
if "$bin" "${train[@]}" --out "$work/straight" >"$work/log_a" 2>&1; then ok "train-decoder: 20 steps"
else bad "train-decoder: 20 steps"; cat "$work/log_a"; fi
for f in checkpoint.safetensors decoder.safetensors config.json metrics.jsonl loss.png index.html val/step_20.png; do
  [ -s "$work/straight/$f" ] || bad "train-decoder wrote no $f"
done
# Slowed down (test hook) so that the kill lands after the step-10 checkpoint and before the run ends.
PREIMAGE_TEST_STEP_DELAY_MS=400 "$bin" "${train[@]}" --out "$work/killed" >"$work/log_b" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q '"val_normalised_error".*"step":10' "$work/killed/metrics.jsonl" 2>/dev/null && break
  grep -q '"step":10.*"val_normalised_error"' "$work/killed/metrics.jsonl" 2>/dev/null && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
if grep -q '"step":20' "$work/killed/metrics.jsonl"; then bad "kill -9 came too late (the run had finished)"
else ok "killed mid-run"; fi
if "$bin" "${train[@]}" --resume "$work/killed" >"$work/log_c" 2>&1; then ok "train-decoder --resume after kill -9"
else bad "train-decoder --resume after kill -9"; cat "$work/log_c"; fi
grep '"loss"' "$work/straight/metrics.jsonl" > "$work/loss_a"
grep '"loss"' "$work/killed/metrics.jsonl" > "$work/loss_b"
if [ "$(wc -l < "$work/loss_a")" = 20 ] && cmp -s "$work/loss_a" "$work/loss_b"; then ok "resumed loss lines equal the straight run's"
else bad "resumed loss lines differ"; diff "$work/loss_a" "$work/loss_b" | head; fi
if cmp -s "$work/straight/decoder.safetensors" "$work/killed/decoder.safetensors" &&
   cmp -s "$work/straight/checkpoint.safetensors" "$work/killed/checkpoint.safetensors"; then
  ok "resumed final weights and Adam state bit-identical"
else bad "resumed final weights differ"; fi

# --- refused resumes and runs ---
expect_fail "resume with another --lr is refused with the difference" "lr: checkpoint 0.001" \
  "$bin" "${train[@]}" --lr 0.002 --resume "$work/killed"
expect_fail "resume of a finished run" "the run is complete" "$bin" "${train[@]}" --resume "$work/killed"
expect_fail "resume without a checkpoint" "no checkpoint.safetensors" "$bin" "${train[@]}" --resume "$work/none"
expect_fail "an existing run is not overwritten" "already holds a training run" \
  "$bin" "${train[@]}" --out "$work/straight"
mkdir -p "$work/empty" "$work/corrupt"
cp "$data"/corrupt/*.png "$work/corrupt/" 2>/dev/null
cp "$photos/synthetic_0.png" "$work/corrupt/"
expect_fail "empty data folder" "holds no image files" "$bin" "${train[@]}" --data "$work/empty" --out "$work/o1"
absent "no output for an empty data folder" "$work/o1"
expect_fail "mostly unreadable data" "refusing to train" "$bin" "${train[@]}" --data "$work/corrupt" --val "$photos" \
  --out "$work/o2"
absent "no output for unreadable data" "$work/o2"
expect_fail "images smaller than the crop" "smaller than the 128x128 crop" \
  "$bin" "${train[@]}" --image-size 128 --out "$work/o3"
absent "no output for too small images" "$work/o3"
expect_fail "image size the HOG table cannot meet" "multiple of 64" "$bin" "${train[@]}" --image-size 72 \
  --data "$photos" --out "$work/o4"
absent "no output for a bad image size" "$work/o4"
expect_fail "unknown representation" "unknown representation" "$bin" "${train[@]}" --rep hog7 --out "$work/o5"
# dense SIFT: one frame per 4 x 4 cell (padded window), decoded by Table 3's network on 128 channels
if "$bin" "${train[@]}" --rep dsift --steps 2 --checkpoint-every 2 --out "$work/dsift" >"$work/log_ds" 2>&1 &&
   tr -d " \n" < "$work/dsift/config.json" | grep -q '"feature_shape":\[128,16,16\]'; then ok "train-decoder --rep dsift"
else bad "train-decoder --rep dsift"; cat "$work/log_ds"; fi
# Its features describe the padded window: decode renders them (the sheet's second tile) at that size.
if "$bin" decode --decoder "$work/dsift/decoder.safetensors" "$photos" --threads 1 --out "$work/dsd" \
     >"$work/log_dsd" 2>&1 && [ -s "$work/dsd/synthetic_3.png" ] && [ -s "$work/dsd/synthetic_3_sheet.png" ]
then ok "decode with a dsift decoder, features rendered"
else bad "decode with a dsift decoder"; cat "$work/log_dsd"; fi

# --- non-finite loss: stop, keep the last good checkpoint, exit non-zero ---
expect_fail "an exploding run stops with a clear message" "not finite" \
  "$bin" "${train[@]}" --lr 1e30 --checkpoint-every 1 --out "$work/nan"
if grep -q "last good checkpoint (step" "$work/stderr" && [ -s "$work/nan/checkpoint.safetensors" ]; then
  ok "the last good checkpoint is kept"
else bad "no last good checkpoint"; cat "$work/stderr"; fi

# --- decode ---
dec=$work/straight/decoder.safetensors
if "$bin" decode --decoder "$dec" "$photos" --out "$work/dec" --threads 1 >"$work/log_d" 2>&1; then ok "decode a folder"
else bad "decode a folder"; cat "$work/log_d"; fi
for s in synthetic_0 synthetic_1 synthetic_2 synthetic_3; do
  [ -s "$work/dec/$s.png" ] && [ -s "$work/dec/${s}_sheet.png" ] || bad "decode wrote no $s.png / ${s}_sheet.png"
done
for f in metrics.json config.json index.html; do [ -s "$work/dec/$f" ] || bad "decode wrote no $f"; done
if /usr/bin/python3 - "$work/dec/metrics.json" <<'EOF'
import json, math, sys
m = json.load(open(sys.argv[1]))
e = [i["error"] for i in m["images"]]
assert len(e) == 4 and all(x > 0 for x in e)
assert abs(m["mean_error"] - sum(e) / 4) < 1e-6 * m["mean_error"]
assert abs(m["normalised_error"] - m["mean_error"] / m["mean_pairwise_distance"]) < 1e-9
assert 0 < m["normalised_error"] < 5
EOF
then ok "decode metrics: per-image errors and the normalised error"; else bad "decode metrics.json"; fi
if head -c 24 "$work/dec/synthetic_1.png" | od -An -tx1 | tr -d ' \n' | grep -q "0000004000000040"; then
  ok "decode writes 64 x 64 reconstructions"; else bad "decode output size"; fi
"$bin" features "$photos/synthetic_2.png" --rep hog --size 64 --out "$work/feat" >/dev/null 2>&1
if "$bin" decode --decoder "$dec" --features "$work/feat/synthetic_2.safetensors" --out "$work/decf" >"$work/log_f" 2>&1 &&
   [ -s "$work/decf/synthetic_2.png" ]; then ok "decode --features"
else bad "decode --features"; cat "$work/log_f"; fi
expect_fail "decode: missing decoder" "cannot open" "$bin" decode --decoder "$work/nope.safetensors" "$photos" \
  --out "$work/d1"
absent "no decode output for a missing decoder" "$work/d1"
expect_fail "decode: a PNG is not a decoder" "synthetic_0.png" "$bin" decode --decoder "$photos/synthetic_0.png" \
  "$photos" --out "$work/d2"
absent "no decode output for a bad decoder" "$work/d2"
expect_fail "decode: a checkpoint is not a decoder" "preimage.kind" "$bin" decode \
  --decoder "$work/straight/checkpoint.safetensors" "$photos" --out "$work/d3"
expect_fail "decode: a corrupt image in the folder" "truncated" "$bin" decode --decoder "$dec" "$work/corrupt" \
  --out "$work/d4"
# The good images are decoded, the bad one listed with its reason (tests/cli/run_reliability_tests.sh: exit 2).
absent "decode: nothing written for the corrupt image" "$work/d4/truncated.png"
n_bad=$(ls "$data"/corrupt/*.png | wc -l)
grep -q "\"failures\": $n_bad" "$work/d4/metrics.json" && grep -q 'truncated' "$work/d4/metrics.json" &&
  [ -s "$work/d4/synthetic_0.png" ] && ok "decode: the good image decoded, the $n_bad corrupt ones listed" ||
  bad "decode: the good image decoded, the corrupt ones listed in metrics.json"
"$bin" features "$photos/synthetic_2.png" --rep hog --out "$work/feat96" >/dev/null 2>&1
expect_fail "decode: features of another size" "takes \[31, 8, 8\] per image" "$bin" decode --decoder "$dec" \
  --features "$work/feat96/synthetic_2.safetensors" --out "$work/d5"
absent "no decode output for mismatched features" "$work/d5"

# --- network decoders: a random reduced AlexNet (conv1 at 75 x 75: 96 x 8 x 8 -> 64 x 64; fc8 at 227) ---
large=$data/decoder_photos_large
"$bin" init-weights --model alexnet --seed 0 --fc-width 16 --classes 10 --out "$work/net.safetensors" >/dev/null 2>&1
"$bin" init-weights --model alexnet --seed 1 --fc-width 16 --classes 10 --out "$work/net1.safetensors" >/dev/null 2>&1
cnn=(train-decoder --model "$work/net.safetensors" --data "$photos" --val-fraction 0.25 --width 0.0625 --batch 2
     --steps 2 --checkpoint-every 2 --threads 1 --seed 3)
if "$bin" "${cnn[@]}" --layer conv1 --image-size 75 --out "$work/conv1" >"$work/log_c1" 2>&1 &&
   grep -q '"output_layer": *"\(norm1\|pool1\)"' "$work/conv1/config.json" &&
   tr -d ' \n' < "$work/conv1/config.json" | grep -q '"input_scale":{"definition":"1/RMS[^}]*"value":0\.'; then ok "train-decoder --model --layer conv1 (block output, 64 x 64 target)"
else bad "train-decoder --model --layer conv1"; cat "$work/log_c1"; fi
if "$bin" decode --decoder "$work/conv1/decoder.safetensors" "$photos" --out "$work/dc1" >"$work/log_dc1" 2>&1 &&
   [ -s "$work/dc1/synthetic_0_sheet.png" ] && grep -q '"normalised_error"' "$work/dc1/metrics.json" &&
   tr -d ' \n' < "$work/dc1/metrics.json" | grep -q '"at_input_size":{[^}]*"size":75'; then
  ok "decode with a network decoder (errors also at the network's input size, 75)"
else bad "decode with a network decoder"; cat "$work/log_dc1"; fi
expect_fail "decode: another network file is refused" "is not the network" "$bin" decode \
  --decoder "$work/conv1/decoder.safetensors" --model "$work/net1.safetensors" "$photos" --out "$work/dc2"
absent "no decode output with the wrong network" "$work/dc2"
if "$bin" "${cnn[@]}" --layer fc8 --data "$large" --val-fraction 0.34 --out "$work/fc8" >"$work/log_f8" 2>&1 &&
   grep -q '"target_size": *128' "$work/fc8/config.json"; then ok "train-decoder --model --layer fc8 at 227 x 227"
else bad "train-decoder --model --layer fc8"; cat "$work/log_f8"; fi
expect_fail "fc layer at another size" "is fully connected: its decoder needs" "$bin" "${cnn[@]}" --layer fc8 --image-size 75 \
  --out "$work/o7"
expect_fail "a layer without a decoder table" "give conv1 ... conv5" "$bin" "${cnn[@]}" --layer pool5 --out "$work/o8"
expect_fail "--layer without --model" "needs --model" "$bin" "${train[@]}" --layer conv1 --out "$work/o9"
absent "no output for refused network runs" "$work/o7"

# --- encoder-activation cache and autoencoder training ---
if "$bin" "${cnn[@]}" --layer conv1 --image-size 75 --feature-cache 6 --out "$work/fcache" >"$work/log_fc" 2>&1 &&
   grep -q 'feature cache: 6 windows' "$work/log_fc" && grep -q '"windows": *6' "$work/fcache/config.json"; then
  ok "train-decoder --feature-cache: a pool of 6 windows"
else bad "train-decoder --feature-cache"; cat "$work/log_fc"; fi
expect_fail "resume with another --feature-cache is refused" "feature_cache: checkpoint 6, now 8" \
  "$bin" "${cnn[@]}" --layer conv1 --image-size 75 --feature-cache 8 --resume "$work/fcache"
expect_fail "a feature cache over its memory limit" "over the limit of 1 MiB" "$bin" "${cnn[@]}" --layer conv1 \
  --image-size 75 --feature-cache 100000 --feature-cache-mb 1 --out "$work/o10"
absent "no output for a refused feature cache" "$work/o10"
expect_fail "--finetune-encoder without --model" "needs --model" "$bin" "${train[@]}" --finetune-encoder \
  --out "$work/o11"
absent "no output for a refused --finetune-encoder" "$work/o11"
if "$bin" "${cnn[@]}" --layer conv1 --image-size 75 --finetune-encoder --steps 3 --checkpoint-every 3 \
     --out "$work/ae" >"$work/log_ae" 2>&1 &&
   "$bin" decode --decoder "$work/ae/decoder.safetensors" "$photos" --out "$work/dae" >"$work/log_dae" 2>&1 &&
   /usr/bin/python3 - "$work/ae/decoder.safetensors" "$work/net.safetensors" "$work/dae/config.json" \
     <<'PY'
import json, struct, sys
import numpy as np
import skimage.io as io
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    return {k: raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in head.items()
            if k != "__metadata__"}
ae, net = tensors(sys.argv[1]), tensors(sys.argv[2])
# The autoencoder's file holds its encoder (conv1, the only weighted layer up to pool1), trained away from the
# network's weights; decode says it used it.
assert sorted(k for k in ae if k.startswith("encoder.")) == ["encoder.conv1.bias", "encoder.conv1.weight"]
assert ae["encoder.conv1.weight"] != net["conv1.weight"]
cfg = json.load(open(sys.argv[3]))
assert "finetuned_encoder" in json.dumps(cfg), "decode's config does not mention the fine-tuned encoder"
PY
then ok "train-decoder --finetune-encoder: the file holds the trained encoder, and decode uses it"
else bad "train-decoder --finetune-encoder"; cat "$work/log_ae" "$work/log_dae"; fi

# --- perturbed features and single units (seed 002 sect. 4.3-4.4, seed 003 Fig. 4) ---
if "$bin" decode --decoder "$dec" "$photos" --perturb dropout --perturb-seed 2 --threads 1 --out "$work/pd" \
     >"$work/log_pd" 2>&1 &&
   [ -s "$work/pd/synthetic_0_unperturbed.png" ] && python3 - "$work/dec/metrics.json" "$work/pd/metrics.json" \
     "$work/pd/config.json" <<'PY'
import json, sys
plain, pert, cfg = (json.load(open(p)) for p in sys.argv[1:4])
# The unperturbed errors are the plain decode's (same thread count: the sums are then in the same order); the
# perturbed ones differ; the config names the perturbation.
assert abs(pert["unperturbed"]["mean_error"] - plain["mean_error"]) <= 1e-9 * plain["mean_error"]
assert abs(pert["mean_error"] - plain["mean_error"]) > 1e-3 * plain["mean_error"]
assert [i["unperturbed_error"] for i in pert["images"]] == [i["error"] for i in plain["images"]]
assert cfg["perturbation"]["name"] == "dropout" and cfg["perturbation"]["seed"] == 2
PY
then ok "decode --perturb dropout: both errors, the unperturbed ones equal plain decode's"
else bad "decode --perturb dropout"; cat "$work/log_pd"; fi
"$bin" decode --decoder "$dec" "$photos" --perturb dropout --perturb-seed 2 --out "$work/pd2" >/dev/null 2>&1
cmp -s "$work/pd/synthetic_1.png" "$work/pd2/synthetic_1.png" && ok "decode --perturb: same seed, same output" \
  || bad "decode --perturb is not deterministic"
if "$bin" decode --decoder "$work/fc8/decoder.safetensors" "$large" --perturb drop-top5 --out "$work/pt5" \
     >"$work/log_pt5" 2>&1 && python3 - "$work/pt5/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for i in m["images"]:
    top = i["top5"]
    assert len(top) == 5 and top[0]["name"].startswith("class ")
    assert all(a["probability"] >= b["probability"] for a, b in zip(top, top[1:]))
PY
then ok "decode --perturb drop-top5 of an FC8 decoder: the network's top-5 per image"
else bad "decode --perturb drop-top5"; cat "$work/log_pt5"; fi
grep -q "network&#39;s top-5\|network's top-5" "$work/pt5/index.html" && ok "index.html shows the top-5" \
  || bad "index.html lacks the top-5"
if "$bin" decode --decoder "$work/fc8/decoder.safetensors" --one-hot 3,7 --value 5 --out "$work/oh" \
     >"$work/log_oh" 2>&1 && [ -s "$work/oh/unit_3.png" ] && [ -s "$work/oh/unit_7.png" ] &&
   grep -q '"one_hot"' "$work/oh/config.json"; then ok "decode --one-hot 3,7"
else bad "decode --one-hot"; cat "$work/log_oh"; fi
expect_fail "decode --one-hot out of range" "out of range" "$bin" decode --decoder "$work/fc8/decoder.safetensors" \
  --one-hot 10 --out "$work/oh2"
absent "no output for an out-of-range unit" "$work/oh2"
expect_fail "decode --one-hot with an INPUT" "give one of" "$bin" decode --decoder "$dec" "$photos" --one-hot 1 \
  --out "$work/oh3"
expect_fail "decode --perturb with --one-hot" "does not apply" "$bin" decode --decoder "$dec" --one-hot 1 \
  --perturb binarize --out "$work/oh4"
expect_fail "decode --perturb unknown" "binarize-dropout-least" "$bin" decode --decoder "$dec" "$photos" \
  --perturb binarise --out "$work/oh5"
absent "no output for refused perturbations" "$work/oh5"

# --- interpolation and random feature vectors (seed 002 sect. 4.5) ---
if "$bin" interpolate --decoder "$dec" "$photos/synthetic_0.png" "$photos/synthetic_3.png" --steps 5 \
     --out "$work/ip" >"$work/log_ip" 2>&1 && [ -s "$work/ip/strip.png" ] && [ -s "$work/ip/frame_4.png" ] &&
   python3 - "$work/ip/metrics.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["frames"]
assert [x["t"] for x in f] == [0, 0.25, 0.5, 0.75, 1]
assert f[0]["distance_to_decoded_a"] == 0 and f[-1]["distance_to_decoded_b"] == 0
assert f[0]["distance_to_decoded_b"] > 0
# Moving from A to B: the distance to the decoded A grows along the strip.
d = [x["distance_to_decoded_a"] for x in f]
assert all(a < b for a, b in zip(d, d[1:])), d
PY
then ok "interpolate: 5 frames, strip, t from 0 to 1"
else bad "interpolate"; cat "$work/log_ip"; fi
# The endpoints are the decoded originals: decode's reconstructions of A and B (another batch, the same numbers).
cmp -s "$work/ip/frame_0.png" "$work/dec/synthetic_0.png" && cmp -s "$work/ip/frame_4.png" "$work/dec/synthetic_3.png" \
  && ok "interpolate: the end frames are decode's reconstructions of A and B" \
  || bad "interpolate: end frames differ from decode's reconstructions"
expect_fail "interpolate --steps 1" "at least 2" "$bin" interpolate --decoder "$dec" "$photos/synthetic_0.png" \
  "$photos/synthetic_3.png" --steps 1 --out "$work/ip2"
expect_fail "interpolate: a missing image" "nope.png" "$bin" interpolate --decoder "$dec" "$photos/synthetic_0.png" \
  "$photos/nope.png" --out "$work/ip3"
absent "no interpolate output for a missing image" "$work/ip3"
for m in histogram gaussian; do
  if "$bin" sample --decoder "$dec" --from "$photos" --method $m --n 3 --seed 4 --out "$work/sa_$m" \
       >"$work/log_sa" 2>&1 && [ -s "$work/sa_$m/samples.png" ] && [ -s "$work/sa_$m/sample_2.png" ] &&
     python3 -c "import json,sys; m=json.load(open(sys.argv[1])); assert m['fit']['images'] == 4 and m['fit']['method'] == sys.argv[2]" \
       "$work/sa_$m/metrics.json" $m; then ok "sample --method $m: 3 images, the fit on 4"
  else bad "sample --method $m"; cat "$work/log_sa"; fi
done
"$bin" sample --decoder "$dec" --from "$photos" --n 3 --seed 4 --out "$work/sa_again" >/dev/null 2>&1
cmp -s "$work/sa_histogram/sample_1.png" "$work/sa_again/sample_1.png" && ok "sample: the same seed draws the same" \
  || bad "sample is not deterministic"
"$bin" sample --decoder "$dec" --from "$photos" --n 3 --seed 5 --out "$work/sa_seed5" >/dev/null 2>&1
cmp -s "$work/sa_histogram/sample_1.png" "$work/sa_seed5/sample_1.png" && bad "sample: another seed, the same image" \
  || ok "sample: another seed draws other vectors"
if "$bin" sample --decoder "$work/fc8/decoder.safetensors" --from "$large" --method gaussian --n 2 --out "$work/sa8" \
     >"$work/log_sa8" 2>&1 && grep -q '"note"' "$work/sa8/config.json"; then
  ok "sample from an FC8 decoder of a random network (labelled so)"
else bad "sample from an FC8 decoder"; cat "$work/log_sa8"; fi
expect_fail "sample --method unknown" "histogram or gaussian" "$bin" sample --decoder "$dec" --from "$photos" \
  --method uniform --out "$work/sa2"
mkdir -p "$work/one" && cp "$photos/synthetic_0.png" "$work/one/"
expect_fail "sample from one image" "at least 2 images" "$bin" sample --decoder "$dec" --from "$work/one" \
  --out "$work/sa3"
absent "no sample output for refused runs" "$work/sa3"

# --- decoder-initialised optimisation: invert --init-decoder ---
if "$bin" invert "$photos/synthetic_1.png" --size 64 --iters 2 --init-decoder "$dec" --out "$work/iv" \
     >"$work/log_iv" 2>&1 && [ -s "$work/iv/synthetic_1_init.png" ] && [ -s "$work/iv/synthetic_1.png" ] &&
   grep -q '"decoder"' "$work/iv/config.json" && grep -q '"init_feature_error"' "$work/iv/metrics.json" &&
   /usr/bin/python3 - "$work/dec/synthetic_1.png" "$work/iv/synthetic_1_init.png" <<'PY'
import sys
import numpy as np
import skimage.io as io
rgb = io.imread(sys.argv[1]).astype(float)
start = io.imread(sys.argv[2]).astype(float)
gray = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
# The start is the decoder's reconstruction in gray (both PNGs are rounded to 8 bits: at most 1 level apart).
assert start.shape == gray.shape and np.abs(start - gray).max() <= 1.05, np.abs(start - gray).max()
PY
then ok "invert --init-decoder: starts from the decoder's reconstruction, in gray"
else bad "invert --init-decoder"; cat "$work/log_iv"; fi
expect_fail "invert --init-decoder at another size" "give --size 64" "$bin" invert "$photos/synthetic_1.png" \
  --size 96 --init-decoder "$dec" --out "$work/iv2"
expect_fail "invert --init-decoder of another representation" "same representation" "$bin" invert \
  "$photos/synthetic_1.png" --rep dsift --size 64 --init-decoder "$dec" --out "$work/iv3"
absent "no invert output for refused --init-decoder" "$work/iv2"
absent "no invert output for a decoder of another representation" "$work/iv3"
# A network layer: the conv1 decoder (75 x 75 windows -> 64 x 64) starts the inversion of its block output.
c1dec=$work/conv1/decoder.safetensors
if "$bin" invert "$photos/synthetic_1.png" --model "$work/net.safetensors" --layer pool1 --size 75 --iters 2 \
     --final-iters 0 --init-decoder "$c1dec" --threads 1 --out "$work/ivm" >"$work/log_ivm" 2>&1 &&
   [ -s "$work/ivm/synthetic_1.png" ] && grep -q '"decoder"' "$work/ivm/config.json" &&
   grep -q '"init_feature_error"' "$work/ivm/metrics.json" &&
   /usr/bin/python3 - "$work/dc1/synthetic_1.png" "$work/ivm/synthetic_1_init.png" <<'PY'
import sys
import numpy as np
import skimage.io as io
from skimage import transform
decoded = io.imread(sys.argv[1]).astype(float)[..., :3]
start = io.imread(sys.argv[2]).astype(float)[..., :3]
up = transform.resize(decoded, start.shape[:2], order=1, mode="edge", anti_aliasing=False, preserve_range=True)
# The start is decode's reconstruction upsampled bilinearly to the input size (8-bit PNGs on both sides: the
# rounding of each allows about one level).
assert start.shape == (75, 75, 3), start.shape
assert np.abs(start - up).max() <= 1.5, np.abs(start - up).max()
PY
then ok "invert --model --init-decoder: starts from the decoder's reconstruction, upsampled"
else bad "invert --model --init-decoder"; cat "$work/log_ivm"; fi
expect_fail "invert --model --init-decoder of another layer" "give --layer pool1" "$bin" invert \
  "$photos/synthetic_1.png" --model "$work/net.safetensors" --layer conv1 --size 75 --init-decoder "$c1dec" \
  --out "$work/iv4"
expect_fail "invert --model --init-decoder at another size" "give --size 75" "$bin" invert \
  "$photos/synthetic_1.png" --model "$work/net.safetensors" --layer pool1 --size 99 --init-decoder "$c1dec" \
  --out "$work/iv5"
expect_fail "invert --model --init-decoder of a shallow decoder" "decodes hog" "$bin" invert \
  "$photos/synthetic_1.png" --model "$work/net.safetensors" --layer pool1 --size 75 --init-decoder "$dec" \
  --out "$work/iv6"
expect_fail "invert --model --init-decoder of another network" "is not the network" "$bin" invert \
  "$photos/synthetic_1.png" --model "$work/net1.safetensors" --layer pool1 --size 75 --init-decoder "$c1dec" \
  --out "$work/iv7"
for d in iv4 iv5 iv6 iv7; do absent "no invert output for refused --model --init-decoder ($d)" "$work/$d"; done

# --- --device cuda (docs/device.md) ---
# In the nvcc build without a GPU both commands refuse --device cuda at once and write nothing; with a GPU, or in
# the emulated build (its emulated device counts as one), a few training steps on cuda give the CPU's losses within
# float rounding (the kernels sum in another order; tests/gpu/test_device_decoder.cpp compares the weights too).
backend=$("$bin" train-decoder --help | grep -o 'CUDA backend: [a-z]*' | head -n 1 | cut -d' ' -f3)
has_gpu=no
if [ "$backend" = emulated ] || { command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; }; then
  has_gpu=yes
fi
few=(train-decoder --rep hog --data "$photos" --val-fraction 0.25 --image-size 64 --width 0.0625 --batch 2
     --steps 3 --checkpoint-every 3 --threads 1 --seed 3)
if [ "$has_gpu" = no ]; then
  expect_fail "train-decoder --device cuda without a GPU" "no CUDA device found" \
    "$bin" "${few[@]}" --device cuda --out "$work/cu1"
  absent "no training output without a GPU" "$work/cu1"
  expect_fail "decode --device cuda without a GPU" "no CUDA device found" \
    "$bin" decode --decoder "$work/straight/decoder.safetensors" "$photos" --device cuda --out "$work/cu2"
  absent "no decode output without a GPU" "$work/cu2"
else
  if "$bin" "${few[@]}" --device cuda --out "$work/cu1" >"$work/log_cu1" 2>&1 &&
     "$bin" "${few[@]}" --device cpu --out "$work/cu0" >"$work/log_cu0" 2>&1 &&
     grep -q '"name": "cuda"' "$work/cu1/config.json"; then ok "train-decoder --device cuda: 3 steps"
  else bad "train-decoder --device cuda"; cat "$work/log_cu1" "$work/log_cu0"; fi
  if python3 - "$work/cu0/metrics.jsonl" "$work/cu1/metrics.jsonl" <<'PY'
import json, sys
def losses(p):
    return [r["loss"] for r in map(json.loads, open(p)) if "loss" in r]
a, b = losses(sys.argv[1]), losses(sys.argv[2])
print("losses cpu", a, "cuda", b)
sys.exit(0 if len(a) == 3 and len(b) == 3 and all(abs(x - y) <= 1e-4 * x for x, y in zip(a, b)) else 1)
PY
  then ok "train-decoder --device cuda: the CPU's loss at every step (rtol 1e-4)"
  else bad "train-decoder --device cuda: losses differ from the CPU's"; fi
  if "$bin" decode --decoder "$work/cu1/decoder.safetensors" "$photos" --device cuda --out "$work/cu2" \
       >"$work/log_cu2" 2>&1 && [ -s "$work/cu2/metrics.json" ] && grep -q '"name": "cuda"' "$work/cu2/config.json"
  then ok "decode --device cuda"
  else bad "decode --device cuda"; cat "$work/log_cu2"; fi
fi

# --- the committed decoders (weights/decoders) load and decode a photo to finite pixels ---
for f in "$data"/../../weights/decoders/*.safetensors; do
  r=$(basename "$f" .safetensors)
  if "$bin" decode --decoder "$f" "$photos/synthetic_2.png" --threads 1 --out "$work/shipped_$r" \
       >"$work/log_shipped" 2>&1 && python3 - "$work/shipped_$r/metrics.json" <<'PY'
import json, math, sys
m = json.load(open(sys.argv[1]))
assert len(m["images"]) == 1 and math.isfinite(m["mean_error"]) and m["mean_error"] > 0
PY
  then ok "shipped decoder $r decodes"
  else bad "shipped decoder $r"; cat "$work/log_shipped"; fi
done

echo "decoder CLI tests: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
