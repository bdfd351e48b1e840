#!/usr/bin/env bash
# One command to reproduce the deep-network results of seed 001 (Mahendran & Vedaldi, IJCV 2016) with the real,
# converted weights (docs/weights.md): Table 5 (AlexNet, every layer x C = 1, 20, 100, 300), Figs. 5-7 (inversion of
# every layer of AlexNet, the linear layers of VGG-M and VGG-VD-16), Fig. 8 (4 restarts from VGG-VD-16 conv4_1,
# conv5_2, fc7: the invariances), Fig. 13 (activation maximisation of fc8 classes black swan, goose, tree frog,
# cheeseburger) and Fig. 14 (caricatures from the VGG-M layers). Writes OUT/index.html (every contact sheet, links to
# the per-run galleries), OUT/index.md and OUT/table5.md (ours next to the paper's Table 5).
#
# Usage:
#   tools/results/deep_reproduce.sh --images DIR [--alexnet F] [--vgg-m F] [--vgg16 F] [options] [-- extra options]
#     --images DIR      ILSVRC 2012 validation images (the paper: 100 of them for Table 5); files are used in sorted
#                       order
#     --stats-images DIR  images over which the maxima M of the fc8 units of Fig. 13 are taken (the paper: the
#                       ILSVRC 2012 validation set; default: all of --images); a unit whose maximum is not positive
#                       there cannot be normalised: it is then run with M = 1 and a warning in the log
#     --alexnet F       alexnet.safetensors    (Table 5, Fig. 5, Fig. 13)   } `preimage convert-weights`,
#     --vgg-m F         vgg-m.safetensors      (Fig. 6, Fig. 13, Fig. 14)   } docs/weights.md; a figure whose
#     --vgg16 F         vgg16.safetensors      (Fig. 7, Fig. 8, Fig. 13)    } network is not given is skipped
#     --out DIR         output folder (default out/deep_reproduce)
#     --fox IMAGE       the image of Figs. 5-7 and 14 (the paper's "red fox"; default: the first image of --images)
#     --fig8 "A B C"    the three images of Fig. 8 (paper: flamingo, abstract art, monkey; default: images 2-4)
#     --n-images N      images of Table 5 (default 100)
#     --iters T         jittered iterations (default 300, the paper's); --final-iters (default 50, the authors' code)
#     --only LIST       comma-separated subset of table5,fig5,fig6,fig7,fig8,fig13,fig14
#     --threads N       CPU threads (default: all cores)
#     --smoke           tiny run to check the script end to end: 1 image, 2 + 1 iterations, 3 layers per table/figure,
#                       2 restarts, 1 actmax unit (works on random-weight files from `preimage init-weights`)
#     -- ...            everything after -- is passed to every preimage command (e.g. --device cuda where built)
# Environment: PREIMAGE_BIN (default build/preimage). Resumable: a run whose metrics.json exists is skipped.
# Cost: every iteration is a forward and backward pass; Table 5 alone is 100 images x 20 layers x 4 C x 350
# iterations (about 2.8 million AlexNet passes): on a CPU, reduce --n-images and --only first.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${PREIMAGE_BIN:-build/preimage}
py=/usr/bin/python3
here=tools/results

images="" stats_images="" alexnet="" vggm="" vgg16="" out=out/deep_reproduce fox="" fig8="" n_images=100 iters=300 final=50
only="table5,fig5,fig6,fig7,fig8,fig13,fig14" threads="" smoke=0 extra=()
need() { [ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --images) need "$@"; images=$2; shift 2 ;;
    --stats-images) need "$@"; stats_images=$2; shift 2 ;;
    --alexnet) need "$@"; alexnet=$2; shift 2 ;;
    --vgg-m) need "$@"; vggm=$2; shift 2 ;;
    --vgg16) need "$@"; vgg16=$2; shift 2 ;;
    --out) need "$@"; out=$2; shift 2 ;;
    --fox) need "$@"; fox=$2; shift 2 ;;
    --fig8) need "$@"; fig8=$2; shift 2 ;;
    --n-images) need "$@"; n_images=$2; shift 2 ;;
    --iters) need "$@"; iters=$2; shift 2 ;;
    --final-iters) need "$@"; final=$2; shift 2 ;;
    --only) need "$@"; only=$2; shift 2 ;;
    --threads) need "$@"; threads=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "build first: bash tools/build.sh (or set PREIMAGE_BIN)" >&2; exit 1; }
