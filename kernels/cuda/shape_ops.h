#pragma once
// Device launchers for kernels/shape_ops.h (kernels/cuda/shape_ops.cu): raw device pointers, contiguous floats.
// The backward functions ACCUMULATE (crop: d_y into the window of d_x, whose cells are distinct: no atomics).
#include <cstdint>
#include <vector>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {

// xs[i]: [n, channels[i], inner] -> y: [n, sum channels, inner]; null d_xs[i] are skipped.
void concat_dim1_forward(const std::vector<const float*>& xs, const std::vector<int64_t>& channels, int64_t n,
                         int64_t inner, float* y, cudaStream_t stream = nullptr);
void concat_dim1_backward(const float* d_y, const std::vector<int64_t>& channels, int64_t n, int64_t inner,
                          const std::vector<float*>& d_xs, cudaStream_t stream = nullptr);
// x: [nc, H, W]; y: [nc, h, w]; requires top + h <= H, left + w <= W (checked by the launcher).
void crop_forward(const float* x, float* y, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left, int64_t h,
                  int64_t w, cudaStream_t stream = nullptr);
// d_y: [nc, h, w]; d_x: [nc, H, W].
void crop_backward(const float* d_y, float* d_x, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left,
                   int64_t h, int64_t w, cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
