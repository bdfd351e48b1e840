// CPU reference for kernels/lrn.h (Caffe LRNLayer ACROSS_CHANNELS; Krizhevsky et al. 2012 sect. 3.3).
#include <cmath>
#include <vector>

#include "kernels/lrn.h"

namespace preimage::kernels::ref {
namespace {
// Channels c' feeding output channel c are [c - before, c + after]; Caffe's pre_pad = (size - 1) / 2.
struct Window {
  int64_t before, after;
};
Window lrn_window(int size) { return Window{(size - 1) / 2, size - 1 - (size - 1) / 2}; }

// s[c] = k + (alpha / size) * sum_{c' in window(c)} x[c']^2 for one pixel; x strided by hw.
template <typename T>
void lrn_scale(int64_t c, int64_t hw, const LrnParams& p, const T* x /* [C, HW] at one pixel */, T* s /* [C] */) {
  const Window w = lrn_window(p.size);
  const T a = T(p.alpha) / T(p.size);
  for (int64_t ch = 0; ch < c; ++ch) {
    T sum = 0;
    const int64_t lo = ch - w.before < 0 ? 0 : ch - w.before;
    const int64_t hi = ch + w.after > c - 1 ? c - 1 : ch + w.after;
    for (int64_t q = lo; q <= hi; ++q) sum += x[q * hw] * x[q * hw];
    s[ch] = T(p.k) + a * sum;
  }
}
}  // namespace

template <typename T>
void lrn_forward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const T* x, T* y) {
  // x, y [N, C, HW]: y = x * s^-beta per pixel
  std::vector<T> s(static_cast<size_t>(c));
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t i = 0; i < hw; ++i) {
      const T* xp = x + b * c * hw + i;
      T* yp = y + b * c * hw + i;
      lrn_scale(c, hw, p, xp, s.data());
      for (int64_t ch = 0; ch < c; ++ch) yp[ch * hw] = xp[ch * hw] * std::pow(s[ch], -T(p.beta));
    }
  }
}

template <typename T>
void lrn_backward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const T* x, const T* d_y, T* d_x) {
  // x, d_y, d_x [N, C, HW]. With y_i = x_i s_i^-beta and s_i = k + a sum_{j in W(i)} x_j^2 (a = alpha/size):
  //   dL/dx_j = d_y_j s_j^-beta - 2 a beta x_j sum_{i : j in W(i)} d_y_i x_i s_i^(-beta-1)
  // and j in W(i) = [i - before, i + after] <=> i in [j - after, j + before].
  const Window w = lrn_window(p.size);
  const T a = T(p.alpha) / T(p.size), beta = T(p.beta);
  std::vector<T> s(static_cast<size_t>(c)), r(static_cast<size_t>(c));  // r_i = d_y_i x_i s_i^(-beta-1)
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t i = 0; i < hw; ++i) {
      const T* xp = x + b * c * hw + i;
      const T* gp = d_y + b * c * hw + i;
      T* dp = d_x + b * c * hw + i;
      lrn_scale(c, hw, p, xp, s.data());
      for (int64_t ch = 0; ch < c; ++ch) r[ch] = gp[ch * hw] * xp[ch * hw] * std::pow(s[ch], -beta - T(1));
      for (int64_t j = 0; j < c; ++j) {
        T acc = 0;
        const int64_t lo = j - w.after < 0 ? 0 : j - w.after;
        const int64_t hi = j + w.before > c - 1 ? c - 1 : j + w.before;
        for (int64_t q = lo; q <= hi; ++q) acc += r[q];
        dp[j * hw] += gp[j * hw] * std::pow(s[j], -beta) - T(2) * a * beta * xp[j * hw] * acc;
      }
    }
  }
}

template void lrn_forward<float>(int64_t, int64_t, int64_t, const LrnParams&, const float*, float*);
template void lrn_forward<double>(int64_t, int64_t, int64_t, const LrnParams&, const double*, double*);
template void lrn_backward<float>(int64_t, int64_t, int64_t, const LrnParams&, const float*, const float*, float*);
template void lrn_backward<double>(int64_t, int64_t, int64_t, const LrnParams&, const double*, const double*,
                                   double*);

}  // namespace preimage::kernels::ref
