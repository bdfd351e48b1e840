#include "tools/gpubench/timing.h"

#include <algorithm>
#include <cmath>

#include "engine/cuda_check.h"

namespace preimage::gpubench {
namespace {
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double pos = p * double(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - double(lo)) * (sorted[hi] - sorted[lo]);
}
}  // namespace

Stats summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Stats s;
  s.runs = static_cast<int>(ms.size());
  s.median_ms = percentile(ms, 0.5);
  s.p10_ms = percentile(ms, 0.1);
  s.p90_ms = percentile(ms, 0.9);
  return s;
}

nlohmann::json to_json(const Stats& s) {
  return {{"median_ms", s.median_ms}, {"p10_ms", s.p10_ms}, {"p90_ms", s.p90_ms}, {"runs", s.runs}};
}

Timer::Timer(long long l2_bytes) {
  PI_CUDA_CHECK(cudaEventCreate(&start_));
  PI_CUDA_CHECK(cudaEventCreate(&stop_));
  // Twice the L2 (at least 64 MiB): writing it evicts every line the previous run left in the cache.
  flush_bytes_ = std::max<size_t>(size_t(2) * static_cast<size_t>(std::max(l2_bytes, 0LL)), size_t(64) << 20);
  PI_CUDA_CHECK(cudaMalloc(&flush_buf_, flush_bytes_));
}

Timer::~Timer() {
  // Destructors must not throw: errors here are ignored (the process is reporting or ending anyway).
  if (flush_buf_) (void)cudaFree(flush_buf_);
  if (start_) (void)cudaEventDestroy(start_);
  if (stop_) (void)cudaEventDestroy(stop_);
}

void Timer::flush() {
  flush_value_ ^= 1;  // a different value each time, so no layer can skip the write as redundant
  PI_CUDA_CHECK(cudaMemsetAsync(flush_buf_, flush_value_, flush_bytes_, nullptr));
}

float Timer::time_once(const std::function<void()>& fn) {
  PI_CUDA_CHECK(cudaEventRecord(start_, nullptr));
  fn();
  PI_CUDA_CHECK(cudaEventRecord(stop_, nullptr));
  PI_CUDA_CHECK(cudaEventSynchronize(stop_));
  float ms = 0;
  PI_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
  return ms;
}

Stats Timer::measure(const std::function<void()>& fn, int warmup, int runs, bool flush_l2) {
  for (int i = 0; i < warmup; ++i) fn();
  PI_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(runs));
  for (int i = 0; i < runs; ++i) {
    if (flush_l2) flush();
    ms.push_back(time_once(fn));
  }
  return summarise(std::move(ms));
}

}  // namespace preimage::gpubench
