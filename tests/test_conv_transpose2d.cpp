// conv_transpose2d: gradient check of the reference, adjointness with conv2d, the zero-insertion + conv
// equivalence of seed 002's up-convolution, PyTorch golden comparison through the tape op (both CPU paths), im2col
// path against the reference, launcher errors.
#include <catch2/catch.hpp>

#include <string>

#include "conv_cases.h"
#include "each_isa.h"
#include "engine/ops.h"
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;
using kernels::ConvTranspose2dParams;

namespace {
// Float32 tolerances, |a - r| <= atol + rtol |r|; same reasoning as tests/test_conv2d.cpp (longest reduction:
// d_x of the 11x11 case sums Kg*kh*kw = 242 products; observed errors are below 1e-5).
constexpr double kAtol = 1e-4, kRtol = 1e-4;

ConvTranspose2dParams params_from(const Golden& g) {
  const std::vector<float>& v = g.at("params").data;
  REQUIRE(v.size() == 9);
  auto i = [&](size_t k) { return static_cast<int>(v[k]); };
  return ConvTranspose2dParams{i(0), i(1), i(2), i(3), i(4), i(5), i(6), i(7), i(8)};
}

void check_close(const char* what, const View& a, const Tensor& r) {
  INFO(what << ": shape " << a.shape.str() << " vs golden " << r.shape().str());
  REQUIRE(a.shape == r.shape());
  const double ratio = tolerance_ratio(a.data, r.data(), static_cast<size_t>(r.numel()), kAtol, kRtol);
  INFO(what << ": worst |a - r| / (atol + rtol |r|) = " << ratio);
  CHECK(ratio <= 1.0);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
}  // namespace

TEST_CASE("conv_transpose2d reference gradient matches finite differences", "[conv_transpose2d][gradcheck]") {
  uint64_t seed = 300;
  for (const ConvTranspose2dCase& c : conv_transpose2d_cases()) {
    INFO(c.name);
    const kernels::ConvTranspose2dGeometry g = kernels::conv_transpose2d_geometry("test", c.x, c.w, c.p);
    GradCheckOp op;
    op.inputs = {random_vector(static_cast<size_t>(c.x.numel()), seed++),
                 random_vector(static_cast<size_t>(c.w.numel()), seed++)};
    if (c.bias) op.inputs.push_back(random_vector(static_cast<size_t>(g.k), seed++));
    op.differentiable.assign(op.inputs.size(), true);
    op.output_size = static_cast<size_t>(g.n * g.k * g.ho * g.wo);
    const bool bias = c.bias;
    op.forward = [g, bias](auto& x, double* y) {
      kernels::ref::conv_transpose2d_forward<double>(g, x[0], x[1], bias ? x[2] : nullptr, y);
    };
    op.backward = [g, bias](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::conv_transpose2d_backward<double>(g, x[0], x[1], d_y, d_x[0], d_x[1], bias ? d_x[2] : nullptr);
    };
    GradCheckResult r = grad_check(op);
    INFO(r.worst);
    size_t expected = 0;
    for (const auto& in : op.inputs) expected += std::min<size_t>(in.size(), 400);
    CHECK(r.checked == expected);  // d_x, d_w and d_b all checked, nothing skipped (linear op, no kinks)
    CHECK(r.max_error < 1e-7);
  }
}

TEST_CASE("conv_transpose2d is the adjoint of conv2d with the same weights", "[conv_transpose2d][gradcheck]") {
  // <conv2d(x), y> == <x, conv_transpose2d(y)>: the transposed conv maps conv2d's output size back to its input
  // size when out_pad = (H + pt + pb - kh) mod stride (the rows the strided conv dropped).
  uint64_t seed = 400;
  for (const Conv2dCase& c : conv2d_cases()) {
    INFO(c.name);
    const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
    ConvTranspose2dParams tp{c.p.stride_h, c.p.stride_w, c.p.pad_top, c.p.pad_bottom, c.p.pad_left, c.p.pad_right,
                             0, 0, c.p.groups};
    tp.out_pad_h = static_cast<int>((g.h + c.p.pad_top + c.p.pad_bottom - g.kh) % c.p.stride_h);
    tp.out_pad_w = static_cast<int>((g.w + c.p.pad_left + c.p.pad_right - g.kw) % c.p.stride_w);
    const Shape ys{g.n, g.k, g.ho, g.wo};
    const kernels::ConvTranspose2dGeometry tg = kernels::conv_transpose2d_geometry("test", ys, c.w, tp);
    REQUIRE(Shape{tg.n, tg.k, tg.ho, tg.wo} == c.x);
    const std::vector<double> x = random_vector(static_cast<size_t>(c.x.numel()), seed++),
                              w = random_vector(static_cast<size_t>(c.w.numel()), seed++),
                              y = random_vector(static_cast<size_t>(ys.numel()), seed++);
    std::vector<double> conv_x(y.size()), up_y(x.size());
    kernels::ref::conv2d_forward<double>(g, x.data(), w.data(), nullptr, conv_x.data());
    kernels::ref::conv_transpose2d_forward<double>(tg, y.data(), w.data(), nullptr, up_y.data());
    CHECK(dot(conv_x, y) == Approx(dot(x, up_y)).epsilon(1e-12).margin(1e-12));
  }
}

TEST_CASE("conv_transpose2d equals zero insertion followed by a convolution (seed 002)",
          "[conv_transpose2d][gradcheck]") {
  // Up-convolution as Dosovitskiy & Brox describe it: spread the input by the stride with zeros in between, then
  // convolve (full padding kh - 1, less the transposed conv's own padding, plus out_pad rows at the bottom/right)
  // with the kernel flipped in both axes and its two channel axes swapped.
  for (const ConvTranspose2dCase& c : conv_transpose2d_cases()) {
    if (c.p.groups != 1) continue;
    INFO(c.name);
    const kernels::ConvTranspose2dGeometry g = kernels::conv_transpose2d_geometry("test", c.x, c.w, c.p);
    const std::vector<double> x = random_vector(static_cast<size_t>(c.x.numel()), 11),
                              w = random_vector(static_cast<size_t>(c.w.numel()), 12),
                              b = random_vector(static_cast<size_t>(g.k), 13);
    std::vector<double> up(static_cast<size_t>(g.n * g.k * g.ho * g.wo));
    kernels::ref::conv_transpose2d_forward<double>(g, x.data(), w.data(), b.data(), up.data());

    const int64_t zh = (g.h - 1) * c.p.stride_h + 1, zw = (g.w - 1) * c.p.stride_w + 1;
    std::vector<double> z(static_cast<size_t>(g.n * g.c * zh * zw), 0.0);  // [N, C, zh, zw]
    for (int64_t nc = 0; nc < g.n * g.c; ++nc)
      for (int64_t i = 0; i < g.h; ++i)
        for (int64_t j = 0; j < g.w; ++j)
          z[static_cast<size_t>((nc * zh + i * c.p.stride_h) * zw + j * c.p.stride_w)] =
              x[static_cast<size_t>((nc * g.h + i) * g.w + j)];
    std::vector<double> wf(w.size());  // [K, C, kh, kw] from [C, K, kh, kw], flipped
    for (int64_t ci = 0; ci < g.c; ++ci)
      for (int64_t k = 0; k < g.k; ++k)
        for (int64_t u = 0; u < g.kh; ++u)
          for (int64_t v = 0; v < g.kw; ++v)
            wf[static_cast<size_t>(((k * g.c + ci) * g.kh + u) * g.kw + v)] =
                w[static_cast<size_t>(((ci * g.k + k) * g.kh + (g.kh - 1 - u)) * g.kw + (g.kw - 1 - v))];
    const int full_h = static_cast<int>(g.kh - 1), full_w = static_cast<int>(g.kw - 1);
    REQUIRE(c.p.pad_top <= full_h);  // the cases keep padding < kernel so the equivalent conv pads, never crops
    REQUIRE(c.p.pad_left <= full_w);
    const kernels::Conv2dParams cp{1, 1, full_h - c.p.pad_top, full_h - c.p.pad_bottom + c.p.out_pad_h,
                                   full_w - c.p.pad_left, full_w - c.p.pad_right + c.p.out_pad_w, 1};
    const kernels::Conv2dGeometry cg =
        kernels::conv2d_geometry("test", Shape{g.n, g.c, zh, zw}, Shape{g.k, g.c, g.kh, g.kw}, cp);
    REQUIRE(cg.ho == g.ho);
    REQUIRE(cg.wo == g.wo);
    std::vector<double> conv(up.size());
    kernels::ref::conv2d_forward<double>(cg, z.data(), wf.data(), b.data(), conv.data());
    double worst = 0;
    for (size_t i = 0; i < up.size(); ++i) worst = std::max(worst, std::abs(up[i] - conv[i]));
    CHECK(worst < 1e-12);
  }
}

TEST_CASE("conv_transpose2d matches PyTorch forward and backward through the tape", "[conv_transpose2d][golden]") {
  for (const char* name : {"conv_transpose2d_4x4_stride2", "conv_transpose2d_groups2_outpad",
                           "conv_transpose2d_11x11_stride4", "conv_transpose2d_1x1_groups2",
                           "conv_transpose2d_3x3_stride3_asym"}) {
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
      Var y = ops::conv_transpose2d(t, xv, wv, bv, params_from(gold));
      check_close("y", t.value(y), golden_tensor(gold, "y"));
      Var loss = ops::sum(t, ops::mul(t, y, t.constant(golden_tensor(gold, "d_y"))));
      t.backward(loss);
      check_close("d_x", t.grad(xv), golden_tensor(gold, "d_x"));
      check_close("d_w", t.grad(wv), golden_tensor(gold, "d_w"));
      if (has_bias) check_close("d_b", t.grad(bv), golden_tensor(gold, "d_b"));
    }
  }
}

