// linear: gradient check of the reference, PyTorch golden comparison through the tape op (both CPU paths; x of
// any trailing shape is flattened), GEMM path against the reference, launcher errors.
#include <catch2/catch.hpp>

#include "conv_cases.h"
#include "each_isa.h"
#include "engine/ops.h"
#include "kernels/linear.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {
// Float32 tolerances as in tests/test_conv2d.cpp; the reductions here are at most 12 (forward, d_w: N <= 3) long.
constexpr double kAtol = 1e-5, kRtol = 1e-5;

struct LinearCase {
  int64_t n, in, out;
  bool bias;
};
const LinearCase kCases[] = {{3, 7, 5, true}, {1, 1, 3, false}, {4, 37, 9, true}, {2, 300, 2, true}};

void check_close(const char* what, const View& a, const Tensor& r) {
  INFO(what << ": shape " << a.shape.str() << " vs golden " << r.shape().str());
  REQUIRE(a.shape == r.shape());
  CHECK(tolerance_ratio(a.data, r.data(), static_cast<size_t>(r.numel()), kAtol, kRtol) <= 1.0);
}
}  // namespace

TEST_CASE("linear reference gradient matches finite differences", "[linear][gradcheck]") {
  uint64_t seed = 600;
  for (const LinearCase& c : kCases) {
    INFO(c.n << "x" << c.in << " -> " << c.out);
    GradCheckOp op;
    op.inputs = {random_vector(static_cast<size_t>(c.n * c.in), seed++),
                 random_vector(static_cast<size_t>(c.out * c.in), seed++)};
    if (c.bias) op.inputs.push_back(random_vector(static_cast<size_t>(c.out), seed++));
    op.differentiable.assign(op.inputs.size(), true);
    op.output_size = static_cast<size_t>(c.n * c.out);
    op.forward = [c](auto& x, double* y) {
      kernels::ref::linear_forward<double>(c.n, c.in, c.out, x[0], x[1], c.bias ? x[2] : nullptr, y);
    };
    op.backward = [c](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::linear_backward<double>(c.n, c.in, c.out, x[0], x[1], d_y, d_x[0], d_x[1],
                                            c.bias ? d_x[2] : nullptr);
    };
    GradCheckResult r = grad_check(op);
    INFO(r.worst);
    size_t expected = 0;
    for (const auto& in : op.inputs) expected += std::min<size_t>(in.size(), 400);
    CHECK(r.checked == expected);
    CHECK(r.max_error < 1e-7);
  }
}

TEST_CASE("linear matches PyTorch forward and backward through the tape", "[linear][golden]") {
  for (const char* name : {"linear_7_to_5", "linear_flatten", "linear_1_to_3_nobias"}) {
    for (kernels::CpuPath path : {kernels::CpuPath::fast, kernels::CpuPath::reference}) {
      INFO(name << (path == kernels::CpuPath::fast ? " (gemm)" : " (reference)"));
      CpuPathScope scope(path);
      const Golden gold = read_golden(name);
      const bool has_bias = gold.count("b") > 0;
      Tensor x = golden_tensor(gold, "x"), w = golden_tensor(gold, "w");
      Tensor b = has_bias ? golden_tensor(gold, "b") : Tensor();
      Tape t;
      Var xv = t.leaf(x.view(), true), wv = t.leaf(w.view(), true);
      Var bv = has_bias ? t.leaf(b.view(), true) : Var{};
      Var y = ops::linear(t, xv, wv, bv);
      check_close("y", t.value(y), golden_tensor(gold, "y"));
      Var loss = ops::sum(t, ops::mul(t, y, t.constant(golden_tensor(gold, "d_y"))));
      t.backward(loss);
      check_close("d_x", t.grad(xv), golden_tensor(gold, "d_x"));  // keeps x's [N, ...] shape
      check_close("d_w", t.grad(wv), golden_tensor(gold, "d_w"));
      if (has_bias) check_close("d_b", t.grad(bv), golden_tensor(gold, "d_b"));
    }
  }
}

