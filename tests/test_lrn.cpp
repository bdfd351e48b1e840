// LRN: gradient check of the analytic backward, Caffe's formula on a hand-sized case, MatConvNet parameter
// conversion, PyTorch golden comparison through the tape op, and bad operands.
#include <catch2/catch.hpp>

#include <cmath>

#include "conv_cases.h"
#include "each_isa.h"
#include "engine/ops.h"
#include "engine/threads.h"
#include "kernels/lrn.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;
using kernels::LrnParams;

TEST_CASE("lrn reference gradient matches finite differences", "[lrn][gradcheck]") {
  struct Case {
    int64_t n, c, hw;
    LrnParams p;
  };
  // strong alpha so the cross-channel term matters; odd and even windows, a window wider than C, size 1
  const Case cases[] = {
      {2, 7, 6, {5, 1.5f, 0.75f, 2.0f}},   {1, 9, 5, {3, 2.0f, 0.6f, 1.0f}},  {1, 6, 4, {4, 1.0f, 0.75f, 1.0f}},
      {2, 3, 5, {7, 0.8f, 1.3f, 0.5f}},    {1, 5, 3, {1, 3.0f, 0.75f, 1.0f}}, {1, 8, 1, {5, 1e-4f, 0.75f, 1.0f}},
  };
  int idx = 0;
  for (const Case& cs : cases) {
    GradCheckOp op;
    op.inputs = {random_vector(static_cast<size_t>(cs.n * cs.c * cs.hw), 40 + static_cast<uint64_t>(idx), -2, 2)};
    op.differentiable = {true};
    op.output_size = op.inputs[0].size();
    op.forward = [cs](auto& x, double* y) { kernels::ref::lrn_forward(cs.n, cs.c, cs.hw, cs.p, x[0], y); };
    op.backward = [cs](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::lrn_backward(cs.n, cs.c, cs.hw, cs.p, x[0], d_y, d_x[0]);
    };
    GradCheckResult r = grad_check(op);
    INFO("case " << idx << " size " << cs.p.size << ": " << r.worst);
    CHECK(r.checked == op.inputs[0].size());
    CHECK(r.max_error < 1e-7);
    ++idx;
  }
}

TEST_CASE("lrn follows Caffe's window and alpha / size", "[lrn]") {
  // C = 4, one pixel, size 3 (window [c-1, c+1]) and size 4 (Caffe: [c-1, c+2])
  const std::vector<double> x = {1, 2, 3, 4};
  for (int size : {3, 4}) {
    LrnParams p{size, 0.6f, 0.75f, 2.0f};
    std::vector<double> y(4);
    kernels::ref::lrn_forward(1, 4, 1, p, x.data(), y.data());
    for (int c = 0; c < 4; ++c) {
      double sum = 0;
      for (int q = c - (size - 1) / 2; q <= c + size / 2; ++q)
        if (q >= 0 && q < 4) sum += x[static_cast<size_t>(q)] * x[static_cast<size_t>(q)];
      const double expect = x[static_cast<size_t>(c)] / std::pow(2.0 + double(0.6f) / size * sum, 0.75);
      INFO("size " << size << " c " << c);
      CHECK(y[static_cast<size_t>(c)] == Approx(expect).epsilon(1e-14));
    }
  }
}

TEST_CASE("lrn_params_from_matconvnet multiplies alpha by the window size", "[lrn]") {
  // Caffe's AlexNet norm1 (size 5, alpha 1e-4, beta 0.75, k 1) reads [5 1 2e-5 0.75] in MatConvNet's convention
  const LrnParams p = kernels::lrn_params_from_matconvnet(5, 1.0f, 2e-5f, 0.75f);
  CHECK(p.size == 5);
  CHECK(p.k == 1.0f);
  CHECK(p.alpha == Approx(1e-4f));
  CHECK(p.beta == 0.75f);
  // same output as MatConvNet's formula y = x (kappa + alpha' sum x^2)^-beta
  const std::vector<double> x = {3, -1, 4, 1, -5, 9};
  std::vector<double> y(6);
  kernels::ref::lrn_forward(1, 6, 1, kernels::lrn_params_from_matconvnet(3, 1.0f, 0.25f, 0.5f), x.data(), y.data());
  const double s2 = 1.0 + 0.25 * (-1.0 * -1 + 4 * 4 + 1 * 1);  // channel 2, window [1, 3]
  CHECK(y[2] == Approx(4.0 / std::sqrt(s2)).epsilon(1e-6));
}

TEST_CASE("lrn matches PyTorch local_response_norm forward and backward", "[lrn][golden]") {
  for (const char* name : {"lrn_alexnet_k1", "lrn_alexnet_k2", "lrn_strong"}) {
    INFO(name);
    Golden gold = read_golden(name);
    Tensor x = golden_tensor(gold, "x"), d_y = golden_tensor(gold, "d_y");
    Tensor y_ref = golden_tensor(gold, "y"), dx_ref = golden_tensor(gold, "d_x");
    std::vector<float> pv = golden_tensor(gold, "params").to_vector();
    const LrnParams p{static_cast<int>(pv[0]), pv[1], pv[2], pv[3]};
    Tape t;
    Var xv = t.leaf(x.view(), true);
    Var y = ops::lrn(t, xv, p);
    // float pow and sums of up to 5 squares vs float64: a few ulp relative
    CHECK(tolerance_ratio(t.value(y).data, y_ref.data(), static_cast<size_t>(y_ref.numel()), 1e-6, 1e-5) <= 1.0);
    Var loss = ops::sum(t, ops::mul(t, y, t.constant(d_y.clone())));
    t.backward(loss);
    CHECK(tolerance_ratio(t.grad(xv).data, dx_ref.data(), static_cast<size_t>(dx_ref.numel()), 1e-6, 1e-5) <= 1.0);
  }
}

