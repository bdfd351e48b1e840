#pragma once
// CPU threading: OpenMP for our loops and Eigen's GEMM. One process-wide setting (--threads N in the tools).
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>

namespace preimage {
void set_num_threads(int n);  // n >= 1
int num_threads();

// Threads for a loop over n independent samples: min(n, num_threads()), at least 1.
inline int sample_threads(int64_t n) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, num_threads())));
}

// fn(sample, thread) for every sample in [0, n): with several samples and threads, in parallel over samples (a
// batch of inversions), each call then running its inner loops on one thread (OpenMP does not nest by default);
// else in order on thread 0. thread < sample_threads(n) indexes per-thread scratch. An exception cannot leave an
// OpenMP region: the first one thrown is kept and rethrown after the loop.
template <typename F> void for_each_sample(int64_t n, F&& fn) {
  const int threads = sample_threads(n);
  if (threads == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    try {
      fn(i, omp_get_thread_num());
    } catch (...) {
#pragma omp critical(preimage_for_each_sample)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}
}  // namespace preimage
