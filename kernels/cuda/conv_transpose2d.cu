// kernels/cuda/conv_transpose2d.h on conv2d's implicit-GEMM passes. The transposed convolution with input x
// [N, C, H, W] and output y [N, K, Ho, Wo] is the adjoint of the conv2d that maps [N, K, Ho, Wo] to [N, C, H, W]
// with the same weights ([C, K/groups, kh, kw] is that conv's [filters, channels/groups, kh, kw] layout), stride and
// padding: its output size floor((Ho + pt + pb - kh) / s) + 1 is H because the output padding is < the stride. So
//   forward        y   = b + conv2d dgrad(d_y := x)
//   backward data  d_x += conv2d fprop(x := d_y)
//   backward filt. d_w += conv2d wgrad(x := d_y, d_y := x)
#include "kernels/cuda/conv_transpose2d.h"

namespace preimage::kernels::cuda {

namespace {
// The conv2d whose input is this op's output.
Conv2dGeometry adjoint_conv(const ConvTranspose2dGeometry& t) {
  Conv2dGeometry g{};
  g.n = t.n;
  g.c = t.k, g.h = t.ho, g.w = t.wo;
  g.k = t.c, g.kh = t.kh, g.kw = t.kw;
  g.ho = t.h, g.wo = t.w;
  g.p.stride_h = t.p.stride_h, g.p.stride_w = t.p.stride_w;
  g.p.pad_top = t.p.pad_top, g.p.pad_bottom = t.p.pad_bottom;
  g.p.pad_left = t.p.pad_left, g.p.pad_right = t.p.pad_right;
  g.p.groups = t.p.groups;
  return g;
}
}  // namespace

void conv_transpose2d_forward(const ConvTranspose2dGeometry& g, const float* x, const float* w, const float* b,
                              float* y, cudaStream_t stream, const ConvTuning& tuning) {
  conv2d_dgrad(adjoint_conv(g), w, x, b, y, false, stream, tuning);
}

void conv_transpose2d_backward(const ConvTranspose2dGeometry& g, const float* x, const float* w, const float* d_y,
                               float* d_x, float* d_w, float* d_b, cudaStream_t stream, const ConvTuning& tuning) {
  const Conv2dGeometry a = adjoint_conv(g);
  if (d_x) conv2d_fprop(a, d_y, w, nullptr, d_x, true, stream, tuning);
  if (d_w) conv2d_wgrad(a, d_y, x, d_w, stream, tuning);
  if (d_b) channel_sum_accumulate(g.n, g.k, g.ho * g.wo, d_y, d_b, stream);
}

}  // namespace preimage::kernels::cuda
