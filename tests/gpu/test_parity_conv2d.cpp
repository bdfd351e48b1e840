// [gpu] Device parity of the implicit-GEMM conv2d (kernels/cuda/conv2d_implicit_gemm.cu) against the CPU reference
// evaluated in double (kernels/cpu/conv2d.cpp): forward, backward data, filter and bias, accumulating into
// non-zero gradients, over groups 1/2, strides 1/2/4 (and unequal), asymmetric padding, 1x1/3x3/5x5/11x11 kernels
// (1x1 stride 2: residue classes of dgrad with no taps) and batches 1/3, through the View launcher (automatic
// tiles) and again with the 128 x 128 tile and a forced split-K for the weight gradient.
// Tolerance: every output is a float sum of R products of values in [-1, 1] (plus the bias or the previous
// gradient), R = C/groups*kh*kw (forward), K/groups*kh*kw (data), N*Ho*Wo (filter, bias); its rounding error grows
// like sqrt(R) * 2^-24 * sqrt(R / 9), so atol = 1e-5 * sqrt(R + 1) has >= 10x margin for R <= 2000, while a
// single wrong tap (|product| ~ 0.25) fails it.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

namespace {
struct ConvCase {
  Shape x, w;
  kernels::Conv2dParams p;
};

kernels::Conv2dParams params(int sh, int sw, int pt, int pb, int pl, int pr, int groups) {
  return kernels::Conv2dParams{sh, sw, pt, pb, pl, pr, groups};
}

std::vector<ConvCase> cases() {
  return {
      {Shape{3, 4, 5, 7}, Shape{6, 4, 1, 1}, params(1, 1, 0, 0, 0, 0, 1)},     // 1x1, batch 3
      {Shape{1, 4, 9, 8}, Shape{6, 2, 3, 3}, params(1, 1, 1, 0, 2, 1, 2)},     // 3x3, groups 2, asymmetric pad
      {Shape{3, 3, 11, 10}, Shape{5, 3, 5, 5}, params(2, 2, 2, 1, 0, 2, 1)},   // 5x5 stride 2
      {Shape{1, 3, 23, 27}, Shape{4, 3, 11, 11}, params(4, 4, 0, 0, 0, 0, 1)}, // AlexNet conv1 shape, stride 4
      {Shape{1, 2, 17, 14}, Shape{4, 1, 11, 11}, params(4, 4, 3, 1, 2, 0, 2)}, // 11x11 stride 4, groups, padded
      {Shape{3, 6, 7, 6}, Shape{4, 3, 3, 3}, params(2, 3, 1, 1, 0, 1, 2)},     // unequal strides, groups 2
      {Shape{1, 3, 7, 5}, Shape{2, 3, 1, 1}, params(2, 2, 0, 1, 1, 0, 1)},     // 1x1 stride 2: pixels with no taps
      {Shape{1, 1, 5, 5}, Shape{70, 1, 1, 1}, params(1, 1, 0, 0, 0, 0, 1)},    // 70 filters: two row tiles
      {Shape{1, 70, 4, 4}, Shape{3, 70, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},   // 70 channels: dgrad row tiles
  };
}

std::vector<double> as_double(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  return std::vector<double>(v.begin(), v.end());
}
std::vector<float> as_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }
double atol_for(int64_t r) { return 1e-5 * std::sqrt(double(r + 1)); }

void run_case(const ConvCase& c, bool via_views, const kernels::cuda::ConvTuning& tuning, uint64_t seed) {
  const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
  INFO("x " << c.x.str() << " w " << c.w.str() << " stride " << c.p.stride_h << "x" << c.p.stride_w
            << " pad t/b/l/r " << c.p.pad_top << "/" << c.p.pad_bottom << "/" << c.p.pad_left << "/"
            << c.p.pad_right << " groups " << c.p.groups << (via_views ? " (launcher)" : " (tile 128, split-K)"));
  const Shape ys{g.n, g.k, g.ho, g.wo}, bs{g.k};
  Tensor x = random_tensor(c.x, seed), w = random_tensor(c.w, seed + 1), b = random_tensor(bs, seed + 2);
  Tensor d_y = random_tensor(ys, seed + 3);
  Tensor d_x = random_tensor(c.x, seed + 4), d_w = random_tensor(c.w, seed + 5), d_b = random_tensor(bs, seed + 6);

  // Reference in double.
  const std::vector<double> xd = as_double(x), wd = as_double(w), bd = as_double(b), d_yd = as_double(d_y);
  std::vector<double> y_ref(ys.numel()), d_x_ref = as_double(d_x), d_w_ref = as_double(d_w), d_b_ref = as_double(d_b);
  kernels::ref::conv2d_forward<double>(g, xd.data(), wd.data(), bd.data(), y_ref.data());
  kernels::ref::conv2d_backward<double>(g, xd.data(), wd.data(), d_yd.data(), d_x_ref.data(), d_w_ref.data(),
                                        d_b_ref.data());

  Tensor cx = x.to(Device::cuda), cw = w.to(Device::cuda), cb = b.to(Device::cuda), cd_y = d_y.to(Device::cuda);
  Tensor cd_x = d_x.to(Device::cuda), cd_w = d_w.to(Device::cuda), cd_b = d_b.to(Device::cuda);
  Tensor cy = Tensor::empty(ys, Device::cuda);
  if (via_views) {
    kernels::conv2d_forward(cx, cw, cb, cy, c.p);
    kernels::conv2d_backward(cx, cw, cd_y, cd_x, cd_w, cd_b, c.p);
  } else {
    kernels::cuda::conv2d_forward(g, cx.data(), cw.data(), cb.data(), cy.data(), nullptr, tuning);
    kernels::cuda::conv2d_backward(g, cx.data(), cw.data(), cd_y.data(), cd_x.data(), cd_w.data(), cd_b.data(),
                                   nullptr, tuning);
  }
  const int64_t cg = g.c / c.p.groups, kg = g.k / c.p.groups, pixels = g.n * g.ho * g.wo;
  {
    INFO("forward");
    require_close(cy.to_vector(), as_float(y_ref), atol_for(cg * g.kh * g.kw + 1), 1e-5);
  }
  {
    INFO("d_x");
    require_close(cd_x.to_vector(), as_float(d_x_ref), atol_for(kg * g.kh * g.kw + 1), 1e-5);
  }
  {
    INFO("d_w");
    require_close(cd_w.to_vector(), as_float(d_w_ref), atol_for(pixels + 1), 1e-5);
  }
  {
    INFO("d_b");
    require_close(cd_b.to_vector(), as_float(d_b_ref), atol_for(pixels + 1), 1e-5);
  }
}
}  // namespace

