#pragma once
// Device launchers for kernels/elementwise.h (kernels/cuda/elementwise.cu): raw device pointers to n contiguous
// floats, asynchronous on `stream`, each checked with PI_CUDA_CHECK_LAUNCH. Same semantics as the ref:: templates;
// backward functions ACCUMULATE (+=), null d_* means "not wanted".
#include <cstdint>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {

void add_into(float* y, const float* x, int64_t n, cudaStream_t stream = nullptr);           // y += x
void axpy_into(float* y, float s, const float* x, int64_t n, cudaStream_t stream = nullptr); // y += s x
void add_forward(const float* a, const float* b, float* y, int64_t n, cudaStream_t stream = nullptr);
void mul_forward(const float* a, const float* b, float* y, int64_t n, cudaStream_t stream = nullptr);
void mul_backward(const float* a, const float* b, const float* d_y, float* d_a, float* d_b, int64_t n,
                  cudaStream_t stream = nullptr);
void scale_forward(const float* a, float s, float* y, int64_t n, cudaStream_t stream = nullptr);
// y[0] = sum of a[0..n), accumulated in double like ref::sum; deterministic (fixed reduction tree for a given n).
void sum_forward(const float* a, int64_t n, float* y, cudaStream_t stream = nullptr);
void broadcast_add_into(float* d_a, const float* d_y, float s, int64_t n, cudaStream_t stream = nullptr);  // += s d_y[0]

}  // namespace preimage::kernels::cuda
