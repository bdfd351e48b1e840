// conv2d: gradient check of the reference, PyTorch golden comparison through the tape op (both CPU paths), im2col
// path against the reference, launcher errors.
#include <catch2/catch.hpp>

#include <string>

#include "conv_cases.h"
#include "each_isa.h"
#include "engine/ops.h"
#include "engine/threads.h"
#include "kernels/conv2d.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;
using kernels::Conv2dParams;

namespace {
// Float32 tolerances, |a - r| <= atol + rtol |r|. The longest reductions here are 11x11x3 = 363 products of
// unit-variance numbers (forward and d_x), whose float32 rounding error grows like sqrt(363) * 2^-24 * |sum of
// products| ~ 1e-5 on these data; 1e-4 leaves headroom for summation order (Eigen's blocked GEMM vs sequential
// loops) while an indexing or padding bug changes outputs by O(1).
constexpr double kAtol = 1e-4, kRtol = 1e-4;

Conv2dParams params_from(const Golden& g) {
  const std::vector<float>& v = g.at("params").data;
  REQUIRE(v.size() == 7);
  auto i = [&](size_t k) { return static_cast<int>(v[k]); };
  return Conv2dParams{i(0), i(1), i(2), i(3), i(4), i(5), i(6)};
}

void check_close(const char* what, const View& a, const Tensor& r) {
  INFO(what << ": shape " << a.shape.str() << " vs golden " << r.shape().str());
  REQUIRE(a.shape == r.shape());
  const double ratio = tolerance_ratio(a.data, r.data(), static_cast<size_t>(r.numel()), kAtol, kRtol);
  INFO(what << ": worst |a - r| / (atol + rtol |r|) = " << ratio);
  CHECK(ratio <= 1.0);
}
}  // namespace

TEST_CASE("conv2d reference gradient matches finite differences", "[conv2d][gradcheck]") {
  uint64_t seed = 100;
  for (const Conv2dCase& c : conv2d_cases()) {
    INFO(c.name);
    const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
    GradCheckOp op;
    op.inputs = {random_vector(static_cast<size_t>(c.x.numel()), seed++),
                 random_vector(static_cast<size_t>(c.w.numel()), seed++)};
    if (c.bias) op.inputs.push_back(random_vector(static_cast<size_t>(g.k), seed++));
    op.differentiable.assign(op.inputs.size(), true);
    op.output_size = static_cast<size_t>(g.n * g.k * g.ho * g.wo);
    const bool bias = c.bias;
    op.forward = [g, bias](auto& x, double* y) {
      kernels::ref::conv2d_forward<double>(g, x[0], x[1], bias ? x[2] : nullptr, y);
    };
    op.backward = [g, bias](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::conv2d_backward<double>(g, x[0], x[1], d_y, d_x[0], d_x[1], bias ? d_x[2] : nullptr);
    };
    GradCheckResult r = grad_check(op);
    INFO(r.worst);
    size_t expected = 0;
    for (const auto& in : op.inputs) expected += std::min<size_t>(in.size(), 400);
    CHECK(r.checked == expected);  // d_x, d_w and d_b all checked, nothing skipped (conv has no kinks)
    CHECK(r.max_error < 1e-7);     // linear in each input: only rounding separates the two (seen <= 7e-9)
  }
}

TEST_CASE("conv2d reference backward accumulates", "[conv2d][gradcheck]") {
  const Conv2dCase c = conv2d_cases()[1];
  const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
  const std::vector<double> x = random_vector(static_cast<size_t>(c.x.numel()), 1),
                            w = random_vector(static_cast<size_t>(c.w.numel()), 2),
                            d_y = random_vector(static_cast<size_t>(g.n * g.k * g.ho * g.wo), 3);
  std::vector<double> d_x(x.size()), d_w(w.size()), d_b(static_cast<size_t>(g.k));
  kernels::ref::conv2d_backward<double>(g, x.data(), w.data(), d_y.data(), d_x.data(), d_w.data(), d_b.data());
  const std::vector<double> once_x = d_x, once_w = d_w, once_b = d_b;
  kernels::ref::conv2d_backward<double>(g, x.data(), w.data(), d_y.data(), d_x.data(), d_w.data(), d_b.data());
  for (size_t i = 0; i < d_x.size(); ++i) CHECK(d_x[i] == Approx(2 * once_x[i]).margin(1e-12));
  for (size_t i = 0; i < d_w.size(); ++i) CHECK(d_w[i] == Approx(2 * once_w[i]).margin(1e-12));
  for (size_t i = 0; i < d_b.size(); ++i) CHECK(d_b[i] == Approx(2 * once_b[i]).margin(1e-12));
}

