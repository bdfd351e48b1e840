// [gpu] Device parity of kernels/cuda/lrn.cu against the CPU reference (kernels/cpu/lrn.cpp). Same float expressions
// in the same order, but CUDA's powf is accurate to a few ulps only (the CUDA C Programming Guide lists 4) where
// glibc's is correctly rounded, and nvcc may fuse k + a * sum and the window's x * x + sum into FMAs. Forward: a few
// ulps relative, rtol 2e-6. Backward: two such terms subtracted, each O(1) with the alpha used here (chosen large so
// the cross-channel term matters), so the error is a few ulps of the terms, not of the difference: atol = rtol = 2e-6.
#include <catch2/catch.hpp>

#include "kernels/lrn.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

TEST_CASE("cuda lrn forward and backward match the CPU reference", "[gpu][parity][lrn]") {
  std::vector<kernels::LrnParams> cases(3);
  cases[0] = kernels::LrnParams{5, 2.0f, 0.75f, 1.0f};  // AlexNet's window and beta, alpha large for the test
  cases[1] = kernels::LrnParams{4, 1.5f, 0.6f, 2.0f};   // even size: window [c - 1, c + 2]
  cases[2] = kernels::LrnParams{1, 0.5f, 1.3f, 1.0f};   // window of one channel
  const std::vector<Shape> shapes = {Shape{1, 1, 1, 1}, Shape{2, 3, 5, 7}, Shape{3, 7, 17, 9}, Shape{1, 64, 11, 13}};
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    for (const Shape& s : shapes) {
      INFO("case " << ci << ", shape " << s.str());
      Tensor x = random_tensor(s, 91), d_y = random_tensor(s, 92), d_x = random_tensor(s, 93);
      Tensor dx = x.to(Device::cuda), dd_y = d_y.to(Device::cuda), dd_x = d_x.to(Device::cuda);
      Tensor y = Tensor::empty(s), dy = Tensor::empty(s, Device::cuda);

      kernels::lrn_forward(x, y, cases[ci]);
      kernels::lrn_forward(dx, dy, cases[ci]);
      require_close(dy.to_vector(), y.to_vector(), 0, 2e-6);

      kernels::lrn_backward(x, d_y, d_x, cases[ci]);
      kernels::lrn_backward(dx, dd_y, dd_x, cases[ci]);
      require_close(dd_x.to_vector(), d_x.to_vector(), 2e-6, 2e-6);
    }
  }
}