[ -n "$images" ] && [ -d "$images" ] || { echo "--images DIR: a folder of ILSVRC validation images" >&2; exit 2; }
[ -n "$alexnet$vggm$vgg16" ] || { echo "give at least one of --alexnet, --vgg-m, --vgg16" >&2; exit 2; }
[ -n "$threads" ] && extra+=(--threads "$threads")

# The paper's layers; --smoke keeps the first, a middle and the last.
T5_LAYERS="conv1 relu1 norm1 pool1 conv2 relu2 norm2 pool2 conv3 relu3 conv4 relu4 conv5 relu5 pool5 fc6 relu6 fc7
relu7 fc8"
T5_C="1 20 100 300"
VGGM_LAYERS="conv1 conv2 conv3 conv4 conv5 fc6 fc7 fc8"
VGG16_LAYERS="conv1_1 conv1_2 conv2_1 conv2_2 conv3_1 conv3_2 conv3_3 conv4_1 conv4_2 conv4_3 conv5_1 conv5_2 conv5_3
fc6 fc7 fc8"
FIG8_LAYERS="conv4_1 conv5_2 fc7"
restarts=4
# fc8 units of Fig. 13 (0-based ILSVRC 2012 class indices, Caffe/torchvision order)
UNITS="100:black_swan 99:goose 31:tree_frog 933:cheeseburger"
if [ "$smoke" = 1 ]; then
  T5_LAYERS="conv1 relu3 fc8"; VGGM_LAYERS="conv1 conv3 fc8"; VGG16_LAYERS="conv1_1 conv4_1 fc8"
  FIG8_LAYERS="conv4_1 fc7"; restarts=2; UNITS="100:black_swan"
  n_images=1; iters=2; final=1
fi
T5_LAYERS=$(echo $T5_LAYERS) VGG16_LAYERS=$(echo $VGG16_LAYERS)
want() { [[ ",$only," == *",$1,"* ]]; }
mkdir -p "$out"

# Checks that F is a network file of model $2 (safetensors metadata preimage.model) and says whether it is random.
check_model() {
  "$py" - "$1" "$2" <<'EOF'
import json, struct, sys
path, want = sys.argv[1], sys.argv[2]
try:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        if n > 100 << 20:
            raise ValueError(f"header size {n}")
        meta = json.loads(f.read(n)).get("__metadata__", {})
except Exception as e:
    sys.exit(f"{path}: not a safetensors network file ({e!r}); convert the published weights with "
             "`preimage convert-weights` (docs/weights.md)")
model = meta.get("preimage.model")
if model != want:
    sys.exit(f"{path}: a {model} network, expected {want}")
if meta.get("preimage.random_weights") == "true":
    print(f"warning: {path} has RANDOM WEIGHTS (preimage init-weights): the results are a pipeline check, "
          "not the paper's", file=sys.stderr)
    print("random")
EOF
}
random=""
[ -z "$alexnet" ] || random+=$(check_model "$alexnet" alexnet)
[ -z "$vggm" ] || random+=$(check_model "$vggm" vgg-m)
[ -z "$vgg16" ] || random+=$(check_model "$vgg16" vgg-vd-16)
rw=""; [ -z "$random" ] || rw=" [RANDOM WEIGHTS]"

# Image sets as folders of links, so that every command gets exactly the chosen files.
mapfile -t all < <(find -L "$images" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \
  -o -iname '*.ppm' -o -iname '*.bmp' \) | sort)
[ "${#all[@]}" -gt 0 ] || { echo "$images: no images (jpg, jpeg, png, ppm, bmp)" >&2; exit 2; }
link_set() {  # link_set DIR FILE...
  local d=$1; shift
  rm -rf "$d"; mkdir -p "$d"
  for f in "$@"; do ln -s "$(realpath "$f")" "$d/$(basename "$f")"; done
}
link_set "$out/sets/table5" "${all[@]:0:$n_images}"
[ -n "$fox" ] || fox=${all[0]}
link_set "$out/sets/fox" "$fox"
fox_stem=$(basename "${fox%.*}")
if [ -n "$fig8" ]; then read -r -a f8 <<< "$fig8"; else f8=("${all[@]:1:3}"); [ "${#f8[@]}" -gt 0 ] || f8=("$fox"); fi
[ "$smoke" = 1 ] && f8=("${f8[0]}")
link_set "$out/sets/fig8" "${f8[@]}"