TEST_CASE("conv2d matches PyTorch forward and backward through the tape", "[conv2d][golden]") {
  for (const char* name : {"conv2d_3x3_pad1", "conv2d_groups2_asym", "conv2d_11x11_stride4", "conv2d_1x1_groups2",
                           "conv2d_4x4_stride3x4_asym", "conv2d_1x1_stride2_pad"}) {
    for (kernels::CpuPath path : {kernels::CpuPath::fast, kernels::CpuPath::reference}) {
      INFO(name << (path == kernels::CpuPath::fast ? " (im2col)" : " (reference)"));
      CpuPathScope scope(path);
      const Golden gold = read_golden(name);
      const bool has_bias = gold.count("b") > 0;
      Tensor x = golden_tensor(gold, "x"), w = golden_tensor(gold, "w");
      Tensor b = has_bias ? golden_tensor(gold, "b") : Tensor();
      Tape t;
      Var xv = t.leaf(x.view(), true), wv = t.leaf(w.view(), true);
      Var bv = has_bias ? t.leaf(b.view(), true) : Var{};
      Var y = ops::conv2d(t, xv, wv, bv, params_from(gold));
      check_close("y", t.value(y), golden_tensor(gold, "y"));
      // d/dθ sum(y * d_y) = J^T d_y
      Var loss = ops::sum(t, ops::mul(t, y, t.constant(golden_tensor(gold, "d_y"))));
      t.backward(loss);
      check_close("d_x", t.grad(xv), golden_tensor(gold, "d_x"));
      check_close("d_w", t.grad(wv), golden_tensor(gold, "d_w"));
      if (has_bias) check_close("d_b", t.grad(bv), golden_tensor(gold, "d_b"));
    }
  }
}

TEST_CASE("conv2d im2col path matches the reference", "[conv2d][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  uint64_t seed = 200;
  for (const Conv2dCase& c : conv2d_cases()) {
    INFO(c.name);
    const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
    const Shape ys{g.n, g.k, g.ho, g.wo};
    Tensor x = random_tensor(c.x, seed++), w = random_tensor(c.w, seed++), d_y = random_tensor(ys, seed++);
    Tensor b = c.bias ? random_tensor(Shape{g.k}, seed++) : Tensor();
    Tensor y_ref = Tensor::empty(ys), y_fast = Tensor::empty(ys);
    kernels::ref::conv2d_forward<float>(g, x.data(), w.data(), b.data(), y_ref.data());
    kernels::cpu_kernels().im2col_conv2d_forward(g, x.data(), w.data(), b.data(), y_fast.data());
    CHECK(tolerance_ratio(y_fast.data(), y_ref.data(), static_cast<size_t>(y_ref.numel()), kAtol, kRtol) <= 1.0);

    // Gradients start from the same non-zero values, so a path that overwrites instead of accumulating fails.
    Tensor dx_ref = random_tensor(c.x, 7), dw_ref = random_tensor(c.w, 8), db_ref = random_tensor(Shape{g.k}, 9);
    Tensor dx_fast = dx_ref.clone(), dw_fast = dw_ref.clone(), db_fast = db_ref.clone();
    kernels::ref::conv2d_backward<float>(g, x.data(), w.data(), d_y.data(), dx_ref.data(), dw_ref.data(),
                                         db_ref.data());
    kernels::cpu_kernels().im2col_conv2d_backward(g, x.data(), w.data(), d_y.data(), dx_fast.data(), dw_fast.data(),
                                     db_fast.data());
    CHECK(tolerance_ratio(dx_fast.data(), dx_ref.data(), static_cast<size_t>(dx_ref.numel()), kAtol, kRtol) <= 1.0);
    CHECK(tolerance_ratio(dw_fast.data(), dw_ref.data(), static_cast<size_t>(dw_ref.numel()), kAtol, kRtol) <= 1.0);
    CHECK(tolerance_ratio(db_fast.data(), db_ref.data(), static_cast<size_t>(db_ref.numel()), kAtol, kRtol) <= 1.0);

    // Only some gradients wanted: the others are null and untouched.
    Tensor dw_only = Tensor::zeros(c.w), dw_only_ref = Tensor::zeros(c.w);
    kernels::cpu_kernels().im2col_conv2d_backward(g, x.data(), w.data(), d_y.data(), nullptr, dw_only.data(), nullptr);
    kernels::ref::conv2d_backward<float>(g, x.data(), w.data(), d_y.data(), nullptr, dw_only_ref.data(), nullptr);
    CHECK(tolerance_ratio(dw_only.data(), dw_only_ref.data(), static_cast<size_t>(c.w.numel()), kAtol, kRtol) <= 1.0);

    // The launcher follows cpu_path(): bit-identical to the function it dispatches to.
    Tensor y_launch = Tensor::empty(ys);
    {
      CpuPathScope scope(kernels::CpuPath::reference);
      kernels::conv2d_forward(x, w, b, y_launch, c.p);
      CHECK(max_abs_diff(y_launch.to_vector(), y_ref.to_vector()) == 0.0);
    }
    {
      CpuPathScope scope(kernels::CpuPath::fast);
      kernels::conv2d_forward(x, w, b, y_launch, c.p);
      CHECK(max_abs_diff(y_launch.to_vector(), y_fast.to_vector()) == 0.0);
    }
  }
}