TEST_CASE("conv_transpose2d im2col path matches the reference", "[conv_transpose2d][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  uint64_t seed = 500;
  for (const ConvTranspose2dCase& c : conv_transpose2d_cases()) {
    INFO(c.name);
    const kernels::ConvTranspose2dGeometry g = kernels::conv_transpose2d_geometry("test", c.x, c.w, c.p);
    const Shape ys{g.n, g.k, g.ho, g.wo};
    Tensor x = random_tensor(c.x, seed++), w = random_tensor(c.w, seed++), d_y = random_tensor(ys, seed++);
    Tensor b = c.bias ? random_tensor(Shape{g.k}, seed++) : Tensor();
    Tensor y_ref = Tensor::empty(ys), y_fast = Tensor::empty(ys);
    kernels::ref::conv_transpose2d_forward<float>(g, x.data(), w.data(), b.data(), y_ref.data());
    kernels::cpu_kernels().im2col_conv_transpose2d_forward(g, x.data(), w.data(), b.data(), y_fast.data());
    CHECK(tolerance_ratio(y_fast.data(), y_ref.data(), static_cast<size_t>(y_ref.numel()), kAtol, kRtol) <= 1.0);

    // Gradients start from the same non-zero values, so a path that overwrites instead of accumulating fails.
    Tensor dx_ref = random_tensor(c.x, 7), dw_ref = random_tensor(c.w, 8), db_ref = random_tensor(Shape{g.k}, 9);
    Tensor dx_fast = dx_ref.clone(), dw_fast = dw_ref.clone(), db_fast = db_ref.clone();
    kernels::ref::conv_transpose2d_backward<float>(g, x.data(), w.data(), d_y.data(), dx_ref.data(), dw_ref.data(),
                                                   db_ref.data());
    kernels::cpu_kernels().im2col_conv_transpose2d_backward(g, x.data(), w.data(), d_y.data(), dx_fast.data(), dw_fast.data(),
                                               db_fast.data());
    CHECK(tolerance_ratio(dx_fast.data(), dx_ref.data(), static_cast<size_t>(dx_ref.numel()), kAtol, kRtol) <= 1.0);
    CHECK(tolerance_ratio(dw_fast.data(), dw_ref.data(), static_cast<size_t>(dw_ref.numel()), kAtol, kRtol) <= 1.0);
    CHECK(tolerance_ratio(db_fast.data(), db_ref.data(), static_cast<size_t>(db_ref.numel()), kAtol, kRtol) <= 1.0);

    // Only d_x wanted: the others are null.
    Tensor dx_only = Tensor::zeros(c.x), dx_only_ref = Tensor::zeros(c.x);
    kernels::cpu_kernels().im2col_conv_transpose2d_backward(g, x.data(), w.data(), d_y.data(), dx_only.data(), nullptr, nullptr);
    kernels::ref::conv_transpose2d_backward<float>(g, x.data(), w.data(), d_y.data(), dx_only_ref.data(), nullptr,
                                                   nullptr);
    CHECK(tolerance_ratio(dx_only.data(), dx_only_ref.data(), static_cast<size_t>(c.x.numel()), kAtol, kRtol) <= 1.0);

    Tensor y_launch = Tensor::empty(ys);
    {
      CpuPathScope scope(kernels::CpuPath::reference);
      kernels::conv_transpose2d_forward(x, w, b, y_launch, c.p);
      CHECK(max_abs_diff(y_launch.to_vector(), y_ref.to_vector()) == 0.0);
    }
    {
      CpuPathScope scope(kernels::CpuPath::fast);
      kernels::conv_transpose2d_forward(x, w, b, y_launch, c.p);
      CHECK(max_abs_diff(y_launch.to_vector(), y_fast.to_vector()) == 0.0);
    }
  }
}

