// CPU reference for kernels/dropout.h (inverted dropout as PyTorch nn.Dropout; mask from Philox4x32-10 by index).
#include "kernels/dropout.h"

#include "engine/rng.h"

namespace preimage::kernels::ref {
namespace {
// The survivor factor 1 / (1 - p). p = 1 keeps nothing (u < 1 always), so its factor is never applied; 0 avoids inf.
template <typename T> T keep_scale(float p) { return p < 1.0f ? T(1) / (T(1) - T(p)) : T(0); }
}  // namespace

template <typename T> void dropout_mask(T* mask, int64_t n, float p, uint64_t seed) {
  // mask[n]
  const T scale = keep_scale<T>(p);
  for (int64_t i = 0; i < n; ++i)
    mask[i] = (p == 0.0f || philox_uniform(seed, static_cast<uint64_t>(i)) >= p) ? scale : T(0);
}

template <typename T> void dropout_forward(const T* x, T* y, int64_t n, float p, uint64_t seed) {
  // x, y [n]
  if (p == 0.0f) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i];
    return;
  }
  const T scale = keep_scale<T>(p);
  for (int64_t i = 0; i < n; ++i) y[i] = philox_uniform(seed, static_cast<uint64_t>(i)) >= p ? x[i] * scale : T(0);
}

template <typename T> void dropout_backward(const T* d_y, T* d_x, int64_t n, float p, uint64_t seed) {
  // d_y, d_x [n]
  if (p == 0.0f) {
    for (int64_t i = 0; i < n; ++i) d_x[i] += d_y[i];
    return;
  }
  const T scale = keep_scale<T>(p);
  for (int64_t i = 0; i < n; ++i)
    if (philox_uniform(seed, static_cast<uint64_t>(i)) >= p) d_x[i] += d_y[i] * scale;
}

template void dropout_mask<float>(float*, int64_t, float, uint64_t);
template void dropout_mask<double>(double*, int64_t, float, uint64_t);
template void dropout_forward<float>(const float*, float*, int64_t, float, uint64_t);
template void dropout_forward<double>(const double*, double*, int64_t, float, uint64_t);
template void dropout_backward<float>(const float*, float*, int64_t, float, uint64_t);
template void dropout_backward<double>(const double*, double*, int64_t, float, uint64_t);

}  // namespace preimage::kernels::ref
