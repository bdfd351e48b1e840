// [gpu] Device parity of kernels/cuda/activation.cu against the CPU reference (kernels/cpu/activation.cpp).
// Forward is one comparison and at most one multiply: exact. Backward accumulates d_x += slope d_y, which nvcc may
// fuse into one FMA: within about one float ulp, hence atol = rtol = 1e-6 on O(1) data. Inputs include exact zeros
// (the kink: derivative taken from the slope branch on both devices).
#include <catch2/catch.hpp>

#include "kernels/activation.h"
#include "parity.h"

using namespace preimage;
using test::parity_shapes;
using test::random_tensor;
using test::require_close;

namespace {
Tensor with_zeros(const Shape& s, uint64_t seed) {
  Tensor x = random_tensor(s, seed);
  for (int64_t i = 0; i < x.numel(); i += 5) x.data()[i] = 0.0f;
  return x;
}
}  // namespace

TEST_CASE("cuda leaky relu forward and backward match the CPU reference", "[gpu][parity][activation]") {
  for (float slope : {0.0f, 0.2f}) {
    for (const Shape& s : parity_shapes()) {
      INFO("shape " << s.str() << ", slope " << slope);
      Tensor x = with_zeros(s, 21), g = random_tensor(s, 22), d_x = random_tensor(s, 23);
      Tensor dx = x.to(Device::cuda), dg = g.to(Device::cuda), dd_x = d_x.to(Device::cuda);
      Tensor y = Tensor::empty(s), dy = Tensor::empty(s, Device::cuda);

      kernels::leaky_relu_forward(x, y, slope);
      kernels::leaky_relu_forward(dx, dy, slope);
      require_close(dy.to_vector(), y.to_vector(), 0, 0);

      kernels::leaky_relu_backward(x, g, d_x, slope);
      kernels::leaky_relu_backward(dx, dg, dd_x, slope);
      require_close(dd_x.to_vector(), d_x.to_vector(), 1e-6, 1e-6);
    }
  }
}

TEST_CASE("cuda relu is leaky relu with slope 0", "[gpu][parity][activation]") {
  const Shape s{2, 3, 5, 7};
  Tensor x = with_zeros(s, 31);
  Tensor y = Tensor::empty(s), dy = Tensor::empty(s, Device::cuda);
  Tensor dx = x.to(Device::cuda);
  kernels::relu_forward(x, y);
  kernels::relu_forward(dx, dy);
  require_close(dy.to_vector(), y.to_vector(), 0, 0);
}
