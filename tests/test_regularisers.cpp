// Image priors (alpha-norm, isotropic N_alpha, TV^beta) and the B+ projection: gradient checks of the references,
// PyTorch golden values and gradients (autograd of the formulas, tests/golden/gen_priors.py), hand-computed 2x2
// examples, and bad parameters.
#include <catch2/catch.hpp>

#include <cmath>

#include "each_isa.h"
#include "engine/ops.h"
#include "kernels/dispatch.h"
#include "kernels/regularisers.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {
std::vector<float> values(const View& v) { return std::vector<float>(v.data, v.data + v.numel()); }

// A scalar-valued op of one image input [n, c, h, w] for grad_check.
GradCheckOp scalar_op(std::vector<double> x, std::function<double(const double*)> f,
                      std::function<void(const double*, double, double*)> df) {
  GradCheckOp op;
  op.inputs = {std::move(x)};
  op.differentiable = {true};
  op.output_size = 1;
  op.forward = [f](auto& in, double* y) { y[0] = f(in[0]); };
  op.backward = [df](auto& in, const double* d_y, auto& d_x) { df(in[0], d_y[0], d_x[0]); };
  return op;
}

// Runs a prior through the tape with a seed d_y and returns (value, gradient).
template <typename Prior>
std::pair<float, std::vector<float>> tape_value_and_grad(const Tensor& x, float d_y, Prior prior) {
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var r = prior(t, xv);
  const float value = t.item(r);
  t.backward(r, d_y);
  return {value, values(t.grad(xv))};
}
}  // namespace

// ---------------------------------------------------------------------------------------------- gradient checks

TEST_CASE("alpha_norm reference gradient matches finite differences", "[regularisers][gradcheck]") {
  for (int64_t c : {1, 3})
    for (double alpha : {2.0, 6.0}) {
      const int64_t n = 2, h = 5, w = 7;
      GradCheckOp op = scalar_op(
          random_vector(static_cast<size_t>(n * c * h * w), 31 + c),
          [=](const double* x) { return kernels::ref::alpha_norm_forward(x, n * c, h * w, alpha); },
          [=](const double* x, double d_y, double* d_x) {
            kernels::ref::alpha_norm_backward(x, d_y, d_x, n * c, h * w, alpha);
          });
      GradCheckResult r = grad_check(op);
      INFO("C = " << c << " alpha = " << alpha << ": " << r.worst);
      CHECK(r.checked == op.inputs[0].size());
      CHECK(r.max_error < 1e-7);
    }
}

TEST_CASE("isotropic_alpha_norm reference gradient matches finite differences", "[regularisers][gradcheck]") {
  for (int64_t c : {1, 3})
    for (double alpha : {1.0, 2.0, 6.0}) {
      const int64_t n = 2, h = 5, w = 7;
      const double B = 0.7;
      GradCheckOp op = scalar_op(
          random_vector(static_cast<size_t>(n * c * h * w), 41 + c),
          [=](const double* x) { return kernels::ref::isotropic_alpha_norm_forward(x, n, c, h, w, alpha, B); },
          [=](const double* x, double d_y, double* d_x) {
            kernels::ref::isotropic_alpha_norm_backward(x, d_y, d_x, n, c, h, w, alpha, B);
          });
      GradCheckResult r = grad_check(op);
      INFO("C = " << c << " alpha = " << alpha << ": " << r.worst);
      CHECK(r.checked == op.inputs[0].size());
      CHECK(r.max_error < 1e-7);
    }
}

