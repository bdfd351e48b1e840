// [gpu] Device parity of kernels/cuda/softmax.cu against the CPU reference (kernels/cpu/softmax.cpp). The per-pixel
// kernel (inner > 1, or fewer than 32 classes) runs the reference's loops; the row kernel ([N, C], C >= 32) sums in
// a different order (32 lane partials, then shuffles), ~C/32 ulps at most. On a real GPU expf is within 2 ulp
// instead of glibc's correctly rounded value. Forward: atol 1e-7 (probabilities near 0), rtol 1e-5. Backward:
// y (d_y - dot) subtracts O(1) terms, so its error is an ulp of those, not of the result: atol = 1e-6, rtol 1e-5.
#include <catch2/catch.hpp>

#include "kernels/softmax.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

TEST_CASE("cuda softmax forward and backward match the CPU reference", "[gpu][parity][softmax]") {
  // per-pixel (inner 35, 1 and few classes), rows of many classes (row kernel), one class
  const std::vector<Shape> shapes = {Shape{2, 5, 7, 5}, Shape{3, 10}, Shape{2, 100}, Shape{5, 37}, Shape{1, 1, 3, 3},
                                     Shape{2, 40, 1, 3}};
  for (const Shape& s : shapes) {
    INFO("shape " << s.str());
    Tensor x = random_tensor(s, 71, -8.0f, 8.0f), d_y = random_tensor(s, 72), d_x = random_tensor(s, 73);
    Tensor dx = x.to(Device::cuda), dd_y = d_y.to(Device::cuda), dd_x = d_x.to(Device::cuda);
    Tensor y = Tensor::empty(s), dy = Tensor::empty(s, Device::cuda);
    kernels::softmax_forward(x, y);
    kernels::softmax_forward(dx, dy);
    require_close(dy.to_vector(), y.to_vector(), 1e-7, 1e-5);

    kernels::softmax_backward(y, d_y, d_x);
    kernels::softmax_backward(dy, dd_y, dd_x);
    require_close(dd_x.to_vector(), d_x.to_vector(), 1e-6, 1e-5);
  }
}
