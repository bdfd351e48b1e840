// CPU reference for kernels/regularisers.h: CVPR 2015 sect. 3 (alpha-norm of the mean-subtracted image), IJCV 2016
// eqs. 5-6 and sect. 3.2.2 (isotropic N_alpha, B+ ball, TV^beta). Everything is evaluated in double, so the float and
// double instantiations differ only by the final rounding.
#include "kernels/regularisers.h"

#include <cmath>

namespace preimage::kernels::ref {

namespace {
// z^e for z >= 0. The exponents used in practice (alpha = 6, beta = 2, and the derivatives' alpha - 1, alpha/2 - 1,
// beta/2 - 1) are integers or half-integers: those take a few multiplications (and one sqrt), which is exact to
// rounding and far cheaper than std::pow, the dominant cost of an inversion iteration otherwise.
double power(double z, double e) {
  const double twice = 2 * e;
  if (twice == std::floor(twice) && std::abs(twice) <= 32) {
    const int k = static_cast<int>(twice);
    const int whole = (k >= 0 ? k : -k) / 2;
    double r = 1;
    for (int i = 0; i < whole; ++i) r *= z;
    if (k % 2 != 0) r *= std::sqrt(z);
    return k >= 0 ? r : 1 / r;
  }
  return std::pow(z, e);
}

// d/dd |d|^alpha, with 0 at d = 0 (exact for alpha > 1; a convention at the kink for alpha <= 1).
double abs_pow_derivative(double d, double alpha) {
  if (d == 0) return 0;
  const double g = alpha * power(std::abs(d), alpha - 1);
  return d > 0 ? g : -g;
}
// For a term z^(p/2) with z = |a|^2 / scale^2: d/da = p z^(p/2 - 1) a / scale^2. Returns p z^(p/2 - 1), or 0 at
// z = 0, where a = 0 too (exact for p > 1, where the true gradient is 0; a convention at the kink for p <= 1).
double half_pow_weight(double z, double p) { return z > 0 ? p * power(z, p / 2 - 1) : 0.0; }
}  // namespace

template <typename T> T alpha_norm_forward(const T* x, int64_t nc, int64_t hw, T alpha) {
  double total = 0;
  for (int64_t p = 0; p < nc; ++p) {
    const T* plane = x + p * hw;  // [hw]
    double mean = 0;
    for (int64_t i = 0; i < hw; ++i) mean += plane[i];
    mean /= static_cast<double>(hw);
    for (int64_t i = 0; i < hw; ++i) total += power(std::abs(plane[i] - mean), static_cast<double>(alpha));
  }
  return static_cast<T>(total);
}

template <typename T> void alpha_norm_backward(const T* x, T d_y, T* d_x, int64_t nc, int64_t hw, T alpha) {
  for (int64_t p = 0; p < nc; ++p) {
    const T* plane = x + p * hw;  // [hw]
    T* d_plane = d_x + p * hw;    // [hw]
    double mean = 0;
    for (int64_t i = 0; i < hw; ++i) mean += plane[i];
    mean /= static_cast<double>(hw);
    // R = sum_i f(x_i - m): dR/dx_j = f'(d_j) - (1/hw) sum_i f'(d_i), since dm/dx_j = 1/hw.
    double g_mean = 0;
    for (int64_t i = 0; i < hw; ++i) g_mean += abs_pow_derivative(plane[i] - mean, alpha);
    g_mean /= static_cast<double>(hw);
    for (int64_t i = 0; i < hw; ++i)
      d_plane[i] += static_cast<T>(d_y * (abs_pow_derivative(plane[i] - mean, alpha) - g_mean));
  }
}

template <typename T>
T isotropic_alpha_norm_forward(const T* x, int64_t n, int64_t c, int64_t h, int64_t w, T alpha, T B) {
  const int64_t hw = h * w;
  const double inv_b2 = 1.0 / (static_cast<double>(B) * B);
  double total = 0;
  for (int64_t b = 0; b < n; ++b) {
    const T* img = x + b * c * hw;  // [c, hw]
    for (int64_t i = 0; i < hw; ++i) {
      double s = 0;
      for (int64_t k = 0; k < c; ++k) s += static_cast<double>(img[k * hw + i]) * img[k * hw + i];
      total += power(s * inv_b2, alpha / 2.0);
    }
  }
  return static_cast<T>(total / static_cast<double>(hw));
}

template <typename T>
void isotropic_alpha_norm_backward(const T* x, T d_y, T* d_x, int64_t n, int64_t c, int64_t h, int64_t w, T alpha,
                                   T B) {
  const int64_t hw = h * w;
  const double inv_b2 = 1.0 / (static_cast<double>(B) * B);
  const double scale = static_cast<double>(d_y) * inv_b2 / static_cast<double>(hw);
  for (int64_t b = 0; b < n; ++b) {
    const T* img = x + b * c * hw;  // [c, hw]
    T* d_img = d_x + b * c * hw;    // [c, hw]
    for (int64_t i = 0; i < hw; ++i) {
      double s = 0;
      for (int64_t k = 0; k < c; ++k) s += static_cast<double>(img[k * hw + i]) * img[k * hw + i];
      // d/dx_k (s/B^2)^(alpha/2) = alpha (s/B^2)^(alpha/2 - 1) x_k / B^2
      const double wgt = scale * half_pow_weight(s * inv_b2, alpha);
      for (int64_t k = 0; k < c; ++k) d_img[k * hw + i] += static_cast<T>(wgt * img[k * hw + i]);
    }
  }
}

template <typename T> T tv_beta_forward(const T* x, int64_t nc, int64_t h, int64_t w, T beta, T V) {
  const double inv_v2 = 1.0 / (static_cast<double>(V) * V);
  double total = 0;
  for (int64_t p = 0; p < nc; ++p) {
    const T* plane = x + p * h * w;  // [h, w]
    for (int64_t v = 0; v < h; ++v)
      for (int64_t u = 0; u < w; ++u) {
        const double here = plane[v * w + u];
        const double du = u + 1 < w ? plane[v * w + u + 1] - here : 0.0;    // replicated border: 0
        const double dv = v + 1 < h ? plane[(v + 1) * w + u] - here : 0.0;
        total += power((du * du + dv * dv) * inv_v2, beta / 2.0);
      }
  }
  return static_cast<T>(total / static_cast<double>(h * w));
}

template <typename T> void tv_beta_backward(const T* x, T d_y, T* d_x, int64_t nc, int64_t h, int64_t w, T beta, T V) {
  const double inv_v2 = 1.0 / (static_cast<double>(V) * V);
  const double scale = static_cast<double>(d_y) * inv_v2 / static_cast<double>(h * w);
  for (int64_t p = 0; p < nc; ++p) {
    const T* plane = x + p * h * w;  // [h, w]
    T* d_plane = d_x + p * h * w;    // [h, w]
    for (int64_t v = 0; v < h; ++v)
      for (int64_t u = 0; u < w; ++u) {
        const double here = plane[v * w + u];
        const double du = u + 1 < w ? plane[v * w + u + 1] - here : 0.0;
        const double dv = v + 1 < h ? plane[(v + 1) * w + u] - here : 0.0;
        // d/d(du) (q/V^2)^(beta/2) = beta (q/V^2)^(beta/2 - 1) du / V^2, and likewise for dv.
        const double wgt = scale * half_pow_weight((du * du + dv * dv) * inv_v2, beta);
        if (wgt == 0) continue;
        if (u + 1 < w) d_plane[v * w + u + 1] += static_cast<T>(wgt * du);
        if (v + 1 < h) d_plane[(v + 1) * w + u] += static_cast<T>(wgt * dv);
        d_plane[v * w + u] -= static_cast<T>(wgt * (du + dv));
      }
  }
}

template <typename T> void project_ball(T* x, int64_t n, int64_t c, int64_t hw, T radius) {
  for (int64_t b = 0; b < n; ++b) {
    T* img = x + b * c * hw;  // [c, hw]
    for (int64_t i = 0; i < hw; ++i) {
      double s = 0;
      for (int64_t k = 0; k < c; ++k) s += static_cast<double>(img[k * hw + i]) * img[k * hw + i];
      const double r = std::sqrt(s);
      if (r <= radius) continue;
      const double f = static_cast<double>(radius) / r;
      for (int64_t k = 0; k < c; ++k) img[k * hw + i] = static_cast<T>(img[k * hw + i] * f);
    }
  }
}

#define PI_INSTANTIATE(T)                                                                                  \
  template T alpha_norm_forward<T>(const T*, int64_t, int64_t, T);                                         \
  template void alpha_norm_backward<T>(const T*, T, T*, int64_t, int64_t, T);                              \
  template T isotropic_alpha_norm_forward<T>(const T*, int64_t, int64_t, int64_t, int64_t, T, T);          \
  template void isotropic_alpha_norm_backward<T>(const T*, T, T*, int64_t, int64_t, int64_t, int64_t, T, T); \
  template T tv_beta_forward<T>(const T*, int64_t, int64_t, int64_t, T, T);                                \
  template void tv_beta_backward<T>(const T*, T, T*, int64_t, int64_t, int64_t, T, T);                     \
  template void project_ball<T>(T*, int64_t, int64_t, int64_t, T);
PI_INSTANTIATE(float)
PI_INSTANTIATE(double)
#undef PI_INSTANTIATE

}  // namespace preimage::kernels::ref
