// CPU reference for kernels/linear.h (PyTorch torch.nn.functional.linear: y = x w^T + b).
#include "kernels/linear.h"

namespace preimage::kernels::ref {

template <typename T>
void linear_forward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* b, T* y) {
  // x: [N, I]  w: [O, I]  b: [O] or null  y: [N, O]
  for (int64_t s = 0; s < n; ++s)
    for (int64_t o = 0; o < out; ++o) {
      T acc = b ? b[o] : T(0);
      for (int64_t i = 0; i < in; ++i) acc += x[s * in + i] * w[o * in + i];
      y[s * out + o] = acc;
    }
}

template <typename T>
void linear_backward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* d_y, T* d_x, T* d_w,
                     T* d_b) {
  // x, d_x: [N, I]  w, d_w: [O, I]  d_y: [N, O]  d_b: [O]; d_* accumulate, null = not wanted
  for (int64_t s = 0; s < n; ++s)
    for (int64_t o = 0; o < out; ++o) {
      const T dy = d_y[s * out + o];
      if (d_b) d_b[o] += dy;
      for (int64_t i = 0; i < in; ++i) {
        if (d_x) d_x[s * in + i] += w[o * in + i] * dy;
        if (d_w) d_w[o * in + i] += x[s * in + i] * dy;
      }
    }
}

template void linear_forward<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*, float*);
template void linear_forward<double>(int64_t, int64_t, int64_t, const double*, const double*, const double*,
                                     double*);
template void linear_backward<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*, float*,
                                     float*, float*);
template void linear_backward<double>(int64_t, int64_t, int64_t, const double*, const double*, const double*,
                                      double*, double*, double*);

}  // namespace preimage::kernels::ref
