#pragma once
// Device launchers for kernels/activation.h (kernels/cuda/activation.cu): raw device pointers to n contiguous
// floats. leaky_relu: y = x > 0 ? x : slope x (slope 0 = relu); backward ACCUMULATES into d_x.
#include <cstdint>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {

void leaky_relu_forward(const float* x, float* y, int64_t n, float slope, cudaStream_t stream = nullptr);
void leaky_relu_backward(const float* x, const float* d_y, float* d_x, int64_t n, float slope,
                         cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
