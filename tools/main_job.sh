#!/usr/bin/env bash
# The main job on a default input: inverts a Debian-provided photo (scikit-image's astronaut, python3-skimage)
# through HOG and DSIFT, decodes it with the shipped HOG decoder, and writes the galleries. Usage: tools/main_job.sh [IMAGE_OR_FOLDER] [OUT=out/main]
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-/usr/lib/python3/dist-packages/skimage/data/astronaut.png}
out=${2:-out/main}
bin=build/preimage
[ -x "$bin" ] || { echo "build first: bash tools/build.sh" >&2; exit 1; }
for rep in hog dsift; do
  "$bin" invert "$input" --rep "$rep" --size 227 --out "$out/$rep"
done
# The learned alternative (seed 002): the shipped HOG decoder, one forward pass at its 64 x 64 size, next to the
# optimisation result at the same size (weights/decoders/README.md).
"$bin" decode --decoder weights/decoders/hog.safetensors "$input" --out "$out/hog_decoder"
"$bin" invert "$input" --rep hog --size 64 --out "$out/hog64"
echo "galleries: $out/hog/index.html $out/dsift/index.html $out/hog_decoder/index.html $out/hog64/index.html"