TEST_CASE("tv_beta reference gradient matches finite differences", "[regularisers][gradcheck]") {
  for (int64_t c : {1, 3})
    for (double beta : {1.0, 1.5, 2.0, 3.0}) {
      const int64_t n = 2, h = 5, w = 7, nc = n * c;
      const double V = 0.5;
      std::vector<double> x = random_vector(static_cast<size_t>(nc * h * w), 51 + c);
      // A flat 2x3 patch (exactly zero differences inside it) and one near-zero horizontal difference (1e-9, far
      // below the finite-difference step): the kink of beta <= 1 sits at both.
      for (int64_t v = 1; v < 3; ++v)
        for (int64_t u = 2; u < 5; ++u) x[static_cast<size_t>(v * w + u)] = 0.3;
      x[static_cast<size_t>(4 * w + 1)] = x[static_cast<size_t>(4 * w)] + 1e-9;
      GradCheckOp op = scalar_op(
          x, [=](const double* p) { return kernels::ref::tv_beta_forward(p, nc, h, w, beta, V); },
          [=](const double* p, double d_y, double* d_x) {
            kernels::ref::tv_beta_backward(p, d_y, d_x, nc, h, w, beta, V);
          });
      // For beta <= 1 the term q^(beta/2) is not differentiable at q = 0 (a kink): skip every pixel that enters a
      // term whose difference vector is zero or within a few steps of zero (its own term, the left neighbour's, the
      // upper one's). For 1 < beta < 2 the term is C^1 but its curvature is unbounded at q = 0, so a central
      // difference straddling a near-zero difference is off by O(eps^(beta - 1)): skip only those; at an exact zero
      // the difference quotient is exact by symmetry, so the flat patch is still checked there.
      op.near_kink = [x, beta, h, w](size_t, size_t e, double eps) {
        if (beta >= 2) return false;
        const int64_t idx = static_cast<int64_t>(e), plane = idx / (h * w), v = (idx / w) % h, u = idx % w;
        auto at = [&](int64_t vv, int64_t uu) { return x[static_cast<size_t>((plane * h + vv) * w + uu)]; };
        auto small_term = [&](int64_t vv, int64_t uu) {
          if (vv < 0 || uu < 0) return false;
          const double du = uu + 1 < w ? at(vv, uu + 1) - at(vv, uu) : 0.0;
          const double dv = vv + 1 < h ? at(vv + 1, uu) - at(vv, uu) : 0.0;
          const double norm = std::sqrt(du * du + dv * dv);
          return norm < 10 * eps && (beta <= 1 || norm > 0);
        };
        return small_term(v, u) || small_term(v, u - 1) || small_term(v - 1, u);
      };
      GradCheckResult r = grad_check(op);
      INFO("C = " << c << " beta = " << beta << ": " << r.worst);
      CHECK(r.max_error < 1e-6);
      CHECK(r.checked + r.skipped == x.size());
      if (beta <= 1) {
        // zero terms: each plane's bottom-right pixel (nc pixels); in the flat patch the terms at (1,2) and (1,3),
        // touching (1,2), (1,3), (1,4), (2,2), (2,3); the near-zero term at (4,0), touching (4,0) and (4,1)
        CHECK(r.skipped == static_cast<size_t>(nc + 5 + 2));
      } else if (beta < 2) {
        CHECK(r.skipped == 2);  // the near-zero pair only
      } else {
        CHECK(r.skipped == 0);
      }
    }
}

// ---------------------------------------------------------------------------------------------- golden (PyTorch)

TEST_CASE("alpha_norm matches PyTorch autograd of the formula", "[regularisers][golden]") {
  Golden g = read_golden("alpha_norm");
  Tensor x = golden_tensor(g, "x");
  const float d_y = golden_scalar(g, "d_y");
  for (int a : {2, 6}) {
    auto [value, grad] = tape_value_and_grad(
        x, d_y, [a](Tape& t, Var v) { return ops::alpha_norm(t, v, static_cast<float>(a)); });
    const std::string s = std::to_string(a);
    INFO("alpha = " << a);
    CHECK(value == Approx(golden_scalar(g, "value_a" + s)).epsilon(1e-6));
    Tensor ref = golden_tensor(g, "d_x_a" + s);
    CHECK(tolerance_ratio(grad.data(), ref.data(), grad.size(), 1e-6, 1e-5) <= 1.0);
  }
}

TEST_CASE("isotropic_alpha_norm matches PyTorch autograd of the formula", "[regularisers][golden]") {
  Golden g = read_golden("isotropic_alpha_norm");
  Tensor x = golden_tensor(g, "x");
  const float d_y = golden_scalar(g, "d_y"), B = golden_scalar(g, "B");
  for (int a : {1, 2, 6}) {
    auto [value, grad] = tape_value_and_grad(
        x, d_y, [a, B](Tape& t, Var v) { return ops::isotropic_alpha_norm(t, v, static_cast<float>(a), B); });
    const std::string s = std::to_string(a);
    INFO("alpha = " << a);
    CHECK(value == Approx(golden_scalar(g, "value_a" + s)).epsilon(1e-6));
    Tensor ref = golden_tensor(g, "d_x_a" + s);
    CHECK(tolerance_ratio(grad.data(), ref.data(), grad.size(), 1e-6, 1e-5) <= 1.0);
  }
}