TEST_CASE("cuda conv2d forward and backward equal the CPU reference", "[gpu][parity][conv2d]") {
  uint64_t seed = 300;
  for (const ConvCase& c : cases()) run_case(c, true, {}, seed += 10);
}

TEST_CASE("cuda conv2d with the 128x128 tile and split-K weight gradient equals the CPU reference",
          "[gpu][parity][conv2d]") {
  kernels::cuda::ConvTuning tuning;
  tuning.tile = kernels::cuda::GemmTileChoice::tile128;
  tuning.split_k = 3;
  uint64_t seed = 500;
  for (const ConvCase& c : cases()) run_case(c, false, tuning, seed += 10);
}

TEST_CASE("cuda conv2d backward skips gradients that are not wanted", "[gpu][parity][conv2d]") {
  const ConvCase c = cases()[2];
  const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
  Tensor x = random_tensor(c.x, 1), w = random_tensor(c.w, 2), d_y = random_tensor(Shape{g.n, g.k, g.ho, g.wo}, 3);
  Tensor d_w = random_tensor(c.w, 4);
  const std::vector<float> d_w0 = d_w.to_vector();
  Tensor cx = x.to(Device::cuda), cw = w.to(Device::cuda), cd_y = d_y.to(Device::cuda), cd_w = d_w.to(Device::cuda);
  kernels::conv2d_backward(cx, cw, cd_y, View(), cd_w, View(), c.p);  // only the weight gradient
  kernels::conv2d_backward(x, w, d_y, View(), d_w, View(), c.p);
  require_close(cd_w.to_vector(), d_w.to_vector(), atol_for(g.n * g.ho * g.wo + 1), 1e-5);
  REQUIRE(test::max_abs_diff(d_w.to_vector(), d_w0) > 0.1);  // it did accumulate something
}
