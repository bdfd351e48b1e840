#pragma once
// y[0..n) = value on the device (kernels/cuda/fill.cu).
#include <cstddef>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {
void fill(float* y, float value, size_t n, cudaStream_t stream = nullptr);
}
