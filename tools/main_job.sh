#!/usr/bin/env bash
# The main job on a default input: inverts a Debian-provided photo (scikit-image's astronaut, python3-skimage)
# through HOG and DSIFT and writes the galleries. Usage: tools/main_job.sh [IMAGE_OR_FOLDER] [OUT=out/main]
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-/usr/lib/python3/dist-packages/skimage/data/astronaut.png}
out=${2:-out/main}
bin=build/preimage
[ -x "$bin" ] || { echo "build first: bash tools/build.sh" >&2; exit 1; }
for rep in hog dsift; do
  "$bin" invert "$input" --rep "$rep" --size 227 --out "$out/$rep"
done
echo "galleries: $out/hog/index.html $out/dsift/index.html"
