#!/usr/bin/env bash
# Configures and builds preimage in build/ (Release). Extra arguments go to cmake's configure step, e.g.
# -DCMAKE_CUDA_ARCHITECTURES=90.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
