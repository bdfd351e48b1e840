// [gpu] Device parity of the crop in kernels/cuda/shape_ops.cu against the CPU reference (kernels/cpu/shape_ops.cpp):
// copies and single float additions, so exact (atol = rtol = 0).
#include <catch2/catch.hpp>

#include "kernels/shape_ops.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

TEST_CASE("cuda crop forward and backward equal the CPU reference", "[gpu][parity][shape_ops]") {
  struct Case {
    Shape x;
    int64_t top, left, h, w;
  };
  const std::vector<Case> cases = {
      {Shape{1, 1, 1, 1}, 0, 0, 1, 1},       {Shape{2, 3, 5, 7}, 1, 2, 3, 4},   {Shape{2, 3, 5, 7}, 0, 0, 5, 7},
      {Shape{3, 1, 17, 33}, 16, 0, 1, 33},   {Shape{1, 64, 33, 35}, 3, 5, 29, 27},
  };
  for (const Case& c : cases) {
    INFO("x " << c.x.str() << ", window " << c.top << "," << c.left << " " << c.h << "x" << c.w);
    const Shape ys{c.x.n(), c.x.c(), c.h, c.w};
    Tensor x = random_tensor(c.x, 101), d_y = random_tensor(ys, 102), d_x = random_tensor(c.x, 103);
    Tensor dx = x.to(Device::cuda), dd_y = d_y.to(Device::cuda), dd_x = d_x.to(Device::cuda);
    Tensor y = Tensor::empty(ys), dy = Tensor::empty(ys, Device::cuda);

    kernels::crop_forward(x, y, c.top, c.left);
    kernels::crop_forward(dx, dy, c.top, c.left);
    require_close(dy.to_vector(), y.to_vector(), 0, 0);

    kernels::crop_backward(d_y, d_x, c.top, c.left);  // accumulates into a nonzero d_x
    kernels::crop_backward(dd_y, dd_x, c.top, c.left);
    require_close(dd_x.to_vector(), d_x.to_vector(), 0, 0);
  }
}