TEST_CASE("conv2d im2col path on maps large enough for several bands, 1 and 2 threads", "[conv2d][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  // The path cuts the output rows into bands of ~max(256, 65536 / (Cg*kh*kw)) columns (kernels/cpu/conv2d_im2col.cpp);
  // these maps make 4 or more bands, so at 2 threads bands run in parallel (the input gradient's scatter in two
  // phases) and at 1 thread one after another; a partial last band, strides, asymmetric padding, groups and the
  // no-unrolling 1x1 case are among them. (The small cases of conv2d_cases() have one band.)
  const Conv2dCase cases[] = {
      {"3x3 pad 1, 32 channels, 60x20", Shape{1, 32, 60, 20}, Shape{4, 32, 3, 3}, true, {1, 1, 1, 1, 1, 1, 1}},
      {"5x5 stride 2, groups 2, asymmetric pad", Shape{1, 32, 121, 33}, Shape{4, 16, 5, 5}, true,
       {2, 2, 1, 2, 2, 0, 2}},
      {"11x11 stride 4 (AlexNet conv1)", Shape{1, 3, 167, 103}, Shape{3, 3, 11, 11}, false, {4, 4, 0, 0, 0, 0, 1}},
      {"1x1 no unrolling, 260 channels", Shape{1, 260, 64, 17}, Shape{3, 260, 1, 1}, true, {1, 1, 0, 0, 0, 0, 1}},
      // stride 1: the input gradient runs as a convolution of d_y with flipped, transposed filters
      {"3x2 stride 1, groups 2, asymmetric pad", Shape{2, 64, 50, 30}, Shape{96, 32, 3, 2}, true,
       {1, 1, 2, 0, 1, 1, 2}},
  };
  const int saved_threads = num_threads();
  uint64_t seed = 300;
  for (const Conv2dCase& c : cases) {
    const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
    const Shape ys{g.n, g.k, g.ho, g.wo};
    Tensor x = random_tensor(c.x, seed++), w = random_tensor(c.w, seed++), d_y = random_tensor(ys, seed++);
    Tensor b = c.bias ? random_tensor(Shape{g.k}, seed++) : Tensor();
    Tensor y_ref = Tensor::empty(ys);
    kernels::ref::conv2d_forward<float>(g, x.data(), w.data(), b.data(), y_ref.data());
    Tensor dx_start = random_tensor(c.x, 7), dw_start = random_tensor(c.w, 8);
    Tensor dx_ref = dx_start.clone(), dw_ref = dw_start.clone();
    kernels::ref::conv2d_backward<float>(g, x.data(), w.data(), d_y.data(), dx_ref.data(), dw_ref.data(), nullptr);
    for (int threads : {1, 2}) {
      INFO(c.name << ", " << threads << " threads");
      set_num_threads(threads);
      Tensor y = Tensor::empty(ys), dx = dx_start.clone(), dw = dw_start.clone();
      kernels::cpu_kernels().im2col_conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
      kernels::cpu_kernels().im2col_conv2d_backward(g, x.data(), w.data(), d_y.data(), dx.data(), dw.data(), nullptr);
      CHECK(tolerance_ratio(y.data(), y_ref.data(), static_cast<size_t>(y.numel()), kAtol, kRtol) <= 1.0);
      CHECK(tolerance_ratio(dx.data(), dx_ref.data(), static_cast<size_t>(dx.numel()), kAtol, kRtol) <= 1.0);
      CHECK(tolerance_ratio(dw.data(), dw_ref.data(), static_cast<size_t>(dw.numel()), kAtol, kRtol) <= 1.0);
    }
  }
  set_num_threads(saved_threads);
}

