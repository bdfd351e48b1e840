#pragma once
// One benchmark case made runnable: its operands on both devices, our launcher call, the library baseline.
// Operands are pairs: `dev` is the full case on the GPU, `host` the first `check_batch` samples (or the whole
// tensor when it has no batch dimension) on the CPU, with the same values in those samples (the rest of a batched
// device tensor repeats them), so the correctness check runs our CUDA launcher and the CPU launcher on the same
// inputs without generating or reference-computing a whole batch of 64 on the host.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "tools/gpubench/baselines.h"
#include "tools/preimage/bench_cases.h"

namespace preimage::gpubench {

struct Pair {
  Tensor host, dev;
  bool batched = true;  // the leading dimension is the batch (rows for GEMM)
  View side(Device d, int64_t nb);  // the prefix of nb samples (the whole tensor when not batched)
};

enum class Metric { max_normalised, l2_relative };

struct Job {
  Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  std::vector<std::unique_ptr<Pair>> pairs;  // owns every operand the closures point to
  std::vector<Tensor> extra;                 // device tensors only the baseline uses
  Pair* result = nullptr;                    // the output the check compares
  int64_t batch = 1, check_batch = 1;
  // Runs the op on the first nb samples, on the GPU operands (Device::cuda) or the CPU ones (Device::cpu), through
  // the engine's launchers (kernels/<op>.h). Accumulating outputs are zeroed by the caller.
  std::function<void(Device, int64_t nb)> call;
  // The number of terms summed into one output element of the check run (drives the tolerance).
  double reduction_length = 1;
  Metric metric = Metric::max_normalised;
  double tolerance = 0;  // set from reduction_length unless the family fixes it
  double bytes = 0;      // minimum memory traffic of one full call (memory-bound ops), 0 otherwise
  // The library call on the full case writing into baseline_out (same shape as result->dev); null: none exists.
  std::function<std::unique_ptr<Baseline>(const Libraries&)> make_baseline;
  std::string no_baseline_reason;
  Tensor baseline_out;
};

// Fills j (in place: the baseline closures keep a pointer to it, so a Job is never moved once made).
void make_job(const tools::bench::BenchCase& c, Job& j);

}  // namespace preimage::gpubench
