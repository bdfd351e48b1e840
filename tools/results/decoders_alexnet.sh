#!/usr/bin/env bash
# Seed 002 sect. 4 on the layers of an AlexNet-shaped network: a decoder per layer (Fig. 5, Fig. 7), autoencoders
# (sect. 4.2), perturbed features (sect. 4.4, Figs. 7 and 9), the FC8 top-5 study (sect. 4.3, Fig. 8), single units
# (seed 003 Fig. 4), interpolation (sect. 4.5, Fig. 10), random feature vectors (sect. 4.5, Fig. 11) and, beyond the
# papers, Algorithm 1 on pool5 started from the conv5 decoder's reconstruction against a noise start; then the
# tables and figures of docs/results/decoders_alexnet.md (tools/results/decoders_alexnet_report.py).
#
#   decoders_alexnet.sh --scale smoke|reduced|full --train DIR --test DIR --out DIR [--net NET] [--device cuda]
#                       [--layers "conv1 ..."] [--ae-layers "conv5 ..."]
#
#   smoke    a few steps of everything on a tiny random network: checks that the pipeline runs end to end.
#   reduced  the committed results: a random AlexNet at 131 x 131 with fc6/fc7 of 512 (made here when --net is
#            absent), decoders at width 1/8, 1000 steps of 32 from a pool of 2048 cached windows, autoencoders of
#            conv5 and fc6; one CPU thread.
#   full     the papers' scale, for a GPU: --net a converted CaffeNet (`preimage convert-weights`), width 1,
#            fresh windows every step (no cache), batch 64, 60000 steps, autoencoders of every layer.
#
# --layers / --ae-layers replace the scale's lists of decoder and autoencoder layers (e.g. to split the work over
# two processes writing disjoint runs into the same --out; the report needs at least one decoder layer).
# Every run is resumable: a finished training run is kept, an interrupted one continues from its checkpoint
# (`train-decoder --resume`), so rerunning the same command after a stop finishes the work.
set -euo pipefail

scale="" train="" test="" out="" net="" device=cpu layers_arg="-" ae_layers_arg="-"
bin=${PREIMAGE_BIN:-build/preimage}
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --train) train=$2; shift 2 ;;
    --test) test=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --layers) layers_arg=$2; shift 2 ;;
    --ae-layers) ae_layers_arg=$2; shift 2 ;;
    *) echo "decoders_alexnet.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$scale" ] && [ -n "$train" ] && [ -n "$test" ] && [ -n "$out" ] || {
  echo "usage: decoders_alexnet.sh --scale smoke|reduced|full --train DIR --test DIR --out DIR [--net NET]" \
       "[--device cuda]" >&2
  exit 2
}
for d in "$train" "$test"; do [ -d "$d" ] || { echo "decoders_alexnet.sh: no folder $d" >&2; exit 2; }; done

case "$scale" in
  smoke)
    layers="conv1 conv5 fc6 fc8"; ae_layers="conv5"
    common=(--width 0.0625 --batch 4 --steps 4 --checkpoint-every 4 --feature-cache 16 --val-fraction 0.34)
    ae=(--width 0.0625 --batch 2 --steps 2 --checkpoint-every 2 --feature-cache 8 --val-fraction 0.34)
    make_net=(--input-size 131 --fc-width 16 --classes 1000) samples=4 init_iters="2 4" ;;
  reduced)
    layers="conv1 conv2 conv3 conv4 conv5 fc6 fc7 fc8"; ae_layers="conv5 fc6"
    common=(--width 0.125 --batch 32 --steps 1000 --checkpoint-every 100 --feature-cache 2048)
    ae=("${common[@]}")
    make_net=(--input-size 131 --fc-width 512 --classes 1000) samples=16 init_iters="50 300" ;;
  full)
    layers="conv1 conv2 conv3 conv4 conv5 fc6 fc7 fc8"; ae_layers=$layers
    common=(--width 1 --batch 64 --steps 60000 --checkpoint-every 2000)
    ae=("${common[@]}")
    make_net=() samples=16 init_iters="50 300"
    [ -n "$net" ] || { echo "decoders_alexnet.sh: --scale full needs --net (a converted CaffeNet)" >&2; exit 2; } ;;
  *) echo "decoders_alexnet.sh: --scale must be smoke, reduced or full" >&2; exit 2 ;;
esac
[ "$layers_arg" = - ] || layers=$layers_arg
[ "$ae_layers_arg" = - ] || ae_layers=$ae_layers_arg
threads=(--threads 1)
[ "$device" = cpu ] || threads=()

mkdir -p "$out"
if [ -z "$net" ]; then
  net=$out/alexnet_random.safetensors
  [ -s "$net" ] || "$bin" init-weights --model alexnet --seed 1 "${make_net[@]}" --out "$net"
