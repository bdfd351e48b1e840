// CPU reference for kernels/activation.h (PyTorch nn.ReLU / nn.LeakyReLU semantics; derivative 0 at x = 0).
#include "kernels/activation.h"

namespace preimage::kernels::ref {

template <typename T> void leaky_relu_forward(const T* x, T* y, int64_t n, T slope) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : slope * x[i];
}

template <typename T> void leaky_relu_backward(const T* x, const T* d_y, T* d_x, int64_t n, T slope) {
  for (int64_t i = 0; i < n; ++i) d_x[i] += x[i] > T(0) ? d_y[i] : slope * d_y[i];
}

template void leaky_relu_forward<float>(const float*, float*, int64_t, float);
template void leaky_relu_forward<double>(const double*, double*, int64_t, double);
template void leaky_relu_backward<float>(const float*, const float*, float*, int64_t, float);
template void leaky_relu_backward<double>(const double*, const double*, double*, int64_t, double);

}  // namespace preimage::kernels::ref
