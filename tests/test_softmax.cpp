// softmax over dim 1: gradient check of the reference, stability with large logits, PyTorch golden comparison
// through the tape op, and bad operands.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops.h"
#include "kernels/softmax.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

TEST_CASE("softmax reference gradient matches finite differences", "[softmax][gradcheck]") {
  struct Case {
    int64_t n, c, inner;
  };
  for (const Case cs : {Case{2, 5, 7}, Case{3, 10, 1}, Case{1, 1, 4}, Case{1, 3, 13}}) {
    const size_t size = static_cast<size_t>(cs.n * cs.c * cs.inner);
    GradCheckOp op;
    op.inputs = {random_vector(size, 60 + static_cast<uint64_t>(cs.c), -3, 3)};
    op.differentiable = {true};
    op.output_size = size;
    op.forward = [cs](auto& x, double* y) { kernels::ref::softmax_forward(cs.n, cs.c, cs.inner, x[0], y); };
    op.backward = [cs, size](auto& x, const double* d_y, auto& d_x) {
      std::vector<double> y(size);
      kernels::ref::softmax_forward(cs.n, cs.c, cs.inner, x[0], y.data());
      kernels::ref::softmax_backward(cs.n, cs.c, cs.inner, y.data(), d_y, d_x[0]);
    };
    GradCheckResult r = grad_check(op);
    INFO("n " << cs.n << " c " << cs.c << " inner " << cs.inner << ": " << r.worst);
    CHECK(r.checked == size);
    CHECK(r.max_error < 1e-8);
  }
}

TEST_CASE("softmax sums to one per pixel and survives large logits", "[softmax]") {
  // [1, 3, 1, 2]: pixel 0 has logits around 1000 (exp overflows without the max), pixel 1 around -1000
  Tensor x = Tensor::from({1000, -1000, 1001, -999, 999, -1001}, Shape{1, 3, 1, 2});
  Tensor y = Tensor::empty(x.shape());
  kernels::softmax_forward(x, y);
  const std::vector<float> v = y.to_vector();
  const double e1 = std::exp(1.0), total = 1 + e1 + 1 / e1;
  for (int px = 0; px < 2; ++px) {
    CHECK(v[static_cast<size_t>(0 + px)] == Approx(1 / total).epsilon(1e-6));
    CHECK(v[static_cast<size_t>(2 + px)] == Approx(e1 / total).epsilon(1e-6));
    CHECK(v[static_cast<size_t>(4 + px)] == Approx(1 / e1 / total).epsilon(1e-6));
  }
}

TEST_CASE("softmax matches PyTorch forward and backward", "[softmax][golden]") {
  for (const char* name : {"softmax_nchw", "softmax_nc", "softmax_large_logits"}) {
    INFO(name);
    Golden gold = read_golden(name);
    Tensor x = golden_tensor(gold, "x"), d_y = golden_tensor(gold, "d_y");
    Tensor y_ref = golden_tensor(gold, "y"), dx_ref = golden_tensor(gold, "d_x");
    Tape t;
    Var xv = t.leaf(x.view(), true);
    Var y = ops::softmax(t, xv);
    // the large-logit case stores x ~ 1000 in float: x itself is rounded by ~3e-5, so y moves by that relative
    const double rtol = std::string(name) == "softmax_large_logits" ? 2e-4 : 1e-5;
    CHECK(tolerance_ratio(t.value(y).data, y_ref.data(), static_cast<size_t>(y_ref.numel()), 1e-7, rtol) <= 1.0);
    Var loss = ops::sum(t, ops::mul(t, y, t.constant(d_y.clone())));
    t.backward(loss);
    CHECK(tolerance_ratio(t.grad(xv).data, dx_ref.data(), static_cast<size_t>(dx_ref.numel()), 1e-6, rtol) <= 1.0);
  }
}

TEST_CASE("softmax rejects bad operands", "[softmax][errors]") {
  Tensor x = Tensor::zeros(Shape{2, 3});
  Tensor y_bad = Tensor::zeros(Shape{3, 2});
  REQUIRE_THROWS_WITH(kernels::softmax_forward(x, y_bad), Catch::Contains("shapes differ"));
  Tensor flat = Tensor::zeros(Shape{6});
  REQUIRE_THROWS_WITH(kernels::softmax_forward(flat, flat), Catch::Contains("at least 2 dims"));
  Tensor y = Tensor::zeros(Shape{2, 3});
  REQUIRE_THROWS_WITH(kernels::softmax_backward(y, x, y_bad), Catch::Contains("shapes differ"));
  View y_other = y.view();
  y_other.device = Device::cuda;
  REQUIRE_THROWS_WITH(kernels::softmax_forward(x, y_other), Catch::Contains("different devices"));
}
