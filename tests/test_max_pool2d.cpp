// max_pool2d: output-size rules (floor, Caffe/PyTorch ceil, explicit asymmetric padding), gradient check of the
// reference with ties skipped, PyTorch golden comparison through the tape op, and bad parameters.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "engine/ops.h"
#include "kernels/max_pool2d.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;
using kernels::MaxPool2dParams;

namespace {
MaxPool2dParams pool(int k, int s, int pad = 0, bool ceil = false) {
  MaxPool2dParams p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  p.ceil_mode = ceil;
  return p;
}

// For every element, the smallest gap between it and the largest *other* cell of any window containing it. An
// element whose gap is tiny is (nearly) tied for a window's maximum: a finite difference there moves the argmax.
std::vector<double> tie_gaps(const kernels::MaxPool2dGeometry& g, const std::vector<double>& x) {
  std::vector<double> gap(x.size(), std::numeric_limits<double>::infinity());
  const MaxPool2dParams& p = g.p;
  for (int64_t nc = 0; nc < g.n * g.c; ++nc) {
    const size_t base = static_cast<size_t>(nc * g.h * g.w);
    for (int64_t oh = 0; oh < g.ho; ++oh) {
      for (int64_t ow = 0; ow < g.wo; ++ow) {
        std::vector<size_t> cells;
        for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
          for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const int64_t ih = oh * p.stride_h - p.pad_top + kh, iw = ow * p.stride_w - p.pad_left + kw;
            if (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w) cells.push_back(base + static_cast<size_t>(ih * g.w + iw));
          }
        }
        for (size_t e : cells) {
          double other = -std::numeric_limits<double>::infinity();
          for (size_t o : cells)
            if (o != e) other = std::max(other, x[o]);
          if (x[e] >= other - 1e-3) gap[e] = std::min(gap[e], std::abs(x[e] - other));
        }
      }
    }
  }
  return gap;
}

void check_pool_grad(const Shape& s, const MaxPool2dParams& p, uint64_t seed, bool quantise, size_t* skipped_total) {
  const kernels::MaxPool2dGeometry g = kernels::max_pool2d_geometry("test", s, p);
  std::vector<double> x = random_vector(static_cast<size_t>(s.numel()), seed);
  // Quantised inputs make exact ties common, so the skip path is exercised (and must be taken).
  if (quantise)
    for (double& v : x) v = std::round(v * 3) / 3;
  GradCheckOp op;
  op.inputs = {x};
  op.differentiable = {true};
  op.output_size = static_cast<size_t>(g.n * g.c * g.ho * g.wo);
  op.forward = [g](auto& in, double* y) { kernels::ref::max_pool2d_forward(g, in[0], y); };
  op.backward = [g](auto& in, const double* d_y, auto& d_x) {
    kernels::ref::max_pool2d_backward(g, in[0], d_y, d_x[0]);
  };
  const std::vector<double> gap = tie_gaps(g, x);
  op.near_kink = [gap](size_t, size_t e, double eps) { return gap[e] < 10 * eps; };
  GradCheckResult r = grad_check(op, 1e-6, 600, seed);
  INFO("shape " << s.str() << " k " << p.kernel_h << "x" << p.kernel_w << " s " << p.stride_h << "x" << p.stride_w
                << " pads " << p.pad_top << "/" << p.pad_bottom << "/" << p.pad_left << "/" << p.pad_right
                << " ceil " << p.ceil_mode << " ho " << g.ho << " wo " << g.wo << ": " << r.worst);
  CHECK(r.checked > 0);
  CHECK(r.max_error < 1e-8);
  if (quantise) CHECK(r.skipped > 0);
  *skipped_total += r.skipped;
}
}  // namespace

TEST_CASE("max_pool2d output sizes follow floor, PyTorch/Caffe ceil and explicit padding", "[max_pool2d]") {
  auto ho = [](int64_t h, const MaxPool2dParams& p) {
    return kernels::max_pool2d_geometry("test", Shape{1, 1, h, h}, p).ho;
  };
  CHECK(ho(55, pool(3, 2, 0, true)) == 27);   // AlexNet pool1
  CHECK(ho(55, pool(3, 2, 0, false)) == 27);
  CHECK(ho(27, pool(3, 2, 0, true)) == 13);   // pool2
  CHECK(ho(13, pool(3, 2, 0, true)) == 6);    // pool5
  CHECK(ho(14, pool(3, 2, 0, true)) == 7);    // ceil matters: floor gives 6
  CHECK(ho(14, pool(3, 2, 0, false)) == 6);
  CHECK(ho(7, pool(2, 2, 0, true)) == 4);
  CHECK(ho(7, pool(2, 2, 0, false)) == 3);
  CHECK(ho(5, pool(2, 2, 1, true)) == 3);     // ceil gives 4; the 4th window would start in the bottom padding
  CHECK(ho(6, pool(3, 2, 1, true)) == 4);
  CHECK(ho(5, pool(1, 3, 0, true)) == 2);     // PyTorch drops the window starting past the end even without padding
  // MatConvNet-style explicit padding reproduces Caffe's ceil: 14 with bottom pad 1, floor mode -> 7
  MaxPool2dParams m = pool(3, 2);
  m.pad_bottom = 1;
  CHECK(ho(14, m) == 7);
}

