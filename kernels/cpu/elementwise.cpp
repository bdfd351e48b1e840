// CPU reference for kernels/elementwise.h. Plain loops; sums accumulate in double so float results do not depend
// on the summation order more than necessary.
#include "kernels/elementwise.h"

namespace preimage::kernels::ref {

template <typename T> void add_into(T* y, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}
template <typename T> void axpy_into(T* y, T s, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += s * x[i];
}
template <typename T> void add_forward(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
template <typename T> void mul_forward(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}
template <typename T> void mul_backward(const T* a, const T* b, const T* d_y, T* d_a, T* d_b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (d_a) d_a[i] += d_y[i] * b[i];
    if (d_b) d_b[i] += d_y[i] * a[i];
  }
}
template <typename T> void scale_forward(const T* a, T s, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = s * a[i];
}
template <typename T> T sum(const T* a, int64_t n) {
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(a[i]);
  return static_cast<T>(acc);
}

#define PI_INSTANTIATE(T)                                                       \
  template void add_into<T>(T*, const T*, int64_t);                             \
  template void axpy_into<T>(T*, T, const T*, int64_t);                         \
  template void add_forward<T>(const T*, const T*, T*, int64_t);                \
  template void mul_forward<T>(const T*, const T*, T*, int64_t);                \
  template void mul_backward<T>(const T*, const T*, const T*, T*, T*, int64_t); \
  template void scale_forward<T>(const T*, T, T*, int64_t);                     \
  template T sum<T>(const T*, int64_t);
PI_INSTANTIATE(float)
PI_INSTANTIATE(double)
#undef PI_INSTANTIATE

}  // namespace preimage::kernels::ref
