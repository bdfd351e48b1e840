// [gpu] Device parity of conv_transpose2d (kernels/cuda/conv_transpose2d.cu, on conv2d's implicit-GEMM passes)
// against the CPU reference evaluated in double (kernels/cpu/conv_transpose2d.cpp): forward (with bias), backward
// data, filter and bias accumulating into non-zero gradients; the seed-003 decoder's 4x4 stride-2 up-convolution,
// groups 2, strides 1/2/4, asymmetric padding, output padding, 1x1 stride 2 (output pixels that only get the bias)
// and 11x11; batches 1 to 3; automatic tiles through the View launcher, then the 128 x 128 tile and split-K.
// Tolerance as tests/gpu/test_parity_conv2d.cpp: atol = 1e-5 * sqrt(R + 1) for a float sum of R products of
// values in [-1, 1] (R = the reduction length of each output), rtol 1e-5.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kernels/conv_transpose2d.h"
#include "kernels/cuda/conv_transpose2d.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

namespace {
struct UpCase {
  Shape x, w;
  kernels::ConvTranspose2dParams p;
};

kernels::ConvTranspose2dParams params(int s, int pt, int pb, int pl, int pr, int oph, int opw, int groups) {
  return kernels::ConvTranspose2dParams{s, s, pt, pb, pl, pr, oph, opw, groups};
}

std::vector<UpCase> cases() {
  return {
      {Shape{2, 4, 4, 5}, Shape{4, 3, 4, 4}, params(2, 1, 1, 1, 1, 0, 0, 1)},    // decoder up-conv 4x4 s2 p1
      {Shape{1, 4, 5, 6}, Shape{4, 3, 3, 3}, params(1, 0, 1, 2, 0, 0, 0, 2)},    // 3x3 s1, groups 2, asymmetric
      {Shape{3, 3, 3, 4}, Shape{3, 2, 5, 5}, params(2, 2, 1, 1, 2, 1, 1, 1)},    // 5x5 s2, output padding
      {Shape{1, 3, 4, 3}, Shape{3, 2, 1, 1}, params(2, 0, 0, 0, 0, 1, 1, 1)},    // 1x1 s2: bias-only pixels
      {Shape{1, 2, 3, 2}, Shape{2, 3, 11, 11}, params(4, 0, 2, 3, 1, 3, 0, 1)},  // 11x11 s4, padding, out pad
      {Shape{1, 70, 3, 3}, Shape{70, 2, 3, 3}, params(1, 1, 1, 1, 1, 0, 0, 2)},  // 70 channels: row tiles
  };
}

std::vector<double> as_double(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  return std::vector<double>(v.begin(), v.end());
}
std::vector<float> as_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }
double atol_for(int64_t r) { return 1e-5 * std::sqrt(double(r + 1)); }

void run_case(const UpCase& c, bool via_views, const kernels::cuda::ConvTuning& tuning, uint64_t seed) {
  const kernels::ConvTranspose2dGeometry g = kernels::conv_transpose2d_geometry("test", c.x, c.w, c.p);
  INFO("x " << c.x.str() << " w " << c.w.str() << " stride " << c.p.stride_h << " pad t/b/l/r " << c.p.pad_top
            << "/" << c.p.pad_bottom << "/" << c.p.pad_left << "/" << c.p.pad_right << " out pad " << c.p.out_pad_h
            << "x" << c.p.out_pad_w << " groups " << c.p.groups
            << (via_views ? " (launcher)" : " (tile 128, split-K)"));
  const Shape ys{g.n, g.k, g.ho, g.wo}, bs{g.k};
  Tensor x = random_tensor(c.x, seed), w = random_tensor(c.w, seed + 1), b = random_tensor(bs, seed + 2);
  Tensor d_y = random_tensor(ys, seed + 3);
  Tensor d_x = random_tensor(c.x, seed + 4), d_w = random_tensor(c.w, seed + 5), d_b = random_tensor(bs, seed + 6);

  const std::vector<double> xd = as_double(x), wd = as_double(w), bd = as_double(b), d_yd = as_double(d_y);
  std::vector<double> y_ref(ys.numel()), d_x_ref = as_double(d_x), d_w_ref = as_double(d_w), d_b_ref = as_double(d_b);
  kernels::ref::conv_transpose2d_forward<double>(g, xd.data(), wd.data(), bd.data(), y_ref.data());
  kernels::ref::conv_transpose2d_backward<double>(g, xd.data(), wd.data(), d_yd.data(), d_x_ref.data(),
                                                  d_w_ref.data(), d_b_ref.data());

  Tensor cx = x.to(Device::cuda), cw = w.to(Device::cuda), cb = b.to(Device::cuda), cd_y = d_y.to(Device::cuda);
  Tensor cd_x = d_x.to(Device::cuda), cd_w = d_w.to(Device::cuda), cd_b = d_b.to(Device::cuda);
  Tensor cy = Tensor::empty(ys, Device::cuda);
  if (via_views) {
    kernels::conv_transpose2d_forward(cx, cw, cb, cy, c.p);
    kernels::conv_transpose2d_backward(cx, cw, cd_y, cd_x, cd_w, cd_b, c.p);
  } else {
    kernels::cuda::conv_transpose2d_forward(g, cx.data(), cw.data(), cb.data(), cy.data(), nullptr, tuning);
    kernels::cuda::conv_transpose2d_backward(g, cx.data(), cw.data(), cd_y.data(), cd_x.data(), cd_w.data(),
                                             cd_b.data(), nullptr, tuning);
  }
  const int64_t kg = g.k / c.p.groups;
  {
    INFO("forward");
    require_close(cy.to_vector(), as_float(y_ref), atol_for(g.c / c.p.groups * g.kh * g.kw + 1), 1e-5);
  }
  {
    INFO("d_x");
    require_close(cd_x.to_vector(), as_float(d_x_ref), atol_for(kg * g.kh * g.kw + 1), 1e-5);
  }
  {
    INFO("d_w");
    require_close(cd_w.to_vector(), as_float(d_w_ref), atol_for(g.n * g.h * g.w + 1), 1e-5);
  }
  {
    INFO("d_b");
    require_close(cd_b.to_vector(), as_float(d_b_ref), atol_for(g.n * g.ho * g.wo + 1), 1e-5);
  }
}
}  // namespace

TEST_CASE("cuda conv_transpose2d forward and backward equal the CPU reference", "[gpu][parity][conv_transpose2d]") {
  uint64_t seed = 700;
  for (const UpCase& c : cases()) run_case(c, true, {}, seed += 10);
}

TEST_CASE("cuda conv_transpose2d with the 128x128 tile and split-K equals the CPU reference",
          "[gpu][parity][conv_transpose2d]") {
  kernels::cuda::ConvTuning tuning;
  tuning.tile = kernels::cuda::GemmTileChoice::tile128;
  tuning.split_k = 2;
  uint64_t seed = 900;
  for (const UpCase& c : cases()) run_case(c, false, tuning, seed += 10);
}