TEST_CASE("max_pool2d forward picks the first maximum and never a padded cell", "[max_pool2d]") {
  // one 2x3 plane of equal values plus a larger one; pads all around
  Tensor x = Tensor::from({-5, -5, -1, -5, -1, -2}, Shape{1, 1, 2, 3});
  MaxPool2dParams p = pool(2, 1, 1);
  const auto g = kernels::max_pool2d_geometry("test", x.shape(), p);
  Tensor y = Tensor::empty(Shape{1, 1, g.ho, g.wo});
  kernels::max_pool2d_forward(x, y, p);
  const std::vector<float> expect = {-5, -5, -1, -1, -5, -1, -1, -1, -5, -1, -1, -2};
  CHECK(y.to_vector() == expect);
  // backward routes each d_y to the first maximum of its window
  Tensor d_y = Tensor::full(y.shape(), 1.0f);
  Tensor d_x = Tensor::full(x.shape(), 10.0f);  // accumulates
  kernels::max_pool2d_backward(x, d_y, d_x, p);
  // ties go to the earlier cell: x(0,0) beats x(0,1) and x(1,0), x(0,2) beats x(1,1); x(0,1) never wins
  const std::vector<float> d_expect = {13, 10, 14, 11, 13, 11};
  CHECK(d_x.to_vector() == d_expect);
}

TEST_CASE("max_pool2d reference gradient matches finite differences", "[max_pool2d][gradcheck]") {
  std::mt19937_64 rng(5);
  size_t skipped = 0;
  // fixed cases: AlexNet-like overlapping pooling, odd sizes, asymmetric padding, ceil mode, kernel < stride
  check_pool_grad(Shape{1, 2, 15, 15}, pool(3, 2, 0, true), 1, false, &skipped);
  check_pool_grad(Shape{2, 1, 7, 9}, pool(2, 2, 1, true), 2, false, &skipped);
  MaxPool2dParams a;
  a.kernel_h = 3, a.kernel_w = 2, a.stride_h = 2, a.stride_w = 3;
  a.pad_top = 2, a.pad_bottom = 0, a.pad_left = 0, a.pad_right = 1, a.ceil_mode = true;
  check_pool_grad(Shape{1, 3, 11, 10}, a, 3, false, &skipped);
  check_pool_grad(Shape{1, 1, 8, 8}, pool(1, 3, 0, true), 4, false, &skipped);
  // ties: quantised inputs; skipped elements are counted and must exist
  check_pool_grad(Shape{1, 2, 9, 9}, pool(3, 2, 1, true), 5, true, &skipped);
  // random shapes and parameters
  for (int trial = 0; trial < 8; ++trial) {
    MaxPool2dParams p;
    p.kernel_h = 1 + static_cast<int>(rng() % 4);
    p.kernel_w = 1 + static_cast<int>(rng() % 4);
    p.stride_h = 1 + static_cast<int>(rng() % 3);
    p.stride_w = 1 + static_cast<int>(rng() % 3);
    p.pad_top = static_cast<int>(rng() % static_cast<uint64_t>(p.kernel_h));
    p.pad_bottom = static_cast<int>(rng() % static_cast<uint64_t>(p.kernel_h));
    p.pad_left = static_cast<int>(rng() % static_cast<uint64_t>(p.kernel_w));
    p.pad_right = static_cast<int>(rng() % static_cast<uint64_t>(p.kernel_w));
    p.ceil_mode = rng() % 2 == 0;
    const int64_t h = 4 + static_cast<int64_t>(rng() % 9), w = 4 + static_cast<int64_t>(rng() % 9);
    check_pool_grad(Shape{1 + static_cast<int64_t>(rng() % 2), 2, h, w}, p, 100 + trial, false, &skipped);
  }
  INFO("max_pool2d gradcheck skipped " << skipped << " tied elements");
  CHECK(skipped > 0);
}

