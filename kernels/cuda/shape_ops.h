#pragma once
// Device launchers for the crop of kernels/shape_ops.h (kernels/cuda/shape_ops.cu): raw device pointers, contiguous
// floats. crop_backward ACCUMULATES d_y into the window of d_x (the window's cells are distinct: no atomics).
#include <cstdint>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {

// x: [nc, H, W]; y: [nc, h, w]; requires top + h <= H, left + w <= W (checked by the launcher).
void crop_forward(const float* x, float* y, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left, int64_t h,
                  int64_t w, cudaStream_t stream = nullptr);
// d_y: [nc, h, w]; d_x: [nc, H, W].
void crop_backward(const float* d_y, float* d_x, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left,
                   int64_t h, int64_t w, cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