TEST_CASE("conv2d rejects inconsistent shapes, devices and parameters", "[conv2d][errors]") {
  auto forward = [](const Shape& xs, const Shape& ws, const Conv2dParams& p) {
    Tensor x = Tensor::zeros(xs), w = Tensor::zeros(ws);
    Tape t;
    ops::conv2d(t, t.leaf(x.view(), false), t.leaf(w.view(), false), Var{}, p);
  };
  const Conv2dParams plain = Conv2dParams::symmetric(1, 0);
  REQUIRE_THROWS_WITH(forward(Shape{1, 3, 8, 8}, Shape{4, 2, 3, 3}, plain), Catch::Contains("input channels"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 3, 8, 8}, Shape{4, 1, 3, 3}, Conv2dParams::symmetric(1, 0, 2)),
                      Catch::Contains("groups = 2 does not divide"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 4, 8, 8}, Shape{3, 2, 3, 3}, Conv2dParams::symmetric(1, 0, 2)),
                      Catch::Contains("3 filters"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 3, 4, 4}, Shape{2, 3, 7, 7}, Conv2dParams::symmetric(1, 1)),
                      Catch::Contains("output would be empty"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 3, 8, 8}, Shape{2, 3, 3, 3}, Conv2dParams::symmetric(0, 0)),
                      Catch::Contains("stride must be >= 1"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 3, 8, 8}, Shape{2, 3, 3, 3}, Conv2dParams{1, 1, -1, 0, 0, 0, 1}),
                      Catch::Contains("padding must be >= 0"));
  REQUIRE_THROWS_WITH(forward(Shape{3, 8, 8}, Shape{2, 3, 3, 3}, plain), Catch::Contains("must be 4-d"));

  Tensor x = Tensor::zeros(Shape{1, 3, 8, 8}), w = Tensor::zeros(Shape{2, 3, 3, 3});
  Tensor y = Tensor::zeros(Shape{1, 2, 6, 6}), b = Tensor::zeros(Shape{3});
  REQUIRE_THROWS_WITH(kernels::conv2d_forward(x, w, b, y, plain), Catch::Contains("bias has shape [3]"));
  Tensor y_bad = Tensor::zeros(Shape{1, 2, 5, 6});
  REQUIRE_THROWS_WITH(kernels::conv2d_forward(x, w, View(), y_bad, plain), Catch::Contains("output has shape"));
  // Host memory labelled as CUDA: the launcher must refuse before touching it.
  View w_cuda(w.data(), w.shape(), Device::cuda);
  REQUIRE_THROWS_WITH(kernels::conv2d_forward(x, w_cuda, View(), y, plain), Catch::Contains("different devices"));
  View dw_cuda(w.data(), w.shape(), Device::cuda);
  REQUIRE_THROWS_WITH(kernels::conv2d_backward(x, w, y, View(), dw_cuda, View(), plain),
                      Catch::Contains("different devices"));
}