TEST_CASE("lrn pixelblock path matches the reference at 1 and 2 threads", "[lrn][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  struct Case {
    int64_t n, c, hw;
    LrnParams p;
  };
  // hw: partial last block (70 = 64 + 6), less than a block, AlexNet norm2's 27x27 (parallel); windows odd, even,
  // 1 and wider than C; beta 0.75 (the models) and others; x up to +-30 so the cross-channel term matters
  const Case cases[] = {
      {2, 7, 70, {5, 1.5e-2f, 0.75f, 2.0f}}, {1, 9, 5, {4, 2e-2f, 0.6f, 1.0f}},   {1, 3, 130, {7, 1e-2f, 1.3f, 0.5f}},
      {1, 5, 64, {1, 3e-2f, 0.75f, 1.0f}},    {1, 96, 729, {5, 1e-4f, 0.75f, 1.0f}}, {2, 40, 300, {5, 5e-4f, 0.75f, 2.0f}},
  };
  // float32 with exp/log in place of pow, sums in another order: a few ulp of the values
  constexpr double atol = 1e-6, rtol = 2e-6;
  const int saved_threads = num_threads();
  uint64_t seed = 900;
  for (const Case& cs : cases) {
    const Shape shape{cs.n, cs.c, cs.hw};
    Tensor x = random_tensor(shape, seed++, -30, 30), d_y = random_tensor(shape, seed++);
    Tensor y_ref = Tensor::empty(shape);
    kernels::ref::lrn_forward(cs.n, cs.c, cs.hw, cs.p, x.data(), y_ref.data());
    // Gradients start from the same non-zero values, so a path that overwrites instead of accumulating fails.
    Tensor dx_ref = random_tensor(shape, seed++);
    Tensor dx_start = dx_ref.clone();
    kernels::ref::lrn_backward(cs.n, cs.c, cs.hw, cs.p, x.data(), d_y.data(), dx_ref.data());
    for (int threads : {1, 2}) {
      INFO(cs.n << "x" << cs.c << "x" << cs.hw << " size " << cs.p.size << " beta " << cs.p.beta << ", " << threads
                << " threads");
      set_num_threads(threads);
      Tensor y = Tensor::empty(shape), dx = dx_start.clone();
      kernels::cpu_kernels().pixelblock_lrn_forward(cs.n, cs.c, cs.hw, cs.p, x.data(), y.data());
      kernels::cpu_kernels().pixelblock_lrn_backward(cs.n, cs.c, cs.hw, cs.p, x.data(), d_y.data(), dx.data());
      CHECK(tolerance_ratio(y.data(), y_ref.data(), static_cast<size_t>(y.numel()), atol, rtol) <= 1.0);
      CHECK(tolerance_ratio(dx.data(), dx_ref.data(), static_cast<size_t>(dx.numel()), atol, rtol) <= 1.0);
      // The launcher follows cpu_path(): bit-identical to the function it dispatches to.
      for (auto path : {kernels::CpuPath::reference, kernels::CpuPath::fast}) {
        CpuPathScope scope(path);
        Tensor y_launch = Tensor::empty(shape), dx_launch = dx_start.clone();
        kernels::lrn_forward(x, y_launch, cs.p);
        kernels::lrn_backward(x, d_y, dx_launch, cs.p);
        const bool fast = path == kernels::CpuPath::fast;
        CHECK(max_abs_diff(y_launch.to_vector(), fast ? y.to_vector() : y_ref.to_vector()) == 0.0);
        CHECK(max_abs_diff(dx_launch.to_vector(), fast ? dx.to_vector() : dx_ref.to_vector()) == 0.0);
      }
    }
  }
  set_num_threads(saved_threads);
}

TEST_CASE("lrn rejects bad operands", "[lrn][errors]") {
  Tensor x = Tensor::zeros(Shape{1, 4, 2, 2});
  Tensor y = Tensor::zeros(Shape{1, 4, 2, 2});
  Tensor y_bad = Tensor::zeros(Shape{1, 4, 2, 3});
  REQUIRE_THROWS_WITH(kernels::lrn_forward(x, y_bad, LrnParams{}), Catch::Contains("output has shape"));
  REQUIRE_THROWS_WITH(kernels::lrn_forward(x, y, LrnParams{0, 1e-4f, 0.75f, 1.0f}), Catch::Contains("window size"));
  REQUIRE_THROWS_WITH(kernels::lrn_forward(x, y, LrnParams{5, 1e-4f, 0.75f, 0.0f}), Catch::Contains("k > 0"));
  Tensor flat = Tensor::zeros(Shape{4});
  REQUIRE_THROWS_WITH(kernels::lrn_forward(flat, flat, LrnParams{}), Catch::Contains("at least 2 dims"));
  REQUIRE_THROWS_WITH(kernels::lrn_backward(x, y, y_bad, LrnParams{}), Catch::Contains("d_x has shape"));
  View y_other = y.view();
  y_other.device = Device::cuda;
  REQUIRE_THROWS_WITH(kernels::lrn_forward(x, y_other, LrnParams{}), Catch::Contains("different devices"));
}
