// Losses: normalised (masked) L2 and the inner-product loss. Gradient checks of the references, PyTorch golden
// values and gradients, hand-computed examples, the batch convention, constants getting no gradient, bad inputs.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "kernels/losses.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {
std::vector<float> values(const View& v) { return std::vector<float>(v.data, v.data + v.numel()); }
}  // namespace

TEST_CASE("normalised_l2 reference gradient matches finite differences", "[losses][gradcheck]") {
  for (bool masked : {false, true})
    for (int64_t c : {1, 3}) {
      const int64_t n = 2, d = c * 5 * 3;  // phi [2, C, 5, 3]
      const size_t size = static_cast<size_t>(n * d);
      // weights in [0, 2) with about a third zeroed: a binary mask would hide M versus M^2 in the gradient
      std::vector<double> mask = random_vector(size, 61, -1.0, 2.0);
      for (double& m : mask) m = m < 0 ? 0.0 : m;
      GradCheckOp op;
      op.inputs = {random_vector(size, 62), random_vector(size, 63), mask};
      op.differentiable = {true, false, false};  // phi0 and the mask are constants
      op.output_size = 1;
      op.forward = [=](auto& x, double* y) {
        y[0] = kernels::ref::normalised_l2_forward(x[0], x[1], masked ? x[2] : nullptr, n, d);
      };
      op.backward = [=](auto& x, const double* d_y, auto& d_x) {
        kernels::ref::normalised_l2_backward(x[0], x[1], masked ? x[2] : nullptr, d_y[0], d_x[0], n, d);
      };
      GradCheckResult r = grad_check(op);
      INFO("masked = " << masked << " C = " << c << ": " << r.worst);
      CHECK(r.checked == size);
      CHECK(r.max_error < 1e-8);
    }
}

TEST_CASE("inner_product reference gradient matches finite differences", "[losses][gradcheck]") {
  for (int64_t c : {1, 3}) {
    const size_t size = static_cast<size_t>(2 * c * 3 * 5);
    const double Z = 2.5;
    GradCheckOp op;
    op.inputs = {random_vector(size, 71), random_vector(size, 72, 0.0, 1.0)};
    op.differentiable = {true, false};
    op.output_size = 1;
    op.forward = [=](auto& x, double* y) {
      y[0] = kernels::ref::inner_product_forward(x[0], x[1], static_cast<int64_t>(size), Z);
    };
    op.backward = [=](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::inner_product_backward(x[1], d_y[0], d_x[0], static_cast<int64_t>(size), Z);
    };
    GradCheckResult r = grad_check(op);
    INFO(r.worst);
    CHECK(r.checked == size);
    CHECK(r.max_error < 1e-8);
  }
}

TEST_CASE("normalised_l2 matches PyTorch autograd of eqs. 2-3 per sample", "[losses][golden]") {
  Golden g = read_golden("normalised_l2");
  Tensor phi = golden_tensor(g, "phi");
  const float d_y = golden_scalar(g, "d_y");
  for (bool masked : {false, true}) {
    Tape t;
    Var pv = t.leaf(phi.view(), true);
    Var m = masked ? t.constant(golden_tensor(g, "mask")) : Var{};
    Var loss = ops::normalised_l2(t, pv, t.constant(golden_tensor(g, "phi0")), m);
    const std::string s = masked ? "mask" : "plain";
    INFO(s);
    CHECK(t.item(loss) == Approx(golden_scalar(g, "value_" + s)).epsilon(1e-6));
    t.backward(loss, d_y);
    Tensor ref = golden_tensor(g, "d_phi_" + s);
    CHECK(tolerance_ratio(t.grad(pv).data, ref.data(), ref.numel(), 1e-7, 1e-5) <= 1.0);
  }
}

TEST_CASE("inner_product matches PyTorch autograd of eq. 4", "[losses][golden]") {
  Golden g = read_golden("inner_product");
  Tensor phi = golden_tensor(g, "phi");
  Tape t;
  Var pv = t.leaf(phi.view(), true);
  Var loss = ops::inner_product(t, pv, t.constant(golden_tensor(g, "phi0")), golden_scalar(g, "Z"));
  CHECK(t.item(loss) == Approx(golden_scalar(g, "value")).epsilon(1e-6));
  t.backward(loss, golden_scalar(g, "d_y"));
  Tensor ref = golden_tensor(g, "d_phi");
  CHECK(tolerance_ratio(t.grad(pv).data, ref.data(), ref.numel(), 1e-7, 1e-6) <= 1.0);
}

