#pragma once
// 2-D convolution (cross-correlation, as Caffe/PyTorch), NCHW, with stride, asymmetric zero padding and groups.
//   x: [N, C, H, W]   w: [K, C/groups, kh, kw]   b: [K] (optional)   y: [N, K, Ho, Wo]
//   Ho = (H + pad_top + pad_bottom - kh) / stride_h + 1   (floor; the PyTorch/Caffe convention for conv)
//   y[n,k,i,j] = b[k] + sum_{c in group(k), u, v} w[k, c, u, v] * x[n, g*C/groups + c, i*sh - pt + u, j*sw - pl + v]
// Backward ACCUMULATES into d_x, d_w, d_b (any may be null: not wanted).
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

struct Conv2dParams {
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int groups = 1;
  static Conv2dParams symmetric(int stride, int pad, int groups = 1) {
    return Conv2dParams{stride, stride, pad, pad, pad, pad, groups};
  }
};

// Full geometry of one convolution, derived from the shapes (validated by conv2d_geometry()).
struct Conv2dGeometry {
  int64_t n, c, h, w;       // input
  int64_t k, kh, kw;        // filters
  int64_t ho, wo;           // output
  Conv2dParams p;
};
// Throws a clear error (naming `op`) if the shapes and parameters do not fit together.
Conv2dGeometry conv2d_geometry(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p);

namespace ref {  // CPU reference (kernels/cpu/conv2d.cpp), float and double
template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y);
template <typename T>
void conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* d_y, T* d_x, T* d_w, T* d_b);
}  // namespace ref

namespace im2col {  // im2col + Eigen GEMM, float (kernels/cpu/conv2d_im2col.cpp)
void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y);
void conv2d_backward(const Conv2dGeometry& g, const float* x, const float* w, const float* d_y, float* d_x,
                     float* d_w, float* d_b);
}  // namespace im2col

namespace winograd {  // Winograd F(2x2, 3x3) with Eigen GEMMs, float (kernels/cpu/conv2d_winograd.cpp)
// True for the geometries it handles: 3x3 kernels, stride 1, groups 1, any padding.
bool applies(const Conv2dGeometry& g);
void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y);
// Input gradient only (accumulated into d_x); the weight and bias gradients stay on im2col.
void conv2d_backward_input(const Conv2dGeometry& g, const float* w, const float* d_y, float* d_x);
}  // namespace winograd

// Launchers: check shapes/devices, pick the CPU path (kernels/dispatch.h) or the CUDA kernel.
void conv2d_forward(const View& x, const View& w, const View& b, const View& y, const Conv2dParams& p);
void conv2d_backward(const View& x, const View& w, const View& d_y, const View& d_x, const View& d_w,
                     const View& d_b, const Conv2dParams& p);

}  // namespace preimage::kernels
