// CPU reference for kernels/losses.h: IJCV 2016 eqs. 2-3 (normalised, masked Euclidean loss) and eq. 4 (inner
// product loss). Sums in double.
#include "kernels/losses.h"

#include "engine/error.h"

namespace preimage::kernels::ref {

namespace {
// ||phi0_n . M_n||^2 for sample b; phi0, mask: [d]
template <typename T> double masked_energy(const T* phi0, const T* mask, int64_t d, int64_t b) {
  double e = 0;
  for (int64_t i = 0; i < d; ++i) {
    const double m = mask ? static_cast<double>(mask[i]) : 1.0;
    const double v = phi0[i] * m;
    e += v * v;
  }
  PI_CHECK(e > 0, "normalised_l2: the target phi0", mask ? " times the mask" : "", " is all zeros for sample ", b,
           ", so ||phi0 . M||^2 = 0 and the normalised loss is undefined; use a non-zero target (or mask), or the "
           "unnormalised squared distance");
  return e;
}
}  // namespace

void check_normalised_l2_target(const float* phi0, const float* mask, int64_t n, int64_t d) {
  for (int64_t b = 0; b < n; ++b) masked_energy(phi0 + b * d, mask ? mask + b * d : nullptr, d, b);
}

template <typename T> T normalised_l2_forward(const T* phi, const T* phi0, const T* mask, int64_t n, int64_t d) {
  double total = 0;
  for (int64_t b = 0; b < n; ++b) {
    const T* p = phi + b * d;                        // [d]
    const T* p0 = phi0 + b * d;                      // [d]
    const T* m = mask ? mask + b * d : nullptr;      // [d]
    const double energy = masked_energy(p0, m, d, b);
    double err = 0;
    for (int64_t i = 0; i < d; ++i) {
      const double r = (static_cast<double>(p[i]) - p0[i]) * (m ? static_cast<double>(m[i]) : 1.0);
      err += r * r;
    }
    total += err / energy;
  }
  return static_cast<T>(total);
}

template <typename T>
void normalised_l2_backward(const T* phi, const T* phi0, const T* mask, T d_y, T* d_phi, int64_t n, int64_t d) {
  for (int64_t b = 0; b < n; ++b) {
    const T* p = phi + b * d;                    // [d]
    const T* p0 = phi0 + b * d;                  // [d]
    const T* m = mask ? mask + b * d : nullptr;  // [d]
    T* g = d_phi + b * d;                        // [d]
    const double scale = 2.0 * static_cast<double>(d_y) / masked_energy(p0, m, d, b);
    for (int64_t i = 0; i < d; ++i) {
      const double mi = m ? static_cast<double>(m[i]) : 1.0;
      g[i] += static_cast<T>(scale * (static_cast<double>(p[i]) - p0[i]) * mi * mi);
    }
  }
}

template <typename T> T inner_product_forward(const T* phi, const T* phi0, int64_t count, T Z) {
  double dot = 0;
  for (int64_t i = 0; i < count; ++i) dot += static_cast<double>(phi[i]) * phi0[i];
  return static_cast<T>(-dot / static_cast<double>(Z));
}

template <typename T> void inner_product_backward(const T* phi0, T d_y, T* d_phi, int64_t count, T Z) {
  const double scale = -static_cast<double>(d_y) / static_cast<double>(Z);
  for (int64_t i = 0; i < count; ++i) d_phi[i] += static_cast<T>(scale * phi0[i]);
}

#define PI_INSTANTIATE(T)                                                                     \
  template T normalised_l2_forward<T>(const T*, const T*, const T*, int64_t, int64_t);        \
  template void normalised_l2_backward<T>(const T*, const T*, const T*, T, T*, int64_t, int64_t); \
  template T inner_product_forward<T>(const T*, const T*, int64_t, T);                        \
  template void inner_product_backward<T>(const T*, T, T*, int64_t, T);
PI_INSTANTIATE(float)
PI_INSTANTIATE(double)
#undef PI_INSTANTIATE

}  // namespace preimage::kernels::ref
