#pragma once
// Device launchers for kernels/linear.h (kernels/cuda/linear.cu) on our SGEMM (kernels/cuda/gemm.h): raw device
// pointers, strict FP32. Backward ACCUMULATES into d_x, d_w, d_b (null = not wanted), deterministically.
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/cuda/gemm.h"
#include "kernels/linear.h"

namespace preimage::kernels::cuda {

// x [N, I], w [O, I], b [O] or null, y [N, O]
void linear_forward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* b, float* y,
                    cudaStream_t stream = nullptr, GemmTileChoice tile = GemmTileChoice::automatic);
// x, d_x [N, I], w, d_w [O, I], d_y [N, O], d_b [O]
void linear_backward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* d_y,
                     float* d_x, float* d_w, float* d_b, cudaStream_t stream = nullptr,
                     GemmTileChoice tile = GemmTileChoice::automatic);

}  // namespace preimage::kernels::cuda
