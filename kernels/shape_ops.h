#pragma once
// Shape ops that move data: concatenation along dim 1 and spatial cropping. (reshape / flatten are views of the same
// elements and need no kernel: see engine/ops/shape.cpp.) Formulas and conventions: docs/ops/shape_ops.md.
//   concat:  y[n, off_i + c, r] = x_i[n, c, r]   x_i [N, C_i, R...] -> y [N, sum C_i, R...], off_i = C_0 + .. + C_{i-1}
//            (torch.cat(xs, dim=1)); backward splits d_y back into the d_x_i.
//   crop:    y[n, c, i, j] = x[n, c, top + i, left + j]   x [N, C, H, W] -> y [N, C, h, w]
//            (x[:, :, top:top+h, left:left+w]; the jitter operator of IJCV eq. 7); backward scatters d_y into d_x.
// Backward functions ACCUMULATE into their d_* outputs (+=); a null / empty d_* means "not wanted".
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace preimage::kernels {

namespace ref {  // CPU reference: the spec, plain loops, instantiated for float and double
// xs[i]: [n, channels[i], inner]; y: [n, sum channels, inner]. inner = product of the dims after dim 1.
template <typename T>
void concat_dim1_forward(const std::vector<const T*>& xs, const std::vector<int64_t>& channels, int64_t n,
                         int64_t inner, T* y);
// d_y: [n, sum channels, inner]; d_xs[i]: [n, channels[i], inner] or null.
template <typename T>
void concat_dim1_backward(const T* d_y, const std::vector<int64_t>& channels, int64_t n, int64_t inner,
                          const std::vector<T*>& d_xs);
// x: [nc, H, W]; y: [nc, h, w] (nc = N * C); requires top + h <= H, left + w <= W.
template <typename T>
void crop_forward(const T* x, T* y, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left, int64_t h,
                  int64_t w);
// d_y: [nc, h, w]; d_x: [nc, H, W] (accumulated).
template <typename T>
void crop_backward(const T* d_y, T* d_x, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left, int64_t h,
                   int64_t w);
}  // namespace ref

// Launchers. concat: every x has y's ndim (>= 2) and y's dims except dim 1; y's dim 1 is the sum of theirs.
void concat_channels_forward(const std::vector<View>& xs, const View& y);
// A d_x with null data is skipped, but must still carry its input's shape (it gives the channel split).
void concat_channels_backward(const View& d_y, const std::vector<View>& d_xs);
// crop: x [N, C, H, W], y [N, C, h, w]; the window [top, top + h) x [left, left + w) must lie inside x.
void crop_forward(const View& x, const View& y, int64_t top, int64_t left);
void crop_backward(const View& d_y, const View& d_x, int64_t top, int64_t left);

// The output shape of concat_channels / crop, checking the operands (throws preimage::Error naming the op).
Shape concat_channels_shape(const std::vector<Shape>& shapes);
Shape crop_shape(const Shape& x, int64_t top, int64_t left, int64_t height, int64_t width);

}  // namespace preimage::kernels
