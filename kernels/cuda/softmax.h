#pragma once
// Device launchers for kernels/softmax.h (kernels/cuda/softmax.cu): raw device pointers, contiguous [n, c, inner]
// floats, softmax over c. Backward ACCUMULATES into d_x.
#include <cstdint>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {

void softmax_forward(int64_t n, int64_t c, int64_t inner, const float* x, float* y, cudaStream_t stream = nullptr);
// y is the forward's output
void softmax_backward(int64_t n, int64_t c, int64_t inner, const float* y, const float* d_y, float* d_x,
                      cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