log="$out/log.txt"
echo "# $(date -u +%FT%TZ) iters=$iters final=$final n_images=$n_images smoke=$smoke only=$only" >> "$log"
# run DIR CMD...: runs a preimage command unless DIR/metrics.json (or the stats file) is there; logs its seconds.
run() {
  local done_file=$1; shift
  if [ -f "$done_file" ]; then echo "skip (done): $done_file" >&2; return; fi
  local t=$(date +%s)
  echo "+ $bin $*" >&2
  if "$bin" "$@" "${extra[@]}"; then
    echo "$(( $(date +%s) - t )) s  $*" >> "$log"
  else  # keep going: the other tables and figures do not depend on this run
    echo "FAILED (exit $?) after $(( $(date +%s) - t )) s  $*" | tee -a "$log" >&2
    failures=$((failures + 1))
  fi
}
failures=0
inv() {  # inv MODEL LAYER SET OUTDIR [options]
  local m=$1 l=$2 s=$3 o=$4; shift 4
  run "$o/metrics.json" invert "$s" --model "$m" --layer "$l" --iters "$iters" --final-iters "$final" --out "$o" "$@"
}
sheets=()  # "title|jpg|gallery dir"
sheet() {  # sheet NAME TITLE GALLERY [deep_sheet args...]
  local name=$1 title=$2 gallery=$3; shift 3
  "$py" "$here/deep_sheet.py" --out "$out/$name.jpg" --title "$title$rw" "$@"
  sheets+=("$title|$name.jpg|$gallery")
}

if want table5 && [ -n "$alexnet" ]; then
  for c in $T5_C; do
    for l in $T5_LAYERS; do inv "$alexnet" "$l" "$out/sets/table5" "$out/table5/C$c/$l" --C "$c"; done
  done
  {
    echo "# Table 5: AlexNet inversion error per layer and C (%), ours vs. IJCV 2016$rw"
    echo
    echo "$(ls "$out/sets/table5" | wc -l) images from $images; $iters + $final iterations; model $alexnet"
    echo
    "$py" "$here/deep_table.py" grid $(for c in $T5_C; do echo "$c=$out/table5/C$c"; done)
  } > "$out/table5.md"
  sheets+=("Table 5 (AlexNet, every layer x C)|table5.md|table5")
fi

# inv_sheet FIG MODEL LAYERS TITLE: every layer on the fox image with the per-layer C, and its contact sheet
inv_sheet() {
  local fig=$1 m=$2 layers=$3 title=$4 tiles=()
  for l in $layers; do
    inv "$m" "$l" "$out/sets/fox" "$out/$fig/$l"
    tiles+=("$l=$out/$fig/$l/$fox_stem.png")
  done
  sheet "$fig" "$title" "$fig" --original "$fox" --cols 7 --tile 160 "${tiles[@]}"
}
want fig5 && [ -n "$alexnet" ] && inv_sheet fig5 "$alexnet" "$T5_LAYERS" "Fig. 5: AlexNet, every layer"
want fig6 && [ -n "$vggm" ] && inv_sheet fig6 "$vggm" "$VGGM_LAYERS" "Fig. 6: VGG-M, linear layers"
want fig7 && [ -n "$vgg16" ] && inv_sheet fig7 "$vgg16" "$VGG16_LAYERS" "Fig. 7: VGG-VD-16, linear layers"

if want fig8 && [ -n "$vgg16" ]; then
  for l in $FIG8_LAYERS; do inv "$vgg16" "$l" "$out/sets/fig8" "$out/fig8/$l" --restarts "$restarts"; done
  for f in "${f8[@]}"; do  # a row per layer: input (first row only) | restart 0 ... restart K-1
    s=$(basename "${f%.*}") tiles=() first=1
    for l in $FIG8_LAYERS; do
      [ "$first" = 1 ] || tiles+=("=-")
      first=0
      for ((r = 0; r < restarts; r++)); do tiles+=("$l r$r=$out/fig8/$l/${s}_r$r.png"); done
    done
    sheet "fig8_$s" "Fig. 8: VGG-VD-16, $restarts restarts per layer ($s)" fig8 --original "$f" \
      --cols $((restarts + 1)) --tile 128 "${tiles[@]}"
  done
