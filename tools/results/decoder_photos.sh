#!/usr/bin/env bash
# Builds the decoder photo folders as symlinks: TRAIN from the training packages only (one size per
# plasma-workspace wallpaper; the photos among /usr/share/backgrounds from lomiri-wallpapers* and ukui-wallpapers,
# minus the abstract graphics named below), TEST from mate-backgrounds and python3-skimage (never trained on).
# Usage: tools/results/decoder_photos.sh TRAIN_DIR TEST_DIR
set -euo pipefail
train=${1:?train dir}; test=${2:?test dir}
mkdir -p "$train" "$test"
for d in /usr/share/wallpapers/*/; do
  n=$(basename "$d"); imgs=$d/contents/images
  f=$(ls "$imgs" | grep -E '^1920x1080\.' | head -1 || true)
  [ -z "$f" ] && f=$(ls "$imgs" | grep -E '^(2560x1440|1920x1200|1600x1200|1280x1024)\.' | head -1 || true)
  [ -z "$f" ] && f=$(ls "$imgs" | head -1)
  ln -sf "$imgs/$f" "$train/plasma_$n.${f##*.}"
done
for f in /usr/share/backgrounds/*.*; do
  b=$(basename "$f")
  case $b in warty-final-ubuntu.png|lomiri-default-background.png|fluent-color.png|focal-ubuntukylin.png|analogpattern*|rollpaper.png|string.jpg|Painting-Colors*|2004default.jpg) continue;; esac
  ln -sf "$f" "$train/bg_$b"
done
for f in /usr/share/backgrounds/mate/nature/*; do ln -sf "$f" "$test/mate_$(basename "$f")"; done
for n in astronaut chelsea coffee rocket motorcycle_left hubble_deep_field; do
  f=$(ls /usr/lib/python3/dist-packages/skimage/data/$n.* 2>/dev/null | head -1 || true)
  [ -n "$f" ] && ln -sf "$f" "$test/skimage_$(basename "$f")"
done
echo "train: $(ls "$train" | wc -l) photos, test: $(ls "$test" | wc -l) photos"