TEST_CASE("tv_beta matches PyTorch autograd of the formula", "[regularisers][golden]") {
  Golden g = read_golden("tv_beta");
  Tensor x = golden_tensor(g, "x");
  const float d_y = golden_scalar(g, "d_y"), V = golden_scalar(g, "V");
  for (const char* b : {"1", "1.5", "2", "3"}) {
    const float beta = std::stof(b);
    auto [value, grad] =
        tape_value_and_grad(x, d_y, [beta, V](Tape& t, Var v) { return ops::tv_beta(t, v, beta, V); });
    INFO("beta = " << b);
    CHECK(value == Approx(golden_scalar(g, std::string("value_b") + b)).epsilon(1e-6));
    Tensor ref = golden_tensor(g, std::string("d_x_b") + b);
    CHECK(tolerance_ratio(grad.data(), ref.data(), grad.size(), 1e-6, 1e-5) <= 1.0);
  }
}

// ---------------------------------------------------------------------------------------------- hand-computed

TEST_CASE("tv_beta of a 2x2 image computed on paper", "[regularisers]") {
  // x = [[0, 1],      differences (replicated border: none past the last row / column)
  //      [2, 4]]      (0,0): du = 1, dv = 2 -> q = 5      (0,1): du = 0, dv = 3 -> q = 9
  //                   (1,0): du = 2, dv = 0 -> q = 4      (1,1): du = 0, dv = 0 -> q = 0
  // beta = 2, V = 1:  (5 + 9 + 4 + 0) / (H W = 4) = 4.5;   V = 2: 4.5 / 4 = 1.125
  // beta = 1, V = 1:  (sqrt 5 + 3 + 2 + 0) / 4 = 1.8090169943749475
  // beta = 2 gradient of (1/4)[(x01-x00)^2 + (x10-x00)^2 + (x11-x01)^2 + (x11-x10)^2]:
  //   d/dx00 = (-2*1 - 2*2)/4 = -1.5   d/dx01 = (2*1 - 2*3)/4 = -1   d/dx10 = (2*2 - 2*2)/4 = 0
  //   d/dx11 = (2*3 + 2*2)/4 = 2.5     (they sum to 0: TV ignores a constant offset)
  Tensor x = Tensor::from({0, 1, 2, 4}, Shape{1, 1, 2, 2});
  auto tv = [&](float beta, float V) {
    return tape_value_and_grad(x, 1.0f, [=](Tape& t, Var v) { return ops::tv_beta(t, v, beta, V); });
  };
  auto [v2, g2] = tv(2, 1);
  CHECK(v2 == Approx(4.5).epsilon(1e-7));
  CHECK(g2 == std::vector<float>{-1.5f, -1.0f, 0.0f, 2.5f});
  CHECK(tv(2, 2).first == Approx(1.125).epsilon(1e-7));
  CHECK(tv(1, 1).first == Approx(1.8090169943749475).epsilon(1e-7));
}

