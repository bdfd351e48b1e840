#pragma once
// Optimiser updates, elementwise over flat parameter buffers of n floats.
//   adagrad_rho (IJCV Algorithm 1, lines 5-7):  G = rho G + g^2;  eta = 1 / (1/eta0 + sqrt(G));  mu = rho mu - eta g;
//                                             x = x + mu   (the B+ projection, line 8, is kernels/regularisers.h)
//   momentum (CVPR sect. 2.1):                mu = m mu - eta g;  x = x + mu
//   adam (Kingma & Ba; seed 002 uses beta1 .9, beta2 .999): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//                                             x = x - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

struct AdamParams {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
};

namespace ref {
template <typename T> void adagrad_rho_step(T* x, T* G, T* mu, const T* g, int64_t n, T rho, T eta0);
template <typename T> void momentum_step(T* x, T* mu, const T* g, int64_t n, T m, T eta);
template <typename T> void adam_step(T* x, T* m, T* v, const T* g, int64_t n, const AdamParams& p, int64_t t);
}  // namespace ref

// Launchers: all views of the same shape and device; state buffers start zeroed. t counts from 1.
void adagrad_rho_step(const View& x, const View& G, const View& mu, const View& g, float rho, float eta0);
void momentum_step(const View& x, const View& mu, const View& g, float m, float eta);
void adam_step(const View& x, const View& m, const View& v, const View& g, const AdamParams& p, int64_t t);

}  // namespace preimage::kernels
