// CPU reference for kernels/conv_transpose2d.h: direct scatter loops over the definition (PyTorch
// torch.nn.ConvTranspose2d docs; the "up-convolution" of Dosovitskiy & Brox, seed 002 sect. 3). Each input pixel
// stamps its weighted kernel onto the output at stride spacing; padding crops the stamped result.
#include "kernels/conv_transpose2d.h"

namespace preimage::kernels::ref {

template <typename T>
void conv_transpose2d_forward(const ConvTranspose2dGeometry& g, const T* x, const T* w, const T* b, T* y) {
  // x: [N, C, H, W]  w: [C, Kg, kh, kw]  b: [K] or null  y: [N, K, Ho, Wo]
  const int64_t cg = g.c / g.p.groups, kg = g.k / g.p.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t k = 0; k < g.k; ++k)
      for (int64_t o = 0; o < g.ho * g.wo; ++o) y[(n * g.k + k) * g.ho * g.wo + o] = b ? b[k] : T(0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c) {
      const int64_t k0 = (c / cg) * kg;  // first output channel of c's group
      for (int64_t i = 0; i < g.h; ++i)
        for (int64_t j = 0; j < g.w; ++j) {
          const T xv = x[((n * g.c + c) * g.h + i) * g.w + j];
          for (int64_t k = 0; k < kg; ++k)
            for (int64_t u = 0; u < g.kh; ++u) {
              const int64_t yy = i * g.p.stride_h - g.p.pad_top + u;
              if (yy < 0 || yy >= g.ho) continue;  // cropped by the padding
              for (int64_t v = 0; v < g.kw; ++v) {
                const int64_t xx = j * g.p.stride_w - g.p.pad_left + v;
                if (xx < 0 || xx >= g.wo) continue;
                y[((n * g.k + k0 + k) * g.ho + yy) * g.wo + xx] += xv * w[((c * kg + k) * g.kh + u) * g.kw + v];
              }
            }
        }
    }
}

template <typename T>
void conv_transpose2d_backward(const ConvTranspose2dGeometry& g, const T* x, const T* w, const T* d_y, T* d_x,
                               T* d_w, T* d_b) {
  // x, d_x: [N, C, H, W]  w, d_w: [C, Kg, kh, kw]  d_y: [N, K, Ho, Wo]  d_b: [K]; d_* accumulate, null = not wanted
  const int64_t cg = g.c / g.p.groups, kg = g.k / g.p.groups;
  if (d_b)
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t k = 0; k < g.k; ++k)
        for (int64_t o = 0; o < g.ho * g.wo; ++o) d_b[k] += d_y[(n * g.k + k) * g.ho * g.wo + o];
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c) {
      const int64_t k0 = (c / cg) * kg;
      for (int64_t i = 0; i < g.h; ++i)
        for (int64_t j = 0; j < g.w; ++j) {
          const int64_t xi = ((n * g.c + c) * g.h + i) * g.w + j;
          T dx = T(0);
          for (int64_t k = 0; k < kg; ++k)
            for (int64_t u = 0; u < g.kh; ++u) {
              const int64_t yy = i * g.p.stride_h - g.p.pad_top + u;
              if (yy < 0 || yy >= g.ho) continue;
              for (int64_t v = 0; v < g.kw; ++v) {
                const int64_t xx = j * g.p.stride_w - g.p.pad_left + v;
                if (xx < 0 || xx >= g.wo) continue;
                const T dy = d_y[((n * g.k + k0 + k) * g.ho + yy) * g.wo + xx];
                const int64_t wi = ((c * kg + k) * g.kh + u) * g.kw + v;
                dx += w[wi] * dy;
                if (d_w) d_w[wi] += x[xi] * dy;
              }
            }
          if (d_x) d_x[xi] += dx;
        }
    }
}

template void conv_transpose2d_forward<float>(const ConvTranspose2dGeometry&, const float*, const float*,
                                              const float*, float*);
template void conv_transpose2d_forward<double>(const ConvTranspose2dGeometry&, const double*, const double*,
                                               const double*, double*);
template void conv_transpose2d_backward<float>(const ConvTranspose2dGeometry&, const float*, const float*,
                                               const float*, float*, float*, float*);
template void conv_transpose2d_backward<double>(const ConvTranspose2dGeometry&, const double*, const double*,
                                                const double*, double*, double*, double*);

}  // namespace preimage::kernels::ref
