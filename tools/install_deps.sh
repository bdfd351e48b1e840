#!/usr/bin/env bash
# Installs the Debian packages preimage needs to build and test (see DESIGN.md "Dependencies"). The CUDA toolkit
# (nvcc, cuDNN, cuBLAS) is expected under /usr/local/cuda. Run as root (or with sudo available).
set -euo pipefail
packages=(
  cmake g++ make pkg-config valgrind
  # the sanitizer build and the fuzz targets (docs/reliability.md): clang with libFuzzer and its OpenMP runtime
  clang libclang-rt-dev libomp-dev
  catch2 libeigen3-dev libstb-dev libcli11-dev nlohmann-json3-dev
  libvlfeat-dev libmatio-dev libpng-dev libjpeg-dev
  python3-numpy python3-torch python3-torchvision python3-onnx python3-scipy python3-skimage python3-matplotlib
  mate-backgrounds
  # training photos of the learned decoders (docs/results/decoders.md); mate-backgrounds and skimage are the test photos
  plasma-workspace-wallpapers ukui-wallpapers lomiri-wallpapers lomiri-wallpapers-16.04 lomiri-wallpapers-20.04
)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || {
  echo "install_deps: nvcc not found (expected the CUDA toolkit in /usr/local/cuda)" >&2; exit 1; }
echo "install_deps: all packages present"
