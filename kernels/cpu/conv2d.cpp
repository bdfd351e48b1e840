// CPU reference for kernels/conv2d.h: direct loops over the definition (PyTorch torch.nn.Conv2d docs; Caffe's
// convolution with asymmetric padding as MatConvNet's vl_nnconv). This is the spec the im2col path is tested against.
#include "kernels/conv2d.h"

namespace preimage::kernels::ref {

template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  // x: [N, C, H, W]  w: [K, Cg, kh, kw]  b: [K] or null  y: [N, K, Ho, Wo]
  const int64_t cg = g.c / g.p.groups, kg = g.k / g.p.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t k = 0; k < g.k; ++k) {
      const int64_t c0 = (k / kg) * cg;  // first input channel of k's group
      for (int64_t i = 0; i < g.ho; ++i)
        for (int64_t j = 0; j < g.wo; ++j) {
          T acc = b ? b[k] : T(0);
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t u = 0; u < g.kh; ++u) {
              const int64_t yy = i * g.p.stride_h - g.p.pad_top + u;
              if (yy < 0 || yy >= g.h) continue;  // zero padding
              for (int64_t v = 0; v < g.kw; ++v) {
                const int64_t xx = j * g.p.stride_w - g.p.pad_left + v;
                if (xx < 0 || xx >= g.w) continue;
                acc += w[((k * cg + c) * g.kh + u) * g.kw + v] * x[((n * g.c + c0 + c) * g.h + yy) * g.w + xx];
              }
            }
          y[((n * g.k + k) * g.ho + i) * g.wo + j] = acc;
        }
    }
}

template <typename T>
void conv2d_backward(const Conv2dGeometry& g, const T* x, const T* w, const T* d_y, T* d_x, T* d_w, T* d_b) {
  // x, d_x: [N, C, H, W]  w, d_w: [K, Cg, kh, kw]  d_y: [N, K, Ho, Wo]  d_b: [K]; d_* accumulate, null = not wanted
  const int64_t cg = g.c / g.p.groups, kg = g.k / g.p.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t k = 0; k < g.k; ++k) {
      const int64_t c0 = (k / kg) * cg;
      for (int64_t i = 0; i < g.ho; ++i)
        for (int64_t j = 0; j < g.wo; ++j) {
          const T dy = d_y[((n * g.k + k) * g.ho + i) * g.wo + j];
          if (d_b) d_b[k] += dy;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t u = 0; u < g.kh; ++u) {
              const int64_t yy = i * g.p.stride_h - g.p.pad_top + u;
              if (yy < 0 || yy >= g.h) continue;
              for (int64_t v = 0; v < g.kw; ++v) {
                const int64_t xx = j * g.p.stride_w - g.p.pad_left + v;
                if (xx < 0 || xx >= g.w) continue;
                const int64_t xi = ((n * g.c + c0 + c) * g.h + yy) * g.w + xx;
                const int64_t wi = ((k * cg + c) * g.kh + u) * g.kw + v;
                if (d_x) d_x[xi] += w[wi] * dy;
                if (d_w) d_w[wi] += x[xi] * dy;
              }
            }
        }
    }
}

template void conv2d_forward<float>(const Conv2dGeometry&, const float*, const float*, const float*, float*);
template void conv2d_forward<double>(const Conv2dGeometry&, const double*, const double*, const double*, double*);
template void conv2d_backward<float>(const Conv2dGeometry&, const float*, const float*, const float*, float*, float*,
                                     float*);
template void conv2d_backward<double>(const Conv2dGeometry&, const double*, const double*, const double*, double*,
                                      double*, double*);

}  // namespace preimage::kernels::ref
