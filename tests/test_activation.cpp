// relu / leaky relu: gradient check of the reference, PyTorch golden comparison, tape op, bad input.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops.h"
#include "kernels/activation.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

TEST_CASE("leaky_relu reference gradient matches finite differences", "[activation][gradcheck]") {
  for (double slope : {0.0, 0.2}) {
    GradCheckOp op;
    op.inputs = {random_vector(3 * 5 * 7, 3)};
    op.differentiable = {true};
    op.output_size = op.inputs[0].size();
    const int64_t n = static_cast<int64_t>(op.output_size);
    op.forward = [=](auto& x, double* y) { kernels::ref::leaky_relu_forward(x[0], y, n, slope); };
    op.backward = [=](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::leaky_relu_backward(x[0], d_y, d_x[0], n, slope);
    };
    const std::vector<double> x0 = op.inputs[0];
    op.near_kink = [x0](size_t, size_t e, double eps) { return std::abs(x0[e]) < 2 * eps; };
    GradCheckResult r = grad_check(op);
    INFO(r.worst);
    CHECK(r.checked > 90);
    CHECK(r.max_error < 1e-7);
  }
}

TEST_CASE("relu and leaky_relu match PyTorch forward and backward", "[activation][golden]") {
  for (const char* name : {"relu", "leaky_relu"}) {
    Golden g = read_golden(name);
    Tensor x = golden_tensor(g, "x"), d_y = golden_tensor(g, "d_y");
    const float slope = golden_scalar(g, "slope");
    Tape t;
    Var xv = t.leaf(x.view(), true);
    Var y = ops::leaky_relu(t, xv, slope);
    Tensor y_ref = golden_tensor(g, "y"), dx_ref = golden_tensor(g, "d_x");
    CHECK(tolerance_ratio(t.value(y).data, y_ref.data(), y_ref.numel(), 1e-6, 1e-6) <= 1.0);
    // backward through a weighted sum with weights d_y gives d_x = J^T d_y
    Var dy = t.constant(d_y.clone());
    Var loss = ops::sum(t, ops::mul(t, y, dy));
    t.backward(loss);
    CHECK(tolerance_ratio(t.grad(xv).data, dx_ref.data(), dx_ref.numel(), 1e-6, 1e-6) <= 1.0);
  }
}

TEST_CASE("activation launchers reject mismatched shapes", "[activation][errors]") {
  Tensor x = Tensor::zeros(Shape{2, 3});
  Tensor y = Tensor::zeros(Shape{3, 2});
  REQUIRE_THROWS_WITH(kernels::relu_forward(x, y), Catch::Contains("shapes differ"));
}
