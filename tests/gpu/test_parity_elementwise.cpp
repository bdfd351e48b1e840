// [gpu] Device parity of kernels/cuda/elementwise.cu against the CPU reference (kernels/cpu/elementwise.cpp).
// Tolerances: a single IEEE operation (a + b, a * b, s * a) is correctly rounded on both sides, so those must match
// exactly; `y += s * x` may become one fused multiply-add on the GPU (nvcc contracts by default), which differs from
// the reference's two roundings by about one float ulp of |y| + |s x| (<= 2.4e-7 for the O(1) data here), hence
// atol = rtol = 1e-6. sum accumulates in double on both sides, in a different order; the float results agree to
// an ulp or two.
#include <catch2/catch.hpp>

#include "kernels/elementwise.h"
#include "parity.h"

using namespace preimage;
using test::parity_shapes;
using test::random_tensor;
using test::require_close;

TEST_CASE("cuda add, mul and scale equal the CPU reference exactly", "[gpu][parity][elementwise]") {
  for (const Shape& s : parity_shapes()) {
    INFO("shape " << s.str());
    Tensor a = random_tensor(s, 1), b = random_tensor(s, 2);
    Tensor da = a.to(Device::cuda), db = b.to(Device::cuda);
    Tensor y = Tensor::empty(s), dy = Tensor::empty(s, Device::cuda);

    kernels::add_forward(a, b, y);
    kernels::add_forward(da, db, dy);
    require_close(dy.to_vector(), y.to_vector(), 0, 0);

    kernels::mul_forward(a, b, y);
    kernels::mul_forward(da, db, dy);
    require_close(dy.to_vector(), y.to_vector(), 0, 0);

    kernels::scale_forward(a, -1.7f, y);
    kernels::scale_forward(da, -1.7f, dy);
    require_close(dy.to_vector(), y.to_vector(), 0, 0);
  }
}

TEST_CASE("cuda add_into and axpy_into accumulate like the CPU reference", "[gpu][parity][elementwise]") {
  for (const Shape& s : parity_shapes()) {
    INFO("shape " << s.str());
    Tensor x = random_tensor(s, 3);
    Tensor y = random_tensor(s, 4);  // nonzero start: the kernels must add, not overwrite
    Tensor dx = x.to(Device::cuda), dy = y.to(Device::cuda);

    kernels::add_into(y, x);
    kernels::add_into(dy, dx);
    require_close(dy.to_vector(), y.to_vector(), 0, 0);

    kernels::axpy_into(y, 0.37f, x);
    kernels::axpy_into(dy, 0.37f, dx);
    require_close(dy.to_vector(), y.to_vector(), 1e-6, 1e-6);
  }
}

TEST_CASE("cuda mul backward accumulates into the wanted gradients only", "[gpu][parity][elementwise]") {
  for (const Shape& s : parity_shapes()) {
    INFO("shape " << s.str());
    Tensor a = random_tensor(s, 5), b = random_tensor(s, 6), g = random_tensor(s, 7);
    Tensor d_a = random_tensor(s, 8), d_b = random_tensor(s, 9);
    Tensor da = a.to(Device::cuda), db = b.to(Device::cuda), dg = g.to(Device::cuda);
    Tensor dd_a = d_a.to(Device::cuda), dd_b = d_b.to(Device::cuda);

    kernels::mul_backward(a, b, g, d_a, d_b);
    kernels::mul_backward(da, db, dg, dd_a, dd_b);
    require_close(dd_a.to_vector(), d_a.to_vector(), 1e-6, 1e-6);
    require_close(dd_b.to_vector(), d_b.to_vector(), 1e-6, 1e-6);

    kernels::mul_backward(a, b, g, View{}, d_b);  // d_a not wanted
    kernels::mul_backward(da, db, dg, View{}, dd_b);
    require_close(dd_b.to_vector(), d_b.to_vector(), 1e-6, 1e-6);
    kernels::mul_backward(a, b, g, d_a, View{});  // d_b not wanted
    kernels::mul_backward(da, db, dg, dd_a, View{});
    require_close(dd_a.to_vector(), d_a.to_vector(), 1e-6, 1e-6);
  }
}

TEST_CASE("cuda sum reduces like the double-accumulating reference", "[gpu][parity][elementwise]") {
  std::vector<Shape> shapes = parity_shapes();
  shapes.push_back(Shape{1, 1, 1025, 1027});  // > 1024 partial blocks' worth: the partial count saturates
  for (const Shape& s : shapes) {
    INFO("shape " << s.str());
    Tensor a = random_tensor(s, 10);
    Tensor da = a.to(Device::cuda);
    Tensor y = Tensor::empty(Shape{1}), dy = Tensor::full(Shape{1}, 123.0f, Device::cuda);
    kernels::sum_forward(a, y);
    kernels::sum_forward(da, dy);
    require_close(dy.to_vector(), y.to_vector(), 1e-6, 1e-6);
  }
}

TEST_CASE("cuda sum backward broadcasts s * d_y and accumulates", "[gpu][parity][elementwise]") {
  for (const Shape& s : parity_shapes()) {
    INFO("shape " << s.str());
    Tensor d_a = random_tensor(s, 11);
    Tensor d_y = Tensor::from({0.625f}, Shape{1});
    Tensor dd_a = d_a.to(Device::cuda), dd_y = d_y.to(Device::cuda);
    kernels::broadcast_add_into(d_a, d_y, 1.0f / 3.0f);
    kernels::broadcast_add_into(dd_a, dd_y, 1.0f / 3.0f);
    require_close(dd_a.to_vector(), d_a.to_vector(), 1e-6, 1e-6);
  }
}
