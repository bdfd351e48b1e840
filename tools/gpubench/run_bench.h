#pragma once
// `preimage bench` on a real GPU (real CUDA build only; tools/preimage/cmd_bench.cpp decides whether to call it).
// For each case: correctness of our CUDA launcher against the CPU launcher on the same inputs, then CUDA-event
// timings of ours and of cuDNN/cuBLAS, L2 hot and cold; a table on stdout and, with --json, a JSON file
// (docs/benchmarks.md "GPU" describes both). Returns the exit code: 1 when a case failed its check or errored.
#include <vector>

#include "tools/preimage/bench_cases.h"

namespace preimage::gpubench {

int run_gpu_bench(const std::vector<tools::bench::BenchCase>& cases, const tools::bench::BenchOptions& options);

}  // namespace preimage::gpubench
