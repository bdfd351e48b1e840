#pragma once
// Transposed 2-D convolution ("up-convolution", seed 002: equivalent to zero-insertion upsampling by the stride
// followed by a convolution), NCHW, groups, stride, asymmetric padding and output padding, as PyTorch's
// ConvTranspose2d:
//   x: [N, C, H, W]   w: [C, K/groups, kh, kw]   b: [K] (optional)   y: [N, K, Ho, Wo]
//   Ho = (H - 1) * stride_h - pad_top - pad_bottom + kh + out_pad_h
//   y[n, g*K/groups + k, i*sh - pt + u, j*sw - pl + v] += x[n, c, i, j] * w[c, k, u, v]   (c in group g)
// It is exactly the adjoint (backward-data) of conv2d with the same weights. Backward accumulates.
#include "engine/tensor.h"

namespace preimage::kernels {

struct ConvTranspose2dParams {
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int out_pad_h = 0, out_pad_w = 0;  // extra rows/cols at the bottom/right; must be < stride (as PyTorch)
  int groups = 1;
};

struct ConvTranspose2dGeometry {
  int64_t n, c, h, w;   // input
  int64_t k, kh, kw;    // output channels, kernel
  int64_t ho, wo;       // output
  ConvTranspose2dParams p;
};
ConvTranspose2dGeometry conv_transpose2d_geometry(const char* op, const Shape& x, const Shape& w,
                                                  const ConvTranspose2dParams& p);

namespace ref {
template <typename T>
void conv_transpose2d_forward(const ConvTranspose2dGeometry& g, const T* x, const T* w, const T* b, T* y);
template <typename T>
void conv_transpose2d_backward(const ConvTranspose2dGeometry& g, const T* x, const T* w, const T* d_y, T* d_x,
                               T* d_w, T* d_b);
}  // namespace ref

namespace im2col {
void conv_transpose2d_forward(const ConvTranspose2dGeometry& g, const float* x, const float* w, const float* b,
                              float* y);
void conv_transpose2d_backward(const ConvTranspose2dGeometry& g, const float* x, const float* w, const float* d_y,
                               float* d_x, float* d_w, float* d_b);
}  // namespace im2col

void conv_transpose2d_forward(const View& x, const View& w, const View& b, const View& y,
                              const ConvTranspose2dParams& p);
void conv_transpose2d_backward(const View& x, const View& w, const View& d_y, const View& d_x, const View& d_w,
                               const View& d_b, const ConvTranspose2dParams& p);

}  // namespace preimage::kernels
