#!/usr/bin/env bash
# Builds preimage from scratch in build/ and runs every test with ctest (the [gpu] tests skip without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
cd build && ctest --output-on-failure -j "$jobs"