TEST_CASE("isotropic_alpha_norm of a 2x2 RGB image computed on paper", "[regularisers]") {
  // pixels (r, g, b): (0,0) = (3, 4, 0) |.|^2 = 25   (0,1) = (0, 0, 0) 0
  //                   (1,0) = (1, 2, 2) 9            (1,1) = (0, 0, -2) 4
  // alpha = 2, B = 1: (25 + 0 + 9 + 4) / 4 = 9.5;   B = 5: 9.5 / 25 = 0.38
  // alpha = 6, B = 1: (25^3 + 0 + 9^3 + 4^3) / 4 = (15625 + 729 + 64) / 4 = 4104.5
  // gradient alpha = 6, B = 1: 6 |p|^4 p / 4 per pixel: (0,0): 6 * 625 / 4 = 937.5 times (3, 4, 0);
  //   (0,1): 0 (the zero-norm pixel); (1,0): 6 * 81 / 4 = 121.5 times (1, 2, 2);
  //   (1,1): 6 * 16 / 4 = 24 times (0, 0, -2)
  // Layout [1, 3, 2, 2]: channel planes r = {3, 0, 1, 0}, g = {4, 0, 2, 0}, b = {0, 0, 2, -2}.
  Tensor x = Tensor::from({3, 0, 1, 0, 4, 0, 2, 0, 0, 0, 2, -2}, Shape{1, 3, 2, 2});
  auto na = [&](float alpha, float B) {
    return tape_value_and_grad(x, 1.0f, [=](Tape& t, Var v) { return ops::isotropic_alpha_norm(t, v, alpha, B); });
  };
  CHECK(na(2, 1).first == Approx(9.5).epsilon(1e-7));
  CHECK(na(2, 5).first == Approx(0.38).epsilon(1e-7));
  auto [v6, g6] = na(6, 1);
  CHECK(v6 == Approx(4104.5).epsilon(1e-7));
  CHECK(g6 == std::vector<float>{2812.5f, 0, 121.5f, 0, 3750.0f, 0, 243.0f, 0, 0, 0, 243.0f, -48.0f});
}

TEST_CASE("alpha_norm of a 2x2 image computed on paper, including the path through the mean", "[regularisers]") {
  // x = [[0, 1], [2, 5]], mean 2, deviations d = (-2, -1, 0, 3)
  // alpha = 2: 4 + 1 + 0 + 9 = 14, gradient 2d - mean(2d) = (-4, -2, 0, 6) (mean(d) = 0)
  // alpha = 6: 64 + 1 + 0 + 729 = 794; g = 6 d^5 = (-192, -6, 0, 1458), mean(g) = 1260 / 4 = 315,
  //   gradient g - mean(g) = (-507, -321, -315, 1143) (without the mean's path it would be g itself)
  Tensor x = Tensor::from({0, 1, 2, 5}, Shape{1, 1, 2, 2});
  auto an = [&](float alpha) {
    return tape_value_and_grad(x, 1.0f, [=](Tape& t, Var v) { return ops::alpha_norm(t, v, alpha); });
  };
  auto [v2, g2] = an(2);
  CHECK(v2 == Approx(14).epsilon(1e-7));
  CHECK(g2 == std::vector<float>{-4, -2, 0, 6});
  auto [v6, g6] = an(6);
  CHECK(v6 == Approx(794).epsilon(1e-7));
  CHECK(g6 == std::vector<float>{-507, -321, -315, 1143});
  // per image and per channel means: a second channel offset by 100 and a second image give the same terms
  Tensor x2 = Tensor::from({0, 1, 2, 5, 100, 101, 102, 105, 10, 11, 12, 15, -7, -6, -5, -2}, Shape{2, 2, 2, 2});
  CHECK(tape_value_and_grad(x2, 1.0f, [](Tape& t, Var v) { return ops::alpha_norm(t, v, 2); }).first ==
        Approx(4 * 14).epsilon(1e-7));
}

// ---------------------------------------------------------------------------------------------- projection