TEST_CASE("losses on small examples computed on paper", "[losses]") {
  // phi = (1, 2), phi0 = (2, 0): ||phi - phi0||^2 = 1 + 4 = 5, ||phi0||^2 = 4 -> 1.25; gradient 2 (phi - phi0) / 4
  //   = (-0.5, 1). Mask (1, 0): 1 / 4 = 0.25, gradient (-0.5, 0). Inner product, Z = 2: -(2 + 0) / 2 = -1,
  //   gradient -phi0 / Z = (-1, 0).
  Tape t;
  Tensor phi = Tensor::from({1, 2}, Shape{1, 2});
  Var pv = t.leaf(phi.view(), true);
  Var p0 = t.constant(Tensor::from({2, 0}, Shape{1, 2}));
  Var l2 = ops::normalised_l2(t, pv, p0, Var{});
  CHECK(t.item(l2) == 1.25f);
  t.backward(l2);
  CHECK(values(t.grad(pv)) == std::vector<float>{-0.5f, 1.0f});
  t.zero_grad();
  Var masked = ops::normalised_l2(t, pv, p0, t.constant(Tensor::from({1, 0}, Shape{1, 2})));
  CHECK(t.item(masked) == 0.25f);
  t.backward(masked);
  CHECK(values(t.grad(pv)) == std::vector<float>{-0.5f, 0.0f});
  t.zero_grad();
  Var ip = ops::inner_product(t, pv, p0, 2.0f);
  CHECK(t.item(ip) == -1.0f);
  t.backward(ip);
  CHECK(values(t.grad(pv)) == std::vector<float>{-1.0f, 0.0f});
}

TEST_CASE("normalised_l2 of a batch is the sum of per-sample losses", "[losses]") {
  // Sample 1's target is 100x larger: a whole-batch normaliser would let it swamp sample 0.
  Tensor phi = random_tensor(Shape{2, 3, 2, 2}, 81);
  std::vector<float> target = random_tensor(Shape{2, 3, 2, 2}, 82).to_vector();
  for (size_t i = 12; i < 24; ++i) target[i] *= 100;
  Tensor phi0 = Tensor::from(target, Shape{2, 3, 2, 2});
  Tape t;
  const float batch = t.item(ops::normalised_l2(t, t.leaf(phi.view(), false), t.leaf(phi0.view(), false), Var{}));
  float sum = 0;
  for (int64_t n = 0; n < 2; ++n)
    sum += t.item(ops::normalised_l2(t, t.leaf(phi.view().batch(n), false), t.leaf(phi0.view().batch(n), false),
                                     Var{}));
  CHECK(batch == Approx(sum).epsilon(1e-6));
}

TEST_CASE("no gradient reaches phi0 or the mask", "[losses]") {
  Tensor phi = random_tensor(Shape{1, 4}, 91), phi0 = random_tensor(Shape{1, 4}, 92);
  Tensor mask = Tensor::from({1, 1, 0, 1}, Shape{1, 4});
  Tape t;
  Var pv = t.leaf(phi.view(), true);
  Var p0 = t.leaf(phi0.view(), true);  // even a target that is a variable is treated as a constant
  Var mv = t.leaf(mask.view(), true);
  t.backward(ops::add(t, ops::normalised_l2(t, pv, p0, mv), ops::inner_product(t, pv, p0, 1.0f)));
  CHECK(t.has_grad(pv));
  CHECK(!t.has_grad(p0));
  CHECK(!t.has_grad(mv));
}

TEST_CASE("losses reject bad operands", "[losses][errors]") {
  Tape t;
  Tensor phi = random_tensor(Shape{2, 3, 4}, 1);
  Var pv = t.leaf(phi.view(), true);
  Var p0 = t.constant(random_tensor(Shape{2, 3, 4}, 2));
  SECTION("mask shape mismatch") {
    Var m = t.constant(Tensor::full(Shape{1, 3, 4}, 1.0f));
    CHECK_THROWS_WITH(ops::normalised_l2(t, pv, p0, m), Catch::Contains("mask has shape [1, 3, 4]"));
  }
  SECTION("target shape mismatch") {
    Var bad = t.constant(random_tensor(Shape{2, 4, 3}, 3));
    CHECK_THROWS_WITH(ops::normalised_l2(t, pv, bad, Var{}), Catch::Contains("phi0 has shape [2, 4, 3]"));
    CHECK_THROWS_WITH(ops::inner_product(t, pv, bad, 1.0f), Catch::Contains("phi0 has shape"));
  }
  SECTION("phi0 all zeros for one sample, or zero under the mask") {
    std::vector<float> z = random_tensor(Shape{2, 3, 4}, 4).to_vector();
    for (size_t i = 12; i < 24; ++i) z[i] = 0;
    Var zero1 = t.constant(Tensor::from(z, Shape{2, 3, 4}));
    CHECK_THROWS_WITH(ops::normalised_l2(t, pv, zero1, Var{}), Catch::Contains("all zeros for sample 1"));
    std::vector<float> m(24, 1.0f);
    for (size_t i = 0; i < 12; ++i) m[i] = 0;  // sample 0's target is non-zero but fully masked out
    Var mask = t.constant(Tensor::from(m, Shape{2, 3, 4}));
    CHECK_THROWS_WITH(ops::normalised_l2(t, pv, p0, mask),
                      Catch::Contains("times the mask is all zeros for sample 0"));
  }
  SECTION("Z not positive") {
    CHECK_THROWS_WITH(ops::inner_product(t, pv, p0, 0.0f), Catch::Contains("Z = 0 must be positive"));
    CHECK_THROWS_WITH(ops::inner_product(t, pv, p0, -1.0f), Catch::Contains("Z = -1"));
  }
}
