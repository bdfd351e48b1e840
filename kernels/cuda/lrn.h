#pragma once
// Device launchers for kernels/lrn.h (kernels/cuda/lrn.cu): raw device pointers, contiguous [n, c, hw] floats, same
// float arithmetic as the reference. Backward ACCUMULATES into d_x.
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/lrn.h"

namespace preimage::kernels::cuda {

void lrn_forward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const float* x, float* y,
                 cudaStream_t stream = nullptr);
void lrn_backward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const float* x, const float* d_y, float* d_x,
                  cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