TEST_CASE("project_ball scales pixels outside the B+ ball onto it and leaves the others", "[regularisers]") {
  // The 2x2 RGB image above with B+ = 2.5: (3,4,0) has norm 5 -> (1.5, 2, 0); (1,2,2) has norm 3 -> times 2.5/3;
  // (0,0,0) and (0,0,-2) (norm 2) are inside and unchanged.
  Tensor x = Tensor::from({3, 0, 1, 0, 4, 0, 2, 0, 0, 0, 2, -2}, Shape{1, 3, 2, 2});
  kernels::project_ball(x, 2.5f);
  const float k = 2.5f / 3.0f;
  const std::vector<float> expected = {1.5f, 0, 1 * k, 0, 2.0f, 0, 2 * k, 0, 0, 0, 2 * k, -2};
  const std::vector<float> got = x.to_vector();
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(expected[i]).epsilon(1e-6));

  // Random batch [2, 3, 5, 7]: every pixel norm <= B+, inside pixels bit-identical, outside ones keep direction.
  const float radius = 1.2f;
  Tensor r = random_tensor(Shape{2, 3, 5, 7}, 9, -1.5f, 1.5f);
  const std::vector<float> before = r.to_vector();
  kernels::project_ball(r, radius);
  const std::vector<float> after = r.to_vector();
  int moved = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 35; ++i) {
      double nb = 0, na = 0, dot = 0;
      for (int64_t c = 0; c < 3; ++c) {
        const size_t e = static_cast<size_t>((n * 3 + c) * 35 + i);
        nb += double(before[e]) * before[e];
        na += double(after[e]) * after[e];
        dot += double(before[e]) * after[e];
      }
      if (std::sqrt(nb) <= radius) {
        for (int64_t c = 0; c < 3; ++c) {
          const size_t e = static_cast<size_t>((n * 3 + c) * 35 + i);
          CHECK(after[e] == before[e]);
        }
      } else {
        ++moved;
        CHECK(std::sqrt(na) == Approx(radius).epsilon(1e-6));
        CHECK(dot / std::sqrt(na * nb) == Approx(1.0).epsilon(1e-6));  // same direction
      }
    }
  CHECK(moved > 10);
}

// ---------------------------------------------------------------------------------------------- fast path

namespace {
// Bitwise equality of two float buffers (the simd path's gradients and projections are the reference's exactly).
size_t count_bit_differences(const std::vector<float>& a, const std::vector<float>& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += !(a[i] == b[i]);
  return n;
}
// A test image in pixel units (|x| up to ~2.5 B) with exact zeros (flat patches, zero-norm pixels) mixed in.
Tensor prior_test_image(const Shape& s, uint64_t seed) {
  Tensor x = random_tensor(s, seed, -200.0f, 200.0f);
  for (int64_t i = 0; i < x.numel(); i += 7) x.data()[i] = 0.0f;
  for (int64_t i = 3; i < x.numel(); i += 11) x.data()[i] = x.data()[i - 1];  // repeats: zero differences
  return x;
}
}  // namespace

TEST_CASE("priors: simd path equals the reference (gradients bit for bit)", "[regularisers][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  const float B = 80.0f, V = B / 6.5f;
  for (const Shape& s : {Shape{1, 1, 227, 227}, Shape{2, 3, 17, 23}, Shape{1, 3, 1, 9}, Shape{1, 1, 6, 1}}) {
    const Tensor x = prior_test_image(s, 17 + s.numel());
    const int64_t n = s.n(), c = s.c(), h = s.h(), w = s.w();
    const std::vector<float> seed_grad = random_tensor(s, 5, -1.0f, 1.0f).to_vector();  // d_x starts non-zero
    for (float e : {2.0f, 4.0f, 6.0f}) {
      INFO(s.str() << " exponent " << e);
      REQUIRE(kernels::simd::supports(e));
      // N_alpha
      const float f_ref = kernels::ref::isotropic_alpha_norm_forward(x.data(), n, c, h, w, e, B);
      const float f_simd = kernels::cpu_kernels().simd_isotropic_alpha_norm_forward(x.data(), n, c, h, w, e, B);
      CHECK(std::abs(f_simd - f_ref) <= 2e-7 * std::abs(f_ref));  // summation order only: 1 float ulp at most
      std::vector<float> g_ref = seed_grad, g_simd = seed_grad;
      kernels::ref::isotropic_alpha_norm_backward(x.data(), 0.7f, g_ref.data(), n, c, h, w, e, B);
      kernels::cpu_kernels().simd_isotropic_alpha_norm_backward(x.data(), 0.7f, g_simd.data(), n, c, h, w, e, B);
      CHECK(count_bit_differences(g_simd, g_ref) == 0);
      // TV^beta
      const float t_ref = kernels::ref::tv_beta_forward(x.data(), n * c, h, w, e, V);
      const float t_simd = kernels::cpu_kernels().simd_tv_beta_forward(x.data(), n * c, h, w, e, V);
      CHECK(std::abs(t_simd - t_ref) <= 2e-7 * std::abs(t_ref));
      g_ref = seed_grad;
      g_simd = seed_grad;
      kernels::ref::tv_beta_backward(x.data(), -1.3f, g_ref.data(), n * c, h, w, e, V);
      kernels::cpu_kernels().simd_tv_beta_backward(x.data(), -1.3f, g_simd.data(), n * c, h, w, e, V);
      CHECK(count_bit_differences(g_simd, g_ref) == 0);
    }
    // B+ projection: radius inside the range of pixel norms, so some pixels move and some do not
    std::vector<float> p_ref = x.to_vector(), p_simd = x.to_vector();
    kernels::ref::project_ball(p_ref.data(), n, c, h * w, 2 * B);
    kernels::cpu_kernels().simd_project_ball(p_simd.data(), n, c, h * w, 2 * B);
    CHECK(count_bit_differences(p_simd, p_ref) == 0);
    CHECK(count_bit_differences(p_simd, x.to_vector()) > 0);
  }
  CHECK_FALSE(kernels::simd::supports(1.0f));
  CHECK_FALSE(kernels::simd::supports(3.0f));
  CHECK_FALSE(kernels::simd::supports(2.5f));
  CHECK_FALSE(kernels::simd::supports(18.0f));
}

