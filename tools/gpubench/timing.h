#pragma once
// CUDA-event timing with the benchmark protocol (DESIGN.md "Benchmarks (protocol)"): warm-up runs, then `runs`
// individually timed runs; L2 hot = runs back to back, L2 cold = a write of twice the L2 size (cudaMemsetAsync)
// before each run, outside the timed interval. Everything runs on the legacy default stream, where the engine's
// launchers, cuDNN and cuBLAS (handles left on stream 0) all launch.
#include <functional>
#include <vector>

#include <cuda_runtime_api.h>
#include <nlohmann/json.hpp>

namespace preimage::gpubench {

struct Stats {
  double median_ms = 0, p10_ms = 0, p90_ms = 0;
  int runs = 0;
};
// Percentiles by linear interpolation between the sorted samples (p in [0, 1]).
Stats summarise(std::vector<double> ms);
nlohmann::json to_json(const Stats& s);

// Owns the events and the L2 flush buffer (move-only device memory, freed on destruction).
class Timer {
 public:
  explicit Timer(long long l2_bytes);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Times fn: `warmup` untimed calls, then `runs` calls each between two events; flush_l2: cold runs.
  Stats measure(const std::function<void()>& fn, int warmup, int runs, bool flush_l2);
  // Milliseconds of one call (events around it), no warm-up.
  float time_once(const std::function<void()>& fn);

 private:
  void flush();
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  void* flush_buf_ = nullptr;
  size_t flush_bytes_ = 0;
  int flush_value_ = 0;
};

}  // namespace preimage::gpubench