TEST_CASE("linear GEMM path matches the reference", "[linear][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  // The 300-long case: float32 error ~ sqrt(300) 2^-24 |terms| ~ 1e-6 relative to sums of size ~10.
  constexpr double atol = 1e-4, rtol = 1e-4;
  uint64_t seed = 700;
  for (const LinearCase& c : kCases) {
    INFO(c.n << "x" << c.in << " -> " << c.out);
    Tensor x = random_tensor(Shape{c.n, c.in}, seed++), w = random_tensor(Shape{c.out, c.in}, seed++);
    Tensor b = c.bias ? random_tensor(Shape{c.out}, seed++) : Tensor();
    Tensor d_y = random_tensor(Shape{c.n, c.out}, seed++);
    Tensor y_ref = Tensor::empty(Shape{c.n, c.out}), y_fast = Tensor::empty(Shape{c.n, c.out});
    kernels::ref::linear_forward<float>(c.n, c.in, c.out, x.data(), w.data(), b.data(), y_ref.data());
    kernels::cpu_kernels().gemm_linear_forward(c.n, c.in, c.out, x.data(), w.data(), b.data(), y_fast.data());
    CHECK(tolerance_ratio(y_fast.data(), y_ref.data(), static_cast<size_t>(y_ref.numel()), atol, rtol) <= 1.0);
    // Same non-zero starting gradients for both: overwriting instead of accumulating fails.
    Tensor dx_ref = random_tensor(x.shape(), 1), dw_ref = random_tensor(w.shape(), 2),
           db_ref = random_tensor(Shape{c.out}, 3);
    Tensor dx_fast = dx_ref.clone(), dw_fast = dw_ref.clone(), db_fast = db_ref.clone();
    kernels::ref::linear_backward<float>(c.n, c.in, c.out, x.data(), w.data(), d_y.data(), dx_ref.data(),
                                         dw_ref.data(), db_ref.data());
    kernels::cpu_kernels().gemm_linear_backward(c.n, c.in, c.out, x.data(), w.data(), d_y.data(), dx_fast.data(), dw_fast.data(),
                                   db_fast.data());
    CHECK(tolerance_ratio(dx_fast.data(), dx_ref.data(), static_cast<size_t>(x.numel()), atol, rtol) <= 1.0);
    CHECK(tolerance_ratio(dw_fast.data(), dw_ref.data(), static_cast<size_t>(w.numel()), atol, rtol) <= 1.0);
    CHECK(tolerance_ratio(db_fast.data(), db_ref.data(), static_cast<size_t>(c.out), atol, rtol) <= 1.0);
  }
}

TEST_CASE("linear rejects inconsistent shapes and devices", "[linear][errors]") {
  Tensor x = Tensor::zeros(Shape{2, 3, 2, 2}), w = Tensor::zeros(Shape{4, 11}), y = Tensor::zeros(Shape{2, 4});
  REQUIRE_THROWS_WITH(kernels::linear_forward(x, w, View(), y), Catch::Contains("12 per sample"));
  Tensor w12 = Tensor::zeros(Shape{4, 12}), b = Tensor::zeros(Shape{5});
  REQUIRE_THROWS_WITH(kernels::linear_forward(x, w12, b, y), Catch::Contains("bias has shape [5]"));
  Tensor w3 = Tensor::zeros(Shape{4, 12, 1});
  REQUIRE_THROWS_WITH(kernels::linear_forward(x, w3, View(), y), Catch::Contains("weight must be 2-d"));
  View w_cuda(w12.data(), w12.shape(), Device::cuda);
  REQUIRE_THROWS_WITH(kernels::linear_forward(x, w_cuda, View(), y), Catch::Contains("different devices"));
  View dw_cuda(w12.data(), w12.shape(), Device::cuda);
  REQUIRE_THROWS_WITH(kernels::linear_backward(x, w12, y, View(), dw_cuda, View()),
                      Catch::Contains("different devices"));
  Tape t;
  Var xv = t.leaf(x.view(), false);
  REQUIRE_THROWS_WITH(ops::linear(t, xv, t.leaf(w.view(), false), Var{}), Catch::Contains("12 per sample"));
}