TEST_CASE("conv_transpose2d rejects inconsistent shapes, devices and parameters", "[conv_transpose2d][errors]") {
  auto forward = [](const Shape& xs, const Shape& ws, const ConvTranspose2dParams& p) {
    Tensor x = Tensor::zeros(xs), w = Tensor::zeros(ws);
    Tape t;
    ops::conv_transpose2d(t, t.leaf(x.view(), false), t.leaf(w.view(), false), Var{}, p);
  };
  const ConvTranspose2dParams s2{2, 2, 0, 0, 0, 0, 0, 0, 1};
  REQUIRE_THROWS_WITH(forward(Shape{1, 3, 4, 4}, Shape{2, 4, 3, 3}, s2), Catch::Contains("input channels"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 3, 4, 4}, Shape{3, 4, 3, 3}, ConvTranspose2dParams{2, 2, 0, 0, 0, 0, 0, 0, 2}),
                      Catch::Contains("groups = 2 does not divide"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 2, 4, 4}, Shape{2, 2, 3, 3}, ConvTranspose2dParams{2, 2, 0, 0, 0, 0, 2, 0, 1}),
                      Catch::Contains("smaller than the stride"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 2, 1, 1}, Shape{2, 2, 3, 3}, ConvTranspose2dParams{1, 1, 2, 1, 0, 0, 0, 0, 1}),
                      Catch::Contains("is not positive"));
  REQUIRE_THROWS_WITH(forward(Shape{1, 2, 4, 4}, Shape{2, 2, 3, 3}, ConvTranspose2dParams{0, 1, 0, 0, 0, 0, 0, 0, 1}),
                      Catch::Contains("stride must be >= 1"));

  Tensor x = Tensor::zeros(Shape{1, 2, 4, 4}), w = Tensor::zeros(Shape{2, 3, 3, 3});
  Tensor y = Tensor::zeros(Shape{1, 3, 9, 9}), b = Tensor::zeros(Shape{2});
  REQUIRE_THROWS_WITH(kernels::conv_transpose2d_forward(x, w, b, y, s2), Catch::Contains("bias has shape [2]"));
  View w_cuda(w.data(), w.shape(), Device::cuda);
  REQUIRE_THROWS_WITH(kernels::conv_transpose2d_forward(x, w_cuda, View(), y, s2),
                      Catch::Contains("different devices"));
  View dx_cuda(x.data(), x.shape(), Device::cuda);
  REQUIRE_THROWS_WITH(kernels::conv_transpose2d_backward(x, w, y, dx_cuda, View(), View(), s2),
                      Catch::Contains("different devices"));
}