fi
log=$out/log.txt
trap 'echo "decoders_alexnet.sh: failed; the commands and their messages are in $log" >&2' ERR
echo "== $(date -u +%FT%TZ) decoders_alexnet.sh --scale $scale --net $net --train $train --test $test" >> "$log"

# train NAME LAYER ARGS...: trains (or finishes) the run $out/NAME.
train() {
  local name=$1 layer=$2
  shift 2
  local args=(train-decoder --model "$net" --layer "$layer" --data "$train" --seed 1 --device "$device"
              "${threads[@]}" "$@")
  if [ -s "$out/$name/checkpoint.safetensors" ]; then
    echo "-- resume $name" >> "$log"
    local err
    if ! err=$("$bin" "${args[@]}" --resume "$out/$name" 2>&1); then
      case "$err" in *"the run is complete"*) return 0 ;; esac
      echo "$err" >> "$log"
      echo "decoders_alexnet.sh: training $name failed (see $log)" >&2
      return 1
    fi
    echo "$err" | tail -n 3 >> "$log"
  else
    echo "-- $bin ${args[*]} --out $out/$name" >> "$log"
    "$bin" "${args[@]}" --out "$out/$name" 2>> "$log"
  fi
}

# decode_all NAME: the test photos through decoder NAME, plain and perturbed (Fig. 7's curves, Fig. 9).
decode_all() {
  local name=$1 dec=$out/$1/decoder.safetensors
  "$bin" decode --decoder "$dec" "$test" --out "$out/eval/$name/plain" "${threads[@]}" 2>> "$log"
  for p in binarize dropout binarize-dropout binarize-dropout-least; do
    "$bin" decode --decoder "$dec" "$test" --perturb "$p" --perturb-seed 1 --out "$out/eval/$name/$p" \
      "${threads[@]}" 2>> "$log"
  done
}

for layer in $layers; do
  train "dec_$layer" "$layer" "${common[@]}"
  rm -rf "$out/eval/dec_$layer"
  decode_all "dec_$layer"
done
for layer in $ae_layers; do
  train "ae_$layer" "$layer" "${ae[@]}" --finetune-encoder
  rm -rf "$out/eval/ae_$layer"
  decode_all "ae_$layer"
done

# Figures 8, 10, 11 and seed 003 Fig. 4 with the FC8 decoder (when trained) and the CONV5 one.
first=$(ls "$test" | head -n 1) second=$(ls "$test" | sed -n 2p)
for layer in fc8 conv5; do
  case " $layers " in *" $layer "*) ;; *) continue ;; esac
  dec=$out/dec_$layer/decoder.safetensors
  rm -rf "$out/eval/$layer-interpolate" "$out/eval/$layer-sample" "$out/eval/$layer-units"
  "$bin" interpolate --decoder "$dec" "$test/$first" "$test/$second" --steps 8 --out "$out/eval/$layer-interpolate" \
    "${threads[@]}" 2>> "$log"
  "$bin" sample --decoder "$dec" --from "$train" --method histogram --n "$samples" --seed 1 \
    --out "$out/eval/$layer-sample" "${threads[@]}" 2>> "$log"
  "$bin" decode --decoder "$dec" --one-hot 0,1,2,3 --value 10 --out "$out/eval/$layer-units" "${threads[@]}" 2>> "$log"
done
case " $layers " in *" fc8 "*)
  for p in top5 drop-top5; do
    rm -rf "$out/eval/fc8-$p"
    "$bin" decode --decoder "$out/dec_fc8/decoder.safetensors" "$test" --perturb "$p" --out "$out/eval/fc8-$p" \
      "${threads[@]}" 2>> "$log"
  done ;;
esac

# Decoder-initialised optimisation (beyond the papers): Algorithm 1 on the test photos' pool5 codes from noise and
# from the conv5 decoder's reconstruction, without the final low-rate stage so that the iteration counts compare.
case " $layers " in *" conv5 "*)
  for it in $init_iters; do
    for start in noise dec; do
      d=$out/eval/iv_${start}$it
      [ -s "$d/wall_ms.txt" ] && continue  # done (written last): a rerun keeps it, like the training runs
      rm -rf "$d"
      init=()
      [ $start = noise ] || init=(--init-decoder "$out/dec_conv5/decoder.safetensors")
      t0=$(date +%s%N)
      "$bin" invert "$test" --model "$net" --layer pool5 --iters "$it" --final-iters 0 "${init[@]}" --out "$d" \
        "${threads[@]}" --device "$device" 2>> "$log"
      echo $(( ($(date +%s%N) - t0) / 1000000 )) > "$d/wall_ms.txt"
    done
  done ;;
esac

if [ -n "$layers" ]; then
  /usr/bin/python3 "$(dirname "$0")/decoders_alexnet_report.py" --out "$out" --layers "$layers" \
    --ae-layers "$ae_layers" --scale "$scale" --init-iters "$init_iters" \
    --train "$train"
fi
echo "== $(date -u +%FT%TZ) done" >> "$log"
