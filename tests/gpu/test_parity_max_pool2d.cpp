// [gpu] Device parity of kernels/cuda/max_pool2d.cu against the CPU reference (kernels/cpu/max_pool2d.cpp). The
// forward copies one input value and the backward adds the same float terms in the same (raster) order as the
// reference, so both must match exactly (atol = rtol = 0). Inputs are quantised to a few levels so that windows
// have ties, which the first-maximum rule must break the same way on both devices.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/max_pool2d.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

namespace {
Tensor with_ties(const Shape& s, uint64_t seed) {
  Tensor x = random_tensor(s, seed);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::round(x.data()[i] * 3.0f) / 3.0f;
  return x;
}
kernels::MaxPool2dParams params(int k, int s, int pt, int pb, int pl, int pr, bool ceil_mode) {
  kernels::MaxPool2dParams p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.pad_top = pt, p.pad_bottom = pb, p.pad_left = pl, p.pad_right = pr;
  p.ceil_mode = ceil_mode;
  return p;
}
}  // namespace

TEST_CASE("cuda max_pool2d forward and backward equal the CPU reference", "[gpu][parity][max_pool2d]") {
  const std::vector<kernels::MaxPool2dParams> cases = {
      params(2, 2, 0, 0, 0, 0, false),  // VGG
      params(3, 2, 0, 0, 0, 0, true),   // Caffe AlexNet / CaffeNet: overlapping windows, ceil mode
      params(3, 2, 1, 1, 1, 1, true),   // padded, ceil mode (the dropped last window)
      params(3, 1, 2, 0, 1, 2, false),  // stride 1: every cell in up to 9 windows; asymmetric padding
      params(1, 3, 0, 0, 0, 0, true),   // kernel < stride: cells in no window get no gradient
  };
  const std::vector<Shape> shapes = {Shape{1, 1, 3, 3}, Shape{2, 3, 5, 7}, Shape{3, 1, 17, 33},
                                     Shape{1, 64, 33, 35}};
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    for (const Shape& s : shapes) {
      INFO("case " << ci << ", shape " << s.str());
      const kernels::MaxPool2dGeometry g = kernels::max_pool2d_geometry("test", s, cases[ci]);
      const Shape out{g.n, g.c, g.ho, g.wo};
      Tensor x = with_ties(s, 81), d_y = random_tensor(out, 82), d_x = random_tensor(s, 83);
      Tensor dx = x.to(Device::cuda), dd_y = d_y.to(Device::cuda), dd_x = d_x.to(Device::cuda);
      Tensor y = Tensor::empty(out), dy = Tensor::empty(out, Device::cuda);

      kernels::max_pool2d_forward(x, y, cases[ci]);
      kernels::max_pool2d_forward(dx, dy, cases[ci]);
      require_close(dy.to_vector(), y.to_vector(), 0, 0);

      kernels::max_pool2d_backward(x, d_y, d_x, cases[ci]);
      kernels::max_pool2d_backward(dx, dd_y, dd_x, cases[ci]);
      require_close(dd_x.to_vector(), d_x.to_vector(), 0, 0);
    }
  }
}
