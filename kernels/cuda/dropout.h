#pragma once
// Device launchers for kernels/dropout.h (kernels/cuda/dropout.cu): raw device pointers to n contiguous floats. The
// keep mask is drawn from the same Philox counters as the CPU reference (engine/rng.h), so it is identical on both
// devices. Backward ACCUMULATES into d_x.
#include <cstdint>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {

void dropout_forward(int64_t n, float p, uint64_t seed, const float* x, float* y, cudaStream_t stream = nullptr);
void dropout_backward(int64_t n, float p, uint64_t seed, const float* d_y, float* d_x, cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
