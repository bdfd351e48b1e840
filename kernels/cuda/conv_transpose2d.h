#pragma once
// Device launchers for kernels/conv_transpose2d.h (kernels/cuda/conv_transpose2d.cu): raw device pointers,
// contiguous NCHW floats, geometry from conv_transpose2d_geometry, strict FP32. A transposed convolution is the
// adjoint of conv2d with the same weights, so each pass is one of conv2d's implicit-GEMM passes
// (kernels/cuda/conv2d.h) with the roles of input and output swapped. Backward ACCUMULATES (null = not wanted).
#include <cuda_runtime_api.h>

#include "kernels/conv_transpose2d.h"
#include "kernels/cuda/conv2d.h"

namespace preimage::kernels::cuda {

// x [N, C, H, W], w [C, K/groups, kh, kw], b [K] or null, y [N, K, Ho, Wo]
void conv_transpose2d_forward(const ConvTranspose2dGeometry& g, const float* x, const float* w, const float* b,
                              float* y, cudaStream_t stream = nullptr, const ConvTuning& tuning = {});
// x, d_x [N, C, H, W], w, d_w [C, K/groups, kh, kw], d_y [N, K, Ho, Wo], d_b [K]
void conv_transpose2d_backward(const ConvTranspose2dGeometry& g, const float* x, const float* w, const float* d_y,
                               float* d_x, float* d_w, float* d_b, cudaStream_t stream = nullptr,
                               const ConvTuning& tuning = {});

}  // namespace preimage::kernels::cuda