TEST_CASE("priors: launchers use the simd path and agree with the reference path", "[regularisers][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  const Tensor x = prior_test_image(Shape{1, 3, 31, 29}, 3);
  for (const auto& ab : std::vector<std::pair<float, float>>{{6.0f, 2.0f}, {3.0f, 1.5f}}) {
    const float alpha = ab.first, beta = ab.second;  // (C++17 lambdas cannot capture a structured binding)
    INFO("alpha " << alpha << " beta " << beta);
    auto run = [&](kernels::CpuPath path) {
      kernels::set_cpu_path(path);
      auto a = tape_value_and_grad(x, 1.0f, [&](Tape& t, Var v) { return ops::isotropic_alpha_norm(t, v, alpha, 80.0f); });
      auto b = tape_value_and_grad(x, 1.0f, [&](Tape& t, Var v) { return ops::tv_beta(t, v, beta, 12.0f); });
      kernels::set_cpu_path(kernels::CpuPath::fast);
      return std::make_pair(a, b);
    };
    const auto fast = run(kernels::CpuPath::fast), ref = run(kernels::CpuPath::reference);
    CHECK(fast.first.first == Approx(ref.first.first).epsilon(2e-7));
    CHECK(fast.second.first == Approx(ref.second.first).epsilon(2e-7));
    CHECK(count_bit_differences(fast.first.second, ref.first.second) == 0);
    CHECK(count_bit_differences(fast.second.second, ref.second.second) == 0);
  }
}

// ---------------------------------------------------------------------------------------------- errors

TEST_CASE("priors reject bad parameters and inputs", "[regularisers][errors]") {
  Tensor x = Tensor::zeros(Shape{1, 3, 4, 4});
  Tape t;
  Var xv = t.leaf(x.view(), true);
  CHECK_THROWS_WITH(ops::alpha_norm(t, xv, 0.0f), Catch::Contains("alpha = 0 must be positive"));
  CHECK_THROWS_WITH(ops::isotropic_alpha_norm(t, xv, 6.0f, 0.0f), Catch::Contains("B = 0 must be positive"));
  CHECK_THROWS_WITH(ops::isotropic_alpha_norm(t, xv, -1.0f, 80.0f), Catch::Contains("alpha = -1"));
  CHECK_THROWS_WITH(ops::tv_beta(t, xv, 0.0f, 1.0f), Catch::Contains("beta = 0 must be positive"));
  CHECK_THROWS_WITH(ops::tv_beta(t, xv, 2.0f, NAN), Catch::Contains("V = nan"));
  Tensor flat = Tensor::zeros(Shape{3, 16});
  CHECK_THROWS_WITH(ops::tv_beta(t, t.leaf(flat.view(), false), 2.0f, 1.0f), Catch::Contains("must be 4-d"));
  CHECK_THROWS_WITH(kernels::project_ball(x, 0.0f), Catch::Contains("radius = 0 must be positive"));
  CHECK_THROWS_WITH(kernels::project_ball(flat, 1.0f), Catch::Contains("must be 4-d"));
}