TEST_CASE("max_pool2d matches PyTorch forward and backward", "[max_pool2d][golden]") {
  for (const char* name : {"max_pool2d_alexnet_pool1", "max_pool2d_ceil_odd", "max_pool2d_ceil_k2_odd",
                           "max_pool2d_ceil_pad_drop", "max_pool2d_floor_k3s3", "max_pool2d_asym_pad",
                           "max_pool2d_asym_pad_rect"}) {
    INFO(name);
    Golden gold = read_golden(name);
    Tensor x = golden_tensor(gold, "x"), d_y = golden_tensor(gold, "d_y");
    Tensor y_ref = golden_tensor(gold, "y"), dx_ref = golden_tensor(gold, "d_x");
    std::vector<float> pv = golden_tensor(gold, "params").to_vector();
    MaxPool2dParams p;
    p.kernel_h = static_cast<int>(pv[0]), p.kernel_w = static_cast<int>(pv[1]);
    p.stride_h = static_cast<int>(pv[2]), p.stride_w = static_cast<int>(pv[3]);
    p.pad_top = static_cast<int>(pv[4]), p.pad_bottom = static_cast<int>(pv[5]);
    p.pad_left = static_cast<int>(pv[6]), p.pad_right = static_cast<int>(pv[7]);
    p.ceil_mode = pv[8] != 0.0f;
    Tape t;
    Var xv = t.leaf(x.view(), true);
    Var y = ops::max_pool2d(t, xv, p);
    REQUIRE(t.shape(y) == y_ref.shape());
    // selection is exact in float
    CHECK(tolerance_ratio(t.value(y).data, y_ref.data(), static_cast<size_t>(y_ref.numel()), 0.0, 0.0) <= 1.0);
    Var loss = ops::sum(t, ops::mul(t, y, t.constant(d_y.clone())));
    t.backward(loss);
    // overlapping windows add up to 4 float d_y values per cell, in another order than PyTorch's float64
    CHECK(tolerance_ratio(t.grad(xv).data, dx_ref.data(), static_cast<size_t>(dx_ref.numel()), 1e-6, 1e-6) <= 1.0);
  }
}

TEST_CASE("max_pool2d rejects bad parameters and operands", "[max_pool2d][errors]") {
  Tensor x = Tensor::zeros(Shape{1, 2, 5, 5});
  auto geom = [&](const MaxPool2dParams& p) { return kernels::max_pool2d_geometry("max_pool2d", x.shape(), p); };
  REQUIRE_THROWS_WITH(geom(pool(0, 1)), Catch::Contains("kernel must be at least 1x1"));
  REQUIRE_THROWS_WITH(geom(pool(2, 0)), Catch::Contains("stride must be at least 1"));
  REQUIRE_THROWS_WITH(geom(pool(2, 2, 2)), Catch::Contains("smaller than the kernel"));
  REQUIRE_THROWS_WITH(geom(pool(2, 2, -1)), Catch::Contains("padding must be >= 0"));
  REQUIRE_THROWS_WITH(geom(pool(7, 1, 0)), Catch::Contains("output size would be <= 0"));
  MaxPool2dParams tall = pool(2, 1);
  tall.kernel_h = 6;
  REQUIRE_THROWS_WITH(geom(tall), Catch::Contains("output size would be <= 0"));
  REQUIRE_THROWS_WITH(kernels::max_pool2d_geometry("max_pool2d", Shape{2, 5, 5}, pool(2, 2)),
                      Catch::Contains("must be 4-d"));
  Tensor y_bad = Tensor::zeros(Shape{1, 2, 3, 3});  // k2 s2 on 5x5 gives 2x2
  REQUIRE_THROWS_WITH(kernels::max_pool2d_forward(x, y_bad, pool(2, 2)), Catch::Contains("output has shape"));
  Tensor y = Tensor::zeros(Shape{1, 2, 2, 2});
  Tensor d_x_bad = Tensor::zeros(Shape{1, 2, 5, 4});
  REQUIRE_THROWS_WITH(kernels::max_pool2d_backward(x, y, d_x_bad, pool(2, 2)), Catch::Contains("d_x has shape"));
  View y_other = y.view();
  y_other.device = Device::cuda;  // a view claiming the other device; the check fires before any access
  REQUIRE_THROWS_WITH(kernels::max_pool2d_forward(x, y_other, pool(2, 2)), Catch::Contains("different devices"));
}
