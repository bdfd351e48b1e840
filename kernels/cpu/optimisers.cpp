// CPU reference for kernels/optimisers.h. IJCV 2016 Algorithm 1; CVPR 2015 sect. 2.1; Adam (ICLR 2015) Algorithm 1.
#include <cmath>

#include "kernels/optimisers.h"

namespace preimage::kernels::ref {

template <typename T> void adagrad_rho_step(T* x, T* G, T* mu, const T* g, int64_t n, T rho, T eta0) {
  // x, G, mu, g: [n]
  for (int64_t i = 0; i < n; ++i) {
    G[i] = rho * G[i] + g[i] * g[i];
    const T eta = T(1) / (T(1) / eta0 + std::sqrt(G[i]));
    mu[i] = rho * mu[i] - eta * g[i];
    x[i] += mu[i];
  }
}

template <typename T> void momentum_step(T* x, T* mu, const T* g, int64_t n, T m, T eta) {
  for (int64_t i = 0; i < n; ++i) {
    mu[i] = m * mu[i] - eta * g[i];
    x[i] += mu[i];
  }
}

template <typename T> void adam_step(T* x, T* m, T* v, const T* g, int64_t n, const AdamParams& p, int64_t t) {
  const T b1 = p.beta1, b2 = p.beta2;
  const T c1 = T(1) - std::pow(b1, static_cast<T>(t)), c2 = T(1) - std::pow(b2, static_cast<T>(t));
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + (T(1) - b1) * g[i];
    v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
    x[i] -= T(p.lr) * (m[i] / c1) / (std::sqrt(v[i] / c2) + T(p.eps));
  }
}

#define PI_INSTANTIATE(T)                                                                 \
  template void adagrad_rho_step<T>(T*, T*, T*, const T*, int64_t, T, T);                \
  template void momentum_step<T>(T*, T*, const T*, int64_t, T, T);                       \
  template void adam_step<T>(T*, T*, T*, const T*, int64_t, const AdamParams&, int64_t);
PI_INSTANTIATE(float)
PI_INSTANTIATE(double)
#undef PI_INSTANTIATE

}  // namespace preimage::kernels::ref
