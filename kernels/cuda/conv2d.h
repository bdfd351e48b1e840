#pragma once
// Device launchers for kernels/conv2d.h (kernels/cuda/conv2d_implicit_gemm.cu): raw device pointers, contiguous
// NCHW floats, geometry from conv2d_geometry, strict FP32. Every pass is an implicit GEMM on our tiled SGEMM main
// loop (no im2col buffer); docs/cuda_kernels.md "Convolution and GEMM". Backward ACCUMULATES into d_x, d_w, d_b
// (null = not wanted), deterministically (no atomics; split-K partial sums are added in a fixed order).
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/conv2d.h"
#include "kernels/cuda/gemm.h"

namespace preimage::kernels::cuda {

// Launch choices the launchers normally make themselves; tests force each variant.
struct ConvTuning {
  GemmTileChoice tile = GemmTileChoice::automatic;
  int split_k = 0;  // weight gradient: slices of the N*Ho*Wo reduction (0: automatic)
};

// x [N, C, H, W], w [K, C/groups, kh, kw], b [K] or null, y [N, K, Ho, Wo]
void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y,
                    cudaStream_t stream = nullptr, const ConvTuning& tuning = {});
// x, d_x [N, C, H, W], w, d_w [K, C/groups, kh, kw], d_y [N, K, Ho, Wo], d_b [K]
void conv2d_backward(const Conv2dGeometry& g, const float* x, const float* w, const float* d_y, float* d_x,
                     float* d_w, float* d_b, cudaStream_t stream = nullptr, const ConvTuning& tuning = {});

// The three passes (also the building blocks of kernels/cuda/conv_transpose2d.cu), shapes as above:
// fprop:  y   = (accumulate ? y : 0)   + bias[k] + conv(x, w)          bias [K] or null
void conv2d_fprop(const Conv2dGeometry& g, const float* x, const float* w, const float* bias, float* y,
                  bool accumulate, cudaStream_t stream, const ConvTuning& tuning);
// dgrad:  d_x = (accumulate ? d_x : 0) + bias[c] + conv^T(d_y, w)      bias [C] or null
void conv2d_dgrad(const Conv2dGeometry& g, const float* w, const float* d_y, const float* bias, float* d_x,
                  bool accumulate, cudaStream_t stream, const ConvTuning& tuning);
// wgrad:  d_w += sum over n, pixels of d_y (x) shifted x
void conv2d_wgrad(const Conv2dGeometry& g, const float* x, const float* d_y, float* d_w, cudaStream_t stream,
                  const ConvTuning& tuning);
// d_b[k] += sum_{n, p} d_y[n, k, p]     d_y [N, K, P], d_b [K]
void channel_sum_accumulate(int64_t n, int64_t k, int64_t p, const float* d_y, float* d_b, cudaStream_t stream);

}  // namespace preimage::kernels::cuda
