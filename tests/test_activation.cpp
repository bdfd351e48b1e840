// relu / leaky relu: gradient check of the reference, PyTorch golden comparison, tape op, bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "conv_cases.h"
#include "each_isa.h"
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

TEST_CASE("relu and leaky_relu simd path equals the reference bit for bit", "[activation][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  // odd length (a vector tail), both signs, exact zeros (derivative 0 at 0), -0, infinities and a NaN
  const size_t n = 1003;
  std::vector<float> x = to_float(random_vector(n, 77, -3, 3));
  x[0] = 0.0f, x[1] = -0.0f, x[2] = INFINITY, x[3] = -INFINITY, x[4] = NAN, x[n - 1] = 0.0f;
  const std::vector<float> d_y = to_float(random_vector(n, 78)), d_start = to_float(random_vector(n, 79));
  auto same_bits = [](const std::vector<float>& a, const std::vector<float>& b) {
    return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  for (float slope : {0.0f, 0.2f}) {
    INFO("slope " << slope);
    std::vector<float> y_ref(n), y(n), dx_ref = d_start, dx = d_start;  // non-zero start: must accumulate
    kernels::ref::leaky_relu_forward(x.data(), y_ref.data(), int64_t(n), slope);
    kernels::cpu_kernels().simd_leaky_relu_forward(x.data(), y.data(), int64_t(n), slope);
    CHECK(same_bits(y, y_ref));
    kernels::ref::leaky_relu_backward(x.data(), d_y.data(), dx_ref.data(), int64_t(n), slope);
    kernels::cpu_kernels().simd_leaky_relu_backward(x.data(), d_y.data(), dx.data(), int64_t(n), slope);
    CHECK(same_bits(dx, dx_ref));
  }
  // The launchers take the simd path unless the reference is asked for; either way the same bits.
  Tensor xt = Tensor::from(x, Shape{int64_t(n)}), yt = Tensor::empty(Shape{int64_t(n)});
  std::vector<float> y_ref(n);
  kernels::ref::leaky_relu_forward(x.data(), y_ref.data(), int64_t(n), 0.0f);
  for (auto path : {kernels::CpuPath::reference, kernels::CpuPath::fast}) {
    CpuPathScope scope(path);
    kernels::relu_forward(xt, yt);
    CHECK(same_bits(yt.to_vector(), y_ref));
  }
}

TEST_CASE("activation launchers reject mismatched shapes", "[activation][errors]") {
  Tensor x = Tensor::zeros(Shape{2, 3});
  Tensor y = Tensor::zeros(Shape{3, 2});
  REQUIRE_THROWS_WITH(kernels::relu_forward(x, y), Catch::Contains("shapes differ"));
}
