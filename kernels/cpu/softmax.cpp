// CPU reference for kernels/softmax.h (PyTorch F.softmax(x, dim=1), max-subtracted).
#include <cmath>

#include "kernels/softmax.h"

namespace preimage::kernels::ref {

template <typename T> void softmax_forward(int64_t n, int64_t c, int64_t inner, const T* x, T* y) {
  // x, y [N, C, inner]; one distribution per (n, i), its C entries strided by inner
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* xp = x + b * c * inner + i;
      T* yp = y + b * c * inner + i;
      T m = xp[0];
      for (int64_t ch = 1; ch < c; ++ch) m = xp[ch * inner] > m ? xp[ch * inner] : m;
      T total = 0;
      for (int64_t ch = 0; ch < c; ++ch) {
        yp[ch * inner] = std::exp(xp[ch * inner] - m);
        total += yp[ch * inner];
      }
      for (int64_t ch = 0; ch < c; ++ch) yp[ch * inner] /= total;
    }
  }
}

template <typename T>
void softmax_backward(int64_t n, int64_t c, int64_t inner, const T* y, const T* d_y, T* d_x) {
  // y, d_y, d_x [N, C, inner]; Jacobian diag(y) - y y^T applied to d_y
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = b * c * inner + i;
      T dot = 0;
      for (int64_t ch = 0; ch < c; ++ch) dot += d_y[base + ch * inner] * y[base + ch * inner];
      for (int64_t ch = 0; ch < c; ++ch)
        d_x[base + ch * inner] += y[base + ch * inner] * (d_y[base + ch * inner] - dot);
    }
  }
}

template void softmax_forward<float>(int64_t, int64_t, int64_t, const float*, float*);
template void softmax_forward<double>(int64_t, int64_t, int64_t, const double*, double*);
template void softmax_backward<float>(int64_t, int64_t, int64_t, const float*, const float*, float*);
template void softmax_backward<double>(int64_t, int64_t, int64_t, const double*, const double*, double*);

}  // namespace preimage::kernels::ref
