// Branch-free (leaky) ReLU over Eigen arrays (kernels/activation.h): the reference's `x > 0 ? x : slope * x`
// compiles to a compare-and-jump per element, mispredicted half the time on activations of either sign; a select
// of the same two values vectorises. Same operations as the reference, so the results are bit for bit equal
// (tests/test_activation.cpp).
#include <Eigen/Core>

#include "kernels/activation.h"

namespace preimage::kernels::simd {
namespace {
using Array = Eigen::Array<float, Eigen::Dynamic, 1>;
using MapArray = Eigen::Map<Array>;
using ConstMapArray = Eigen::Map<const Array>;
}  // namespace

void leaky_relu_forward(const float* x, float* y, int64_t n, float slope) {
  // x, y: [n]
  const ConstMapArray xa(x, n);
  MapArray(y, n) = (xa > 0.0f).select(xa, slope * xa);
}

void leaky_relu_backward(const float* x, const float* d_y, float* d_x, int64_t n, float slope) {
  // x, d_y, d_x: [n]; d_x accumulates
  const ConstMapArray dy(d_y, n);
  MapArray(d_x, n) += (ConstMapArray(x, n) > 0.0f).select(dy, slope * dy);
}

}  // namespace preimage::kernels::simd
