// [gpu] Device parity of the crop and the concatenation in kernels/cuda/shape_ops.cu against the CPU reference (kernels/cpu/shape_ops.cpp):
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

TEST_CASE("cuda concat_channels forward and backward equal the CPU reference", "[gpu][parity][shape_ops]") {
  // Inputs with 1..64 channels, 2-d and 4-d, batch 1 and 3; the backward skips an unwanted input.
  const std::vector<std::vector<Shape>> cases = {
      {Shape{1, 1, 1, 1}, Shape{1, 2, 1, 1}},
      {Shape{3, 2, 5, 7}, Shape{3, 1, 5, 7}, Shape{3, 4, 5, 7}},
      {Shape{2, 64, 9, 11}, Shape{2, 3, 9, 11}},
      {Shape{3, 5}, Shape{3, 17}},
  };
  for (const auto& shapes : cases) {
    const Shape ys = kernels::concat_channels_shape(shapes);
    INFO("output " << ys.str() << " from " << shapes.size() << " inputs");
    std::vector<Tensor> xs, dxs, d_xs, dd_xs;
    std::vector<View> x_views, dx_views, d_x_views, dd_x_views;
    for (size_t i = 0; i < shapes.size(); ++i) {
      xs.push_back(random_tensor(shapes[i], 200 + i));
      dxs.push_back(xs.back().to(Device::cuda));
      d_xs.push_back(random_tensor(shapes[i], 300 + i));
      dd_xs.push_back(d_xs.back().to(Device::cuda));
    }
    for (size_t i = 0; i < shapes.size(); ++i) {
      x_views.push_back(xs[i]);
      dx_views.push_back(dxs[i]);
      // Input 1 (when there is more than one) does not want its gradient.
      const bool wanted = shapes.size() == 1 || i != 1;
      d_x_views.push_back(wanted ? d_xs[i].view() : View(nullptr, shapes[i], Device::cpu));
      dd_x_views.push_back(wanted ? dd_xs[i].view() : View(nullptr, shapes[i], Device::cuda));
    }
    Tensor y = Tensor::empty(ys), dy = Tensor::full(ys, 7.0f, Device::cuda);
    kernels::concat_channels_forward(x_views, y);
    kernels::concat_channels_forward(dx_views, dy);
    require_close(dy.to_vector(), y.to_vector(), 0, 0);

    Tensor d_y = random_tensor(ys, 400), dd_y = d_y.to(Device::cuda);
    kernels::concat_channels_backward(d_y, d_x_views);  // accumulates into nonzero d_x
    kernels::concat_channels_backward(dd_y, dd_x_views);
    for (size_t i = 0; i < shapes.size(); ++i) require_close(dd_xs[i].to_vector(), d_xs[i].to_vector(), 0, 0);
  }
}