fi

if want fig13; then
  for pair in "alexnet:$alexnet" "vgg-m:$vggm" "vgg16:$vgg16"; do
    name=${pair%%:*} m=${pair#*:}
    [ -n "$m" ] || continue
    stats="$out/fig13/$name/fc8_stats.json"
    mkdir -p "$out/fig13/$name"
    run "$stats" stats "${stats_images:-$images}" --model "$m" --layer fc8 --out "$stats"
    tiles=()
    for u in $UNITS; do
      k=${u%%:*}
      M=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["max"][int(sys.argv[2])])' "$stats" "$k" \
          2>/dev/null || echo missing)
      norm=(--stats "$stats")
      if ! "$py" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$M" 2>/dev/null; then
        echo "warning: $name fc8 unit $k: maximum $M over the statistics images is not positive (never active);" \
          "running it with M = 1 (use more --stats-images)" | tee -a "$log" >&2
        norm=(--M 1)
      fi
      run "$out/fig13/$name/unit$k/metrics.json" actmax --model "$m" --layer fc8 --unit "$k" "${norm[@]}" \
        --iters "$iters" --out "$out/fig13/$name/unit$k"
      tiles+=("${u#*:} ($k)=$out/fig13/$name/unit$k/fc8_unit$k.png")
    done
    sheet "fig13_$name" "Fig. 13: $name fc8 activation maximisation" "fig13/$name" --cols 4 --tile 200 "${tiles[@]}"
  done
fi

if want fig14 && [ -n "$vggm" ]; then
  tiles=()
  for l in $VGGM_LAYERS; do
    run "$out/fig14/$l/metrics.json" caricature "$out/sets/fox" --model "$vggm" --layer "$l" --iters "$iters" \
      --out "$out/fig14/$l"
    tiles+=("$l=$out/fig14/$l/$fox_stem.png")
  done
  sheet fig14 "Fig. 14: VGG-M caricatures" fig14 --original "$fox" --cols 5 --tile 160 "${tiles[@]}"
fi

# Index: every sheet with a link to the folder of its per-run galleries (each has index.html).
{
  echo "<!doctype html><meta charset=utf-8><title>IJCV 2016 reproduction</title>"
  echo "<h1>Reproduction of IJCV 2016 Table 5, Figs. 5-8, 13-14$rw</h1>"
  [ -z "$rw" ] || echo "<p><b>RANDOM WEIGHTS</b>: some network files come from <code>preimage init-weights</code>;" \
    "these results check the pipeline and are not comparable with the paper.</p>"
  echo "<p>$(grep "^#" "$log" | tail -1 | sed 's/&/\&amp;/g; s/</\&lt;/g') (settings; every command with its seconds: <a href=log.txt>log.txt</a>)</p>"
  for s in "${sheets[@]}"; do
    IFS='|' read -r title file gallery <<< "$s"
    echo "<h2>$title</h2>"
    case "$file" in
      *.md) echo "<p><a href=\"$file\">$file</a></p><pre>"; sed 's/&/\&amp;/g; s/</\&lt;/g' "$out/$file"; echo "</pre>" ;;
      *) echo "<p><img src=\"$file\" style=\"max-width:100%\"></p>" ;;
    esac
    echo "<p>galleries: $(for d in "$out/$gallery"/*/ "$out/$gallery"/*/*/; do
      [ -f "$d/index.html" ] && echo "<a href=\"${d#$out/}index.html\">${d#$out/}</a>"; done | tr '\n' ' ')</p>"
  done
} > "$out/index.html"
{
  echo "# IJCV 2016 reproduction ($(date -u +%F))$rw"
  echo
  for s in "${sheets[@]}"; do
    IFS='|' read -r title file gallery <<< "$s"
    case "$file" in *.md) echo "- [$title]($file)" ;; *) echo "- $title: ![$title]($file)" ;; esac
  done
} > "$out/index.md"
echo "done: $out/index.html, $out/index.md$( [ -f "$out/table5.md" ] && echo ", $out/table5.md")" >&2
[ "$failures" = 0 ] || { echo "$failures command(s) failed: see $log" >&2; exit 1; }
