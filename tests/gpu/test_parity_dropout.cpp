// [gpu] Device parity of kernels/cuda/dropout.cu against the CPU reference (kernels/cpu/dropout.cpp). The mask comes
// from the same Philox counters on both devices (engine/rng.h), and a kept value is x * (1/(1-p)) with the same float
// factor, so forward and backward must match EXACTLY (atol = rtol = 0); the mask itself is checked by dropping
// out a tensor of ones, which gives the reference's dropout_mask.
#include <catch2/catch.hpp>

#include <vector>

#include "kernels/dropout.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

TEST_CASE("cuda dropout draws the CPU's mask and matches forward and backward", "[gpu][parity][dropout]") {
  const std::vector<Shape> shapes = {Shape{1}, Shape{7}, Shape{2, 3, 5, 7}, Shape{3, 1, 17, 33}};
  for (float p : {0.0f, 0.3f, 0.5f, 0.9f, 1.0f}) {
    for (uint64_t seed : {uint64_t(1), uint64_t(0x9e3779b97f4a7c15ull)}) {
      for (const Shape& s : shapes) {
        INFO("p " << p << ", seed " << seed << ", shape " << s.str());
        std::vector<float> mask(static_cast<size_t>(s.numel()));
        kernels::ref::dropout_mask(mask.data(), s.numel(), p, seed);
        Tensor ones = Tensor::full(s, 1.0f, Device::cuda), dmask = Tensor::empty(s, Device::cuda);
        kernels::dropout_forward(ones, dmask, p, seed);
        require_close(dmask.to_vector(), mask, 0, 0);

        Tensor x = random_tensor(s, 81), d_y = random_tensor(s, 82), d_x = random_tensor(s, 83);
        Tensor dx = x.to(Device::cuda), dd_y = d_y.to(Device::cuda), dd_x = d_x.to(Device::cuda);
        Tensor y = Tensor::empty(s), dy = Tensor::empty(s, Device::cuda);
        kernels::dropout_forward(x, y, p, seed);
        kernels::dropout_forward(dx, dy, p, seed);
        require_close(dy.to_vector(), y.to_vector(), 0, 0);

        kernels::dropout_backward(d_y, d_x, p, seed);
        kernels::dropout_backward(dd_y, dd_x, p, seed);
        require_close(dd_x.to_vector(), d_x.to_vector(), 0, 0);
      }
    }
  }
}
