// add / mul / scale / masked_mul / sum / mean: gradient checks of the references and PyTorch goldens of the tape ops.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "kernels/elementwise.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

TEST_CASE("elementwise reference gradients match finite differences", "[elementwise][gradcheck]") {
  const int64_t n = 2 * 3 * 5 * 7;
  SECTION("mul") {
    GradCheckOp op;
    op.inputs = {random_vector(n, 1), random_vector(n, 2)};
    op.differentiable = {true, true};
    op.output_size = n;
    op.forward = [=](auto& x, double* y) { kernels::ref::mul_forward(x[0], x[1], y, n); };
    op.backward = [=](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::mul_backward(x[0], x[1], d_y, d_x[0], d_x[1], n);
    };
    GradCheckResult r = grad_check(op);
    INFO(r.worst);
    CHECK(r.checked == 2 * n);
    CHECK(r.max_error < 1e-8);
  }
  SECTION("add and scale") {
    GradCheckOp op;
    op.inputs = {random_vector(n, 3), random_vector(n, 4)};
    op.differentiable = {true, true};
    op.output_size = n;
    // y = a + 2.5 b; backward through the same accumulate primitives the tape ops use
    op.forward = [=](auto& x, double* y) {
      std::vector<double> sb(n);
      kernels::ref::scale_forward(x[1], 2.5, sb.data(), n);
      kernels::ref::add_forward(x[0], sb.data(), y, n);
    };
    op.backward = [=](auto&, const double* d_y, auto& d_x) {
      kernels::ref::add_into(d_x[0], d_y, n);
      kernels::ref::axpy_into(d_x[1], 2.5, d_y, n);
    };
    GradCheckResult r = grad_check(op);
    INFO(r.worst);
    CHECK(r.max_error < 1e-8);
  }
  SECTION("sum") {
    GradCheckOp op;
    op.inputs = {random_vector(n, 5)};
    op.differentiable = {true};
    op.output_size = 1;
    op.forward = [=](auto& x, double* y) { y[0] = kernels::ref::sum(x[0], n); };
    op.backward = [=](auto&, const double* d_y, auto& d_x) {
      for (int64_t i = 0; i < n; ++i) d_x[0][i] += d_y[0];
    };
    GradCheckResult r = grad_check(op);
    CHECK(r.max_error < 1e-8);
  }
}

TEST_CASE("elementwise tape ops match PyTorch", "[elementwise][golden]") {
  Golden g = read_golden("elementwise");
  Tensor a = golden_tensor(g, "a"), b = golden_tensor(g, "b"), m = golden_tensor(g, "mask");
  Tape t;
  Var av = t.leaf(a.view(), true), bv = t.leaf(b.view(), true);
  // L = mean(a * b) + sum(3 a) + sum(a * mask) + sum(a + b) / 4, as in gen_elementwise.py
  Var L = ops::add(t, ops::mean(t, ops::mul(t, av, bv)), ops::sum(t, ops::scale(t, av, 3.0f)));
  L = ops::add(t, L, ops::sum(t, ops::masked_mul(t, av, t.constant(m.clone()))));
  L = ops::add(t, L, ops::scale(t, ops::sum(t, ops::add(t, av, bv)), 0.25f));
  const float L_ref = golden_scalar(g, "L");
  CHECK(t.item(L) == Approx(L_ref).epsilon(1e-5));
  t.backward(L);
  Tensor da = golden_tensor(g, "d_a"), db = golden_tensor(g, "d_b");
  CHECK(tolerance_ratio(t.grad(av).data, da.data(), da.numel(), 1e-6, 1e-6) <= 1.0);
  CHECK(tolerance_ratio(t.grad(bv).data, db.data(), db.numel(), 1e-6, 1e-6) <= 1.0);
}
