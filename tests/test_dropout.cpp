// Dropout: eval identity, reproducible Philox mask, keep rate, survivor scaling, backward with the same mask,
// gradient check of the reference (for a fixed seed the op is linear), and bad operands.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops.h"
#include "engine/rng.h"
#include "kernels/dropout.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

TEST_CASE("dropout in eval mode is the identity, forward and backward", "[dropout]") {
  Tensor x = random_tensor(Shape{2, 3, 4, 5}, 1);
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var y = ops::dropout(t, xv, 0.5f, /*training=*/false, 123);
  CHECK(t.op(y) == Op::dropout);
  CHECK(Tensor::copy_of(t.value(y)).to_vector() == x.to_vector());
  Tensor w = random_tensor(x.shape(), 2);
  t.backward(ops::sum(t, ops::mul(t, y, t.constant(w.clone()))));
  CHECK(Tensor::copy_of(t.grad(xv)).to_vector() == w.to_vector());
}

TEST_CASE("dropout in training draws a reproducible Philox mask and scales survivors", "[dropout]") {
  const float p = 0.3f;
  const uint64_t seed = 987654321;
  const Shape s{4, 16, 32, 32};  // 65536 elements
  Tensor x = random_tensor(s, 3, 0.5f, 1.5f);  // never zero, so y == 0 means dropped
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var y = ops::dropout(t, xv, p, true, seed);
  const std::vector<float> xs = x.to_vector(), ys = Tensor::copy_of(t.value(y)).to_vector();
  const float scale = 1.0f / (1.0f - p);
  size_t kept = 0;
  bool mask_matches = true, scaled = true;
  for (size_t i = 0; i < xs.size(); ++i) {
    const bool keep = philox_uniform(seed, i) >= p;
    mask_matches = mask_matches && (keep == (ys[i] != 0.0f));
    if (keep) {
      ++kept;
      scaled = scaled && ys[i] == xs[i] * scale;
    }
  }
  CHECK(mask_matches);
  CHECK(scaled);
  // keep rate 0.7; its standard error is sqrt(.21 / 65536) ~ 1.8e-3
  const double rate = double(kept) / double(xs.size());
  CHECK(std::abs(rate - 0.7) < 0.01);
  // the same seed reproduces the output; another seed does not
  Tensor y2 = Tensor::empty(s), y3 = Tensor::empty(s);
  kernels::dropout_forward(x, y2, p, seed);
  kernels::dropout_forward(x, y3, p, seed + 1);
  CHECK(y2.to_vector() == ys);
  CHECK(y3.to_vector() != ys);
  // backward uses the same mask: d_x = mask * d_y, with the same 1/(1-p)
  Tensor w = random_tensor(s, 4);
  t.backward(ops::sum(t, ops::mul(t, y, t.constant(w.clone()))));
  const std::vector<float> ws = w.to_vector(), gs = Tensor::copy_of(t.grad(xv)).to_vector();
  bool grad_ok = true;
  for (size_t i = 0; i < xs.size(); ++i) grad_ok = grad_ok && gs[i] == (ys[i] != 0.0f ? ws[i] * scale : 0.0f);
  CHECK(grad_ok);
}

TEST_CASE("dropout edge probabilities", "[dropout]") {
  Tensor x = random_tensor(Shape{3, 50}, 5, 0.5f, 1.5f);
  Tensor y = Tensor::empty(x.shape());
  kernels::dropout_forward(x, y, 1.0f, 9);
  for (float v : y.to_vector()) REQUIRE(v == 0.0f);
  kernels::dropout_forward(x, y, 0.0f, 9);
  CHECK(y.to_vector() == x.to_vector());
  std::vector<double> mask(150);
  kernels::ref::dropout_mask(mask.data(), 150, 0.5f, 9);
  for (double m : mask) REQUIRE((m == 0.0 || m == 2.0));
}

TEST_CASE("dropout reference gradient matches finite differences", "[dropout][gradcheck]") {
  GradCheckOp op;
  op.inputs = {random_vector(257, 6)};
  op.differentiable = {true};
  op.output_size = 257;
  op.forward = [](auto& x, double* y) { kernels::ref::dropout_forward(x[0], y, 257, 0.4f, 77); };
  op.backward = [](auto& x, const double* d_y, auto& d_x) {
    kernels::ref::dropout_backward(d_y, d_x[0], 257, 0.4f, 77);
  };
  GradCheckResult r = grad_check(op);
  INFO(r.worst);
  CHECK(r.checked == 257);
  CHECK(r.max_error < 1e-8);
}

TEST_CASE("dropout rejects bad probabilities and operands", "[dropout][errors]") {
  Tensor x = Tensor::zeros(Shape{2, 3});
  Tensor y = Tensor::zeros(Shape{2, 3});
  Tensor y_bad = Tensor::zeros(Shape{3, 2});
  REQUIRE_THROWS_WITH(kernels::dropout_forward(x, y, 1.5f, 1), Catch::Contains("must be in [0, 1]"));
  REQUIRE_THROWS_WITH(kernels::dropout_forward(x, y, -0.1f, 1), Catch::Contains("must be in [0, 1]"));
  REQUIRE_THROWS_WITH(kernels::dropout_forward(x, y_bad, 0.5f, 1), Catch::Contains("shapes differ"));
  REQUIRE_THROWS_WITH(kernels::dropout_backward(x, y_bad, 0.5f, 1), Catch::Contains("shapes differ"));
  View y_other = y.view();
  y_other.device = Device::cuda;
  REQUIRE_THROWS_WITH(kernels::dropout_forward(x, y_other, 0.5f, 1), Catch::Contains("different devices"));
}
