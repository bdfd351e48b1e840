// CPU reference for kernels/max_pool2d.h (PyTorch nn.MaxPool2d semantics, with Caffe's ceil mode and explicit
// asymmetric padding; padded cells are -inf and never win).
#include <cmath>

#include "kernels/max_pool2d.h"

namespace preimage::kernels::ref {
namespace {
// Flat index (into one H*W plane) of the winning cell of output (oh, ow): the first maximum in row-major window
// order; a NaN wins over numbers, so NaN propagates as in PyTorch. Windows are never empty (geometry checks).
template <typename T>
int64_t window_argmax(const MaxPool2dGeometry& g, const T* plane /* [H, W] */, int64_t oh, int64_t ow) {
  const MaxPool2dParams& p = g.p;
  const int64_t h0 = oh * p.stride_h - p.pad_top, w0 = ow * p.stride_w - p.pad_left;
  const int64_t h_lo = h0 < 0 ? 0 : h0, w_lo = w0 < 0 ? 0 : w0;
  const int64_t h_hi = h0 + p.kernel_h < g.h ? h0 + p.kernel_h : g.h;
  const int64_t w_hi = w0 + p.kernel_w < g.w ? w0 + p.kernel_w : g.w;
  int64_t best = h_lo * g.w + w_lo;
  for (int64_t ih = h_lo; ih < h_hi; ++ih) {
    for (int64_t iw = w_lo; iw < w_hi; ++iw) {
      const int64_t i = ih * g.w + iw;
      const T v = plane[i], b = plane[best];
      if (v > b || (std::isnan(v) && !std::isnan(b))) best = i;
    }
  }
  return best;
}
}  // namespace

template <typename T> void max_pool2d_forward(const MaxPool2dGeometry& g, const T* x, T* y) {
  // x [N, C, H, W], y [N, C, Ho, Wo]
  for (int64_t nc = 0; nc < g.n * g.c; ++nc) {
    const T* plane = x + nc * g.h * g.w;
    T* out = y + nc * g.ho * g.wo;
    for (int64_t oh = 0; oh < g.ho; ++oh)
      for (int64_t ow = 0; ow < g.wo; ++ow) out[oh * g.wo + ow] = plane[window_argmax(g, plane, oh, ow)];
  }
}

template <typename T> void max_pool2d_backward(const MaxPool2dGeometry& g, const T* x, const T* d_y, T* d_x) {
  // x, d_x [N, C, H, W], d_y [N, C, Ho, Wo]; the argmax is recomputed with the forward's tie rule.
  for (int64_t nc = 0; nc < g.n * g.c; ++nc) {
    const T* plane = x + nc * g.h * g.w;
    const T* d_out = d_y + nc * g.ho * g.wo;
    T* d_plane = d_x + nc * g.h * g.w;
    for (int64_t oh = 0; oh < g.ho; ++oh)
      for (int64_t ow = 0; ow < g.wo; ++ow) d_plane[window_argmax(g, plane, oh, ow)] += d_out[oh * g.wo + ow];
  }
}

template void max_pool2d_forward<float>(const MaxPool2dGeometry&, const float*, float*);
template void max_pool2d_forward<double>(const MaxPool2dGeometry&, const double*, double*);
template void max_pool2d_backward<float>(const MaxPool2dGeometry&, const float*, const float*, float*);
template void max_pool2d_backward<double>(const MaxPool2dGeometry&, const double*, const double*, double*);

}  // namespace preimage::kernels::ref
