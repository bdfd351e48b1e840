// [gpu] Device parity of kernels/cuda/regularisers.cu against the CPU reference (kernels/cpu/regularisers.cpp, run
// with CpuPath::reference). Every pixel's arithmetic is done in double on both devices; the differences are
// (a) the summation order of the forward sums (double, relative ~1e-15) and nvcc's FMA contraction inside the
// double expressions (s += x*x, du*du + dv*dv), both far below the final rounding to float, so the scalars agree
// to about one float ulp: rtol 1e-6; (b) in the backward, each term is rounded to float and added to the float d_x
// as in the reference, in the same order, so an element differs by at most an ulp of the O(1) values (a double
// perturbation can flip one rounding): atol = rtol = 1e-6. pow() for non-(half-)integer exponents is CUDA's
// libdevice on the GPU (<= 2 double ulp), which is also invisible after rounding to float.
#include <catch2/catch.hpp>

#include "kernels/dispatch.h"
#include "kernels/regularisers.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

namespace {
std::vector<Shape> image_shapes() {
  return {Shape{1, 1, 1, 1}, Shape{1, 3, 1, 7}, Shape{2, 3, 5, 7}, Shape{3, 1, 17, 33}, Shape{1, 64, 33, 35},
          Shape{2, 3, 37, 41}};
}
// Inputs with exact zeros (whole zero pixels and equal neighbours): the kink conventions must agree.
Tensor with_zeros(const Shape& s, uint64_t seed) {
  Tensor x = random_tensor(s, seed);
  for (int64_t i = 0; i < x.numel(); i += 7) x.data()[i] = 0.0f;
  const int64_t hw = s.h() * s.w();
  for (int64_t p = 0; p < s.n() * s.c(); ++p) x.data()[p * hw] = 0.0f;  // pixel 0 is zero in every channel
  return x;
}
struct ReferencePath {  // the parity is against the spec, not the vectorised CPU path
  kernels::CpuPath saved = kernels::cpu_path();
  ReferencePath() { kernels::set_cpu_path(kernels::CpuPath::reference); }
  ~ReferencePath() { kernels::set_cpu_path(saved); }
};
float scalar(const Tensor& t) { return t.to_vector()[0]; }


// The scalar forward and the accumulating backward (upstream gradient g) of one regulariser, on both devices.
// forward(x, y) and backward(x, d_y, d_x) call the launchers with the regulariser's parameters bound.
template <typename Forward, typename Backward>
void check_regulariser(const Shape& s, uint64_t seed, float g, Forward forward, Backward backward) {
  Tensor x = with_zeros(s, seed), d_x = random_tensor(s, seed + 1);
  Tensor dx = x.to(Device::cuda), dd_x = d_x.to(Device::cuda);
  Tensor y = Tensor::empty(Shape{1}), dy = Tensor::full(Shape{1}, 123.0f, Device::cuda);
  forward(x, y);
  forward(dx, dy);
  require_close({scalar(dy)}, {scalar(y)}, 0, 1e-6);

  Tensor d_y = Tensor::from({g}, Shape{1}), dd_y = d_y.to(Device::cuda);
  backward(x, d_y, d_x);
  backward(dx, dd_y, dd_x);
  require_close(dd_x.to_vector(), d_x.to_vector(), 1e-6, 1e-6);
}
}  // namespace

TEST_CASE("cuda isotropic alpha-norm forward and backward match the CPU reference",
          "[gpu][parity][regularisers]") {
  ReferencePath ref_path;
  // 6: the papers' (integer power); 3: half-integer exponent (sqrt path) and 1.3: pow; B sets terms of order 1.
  for (float alpha : {6.0f, 3.0f, 1.3f}) {
    for (const Shape& s : image_shapes()) {
      INFO("shape " << s.str() << ", alpha " << alpha);
      const float B = 0.9f;
      check_regulariser(
          s, 31, 0.75f, [&](const Tensor& x, Tensor& y) { kernels::isotropic_alpha_norm_forward(x, alpha, B, y); },
          [&](const Tensor& x, const Tensor& d_y, Tensor& d_x) {
            kernels::isotropic_alpha_norm_backward(x, d_y, d_x, alpha, B);
          });
    }
  }
}

TEST_CASE("cuda CVPR alpha-norm (mean-subtracted planes) forward and backward match the CPU reference",
          "[gpu][parity][regularisers]") {
  ReferencePath ref_path;
  // Entries in [-1, 1] keep |x - mean|^alpha of order 1 for every exponent.
  for (float alpha : {6.0f, 3.0f, 1.3f}) {
    for (const Shape& s : image_shapes()) {
      INFO("shape " << s.str() << ", alpha " << alpha);
      check_regulariser(
          s, 41, -0.5f, [&](const Tensor& x, Tensor& y) { kernels::alpha_norm_forward(x, alpha, y); },
          [&](const Tensor& x, const Tensor& d_y, Tensor& d_x) {
            kernels::alpha_norm_backward(x, d_y, d_x, alpha);
          });
    }
  }
}

TEST_CASE("cuda TV-beta forward and backward match the CPU reference", "[gpu][parity][regularisers]") {
  ReferencePath ref_path;
  for (float beta : {2.0f, 1.0f, 1.7f}) {
    for (const Shape& s : image_shapes()) {
      INFO("shape " << s.str() << ", beta " << beta);
      const float V = 0.5f;
      check_regulariser(
          s, 33, -1.25f, [&](const Tensor& x, Tensor& y) { kernels::tv_beta_forward(x, beta, V, y); },
          [&](const Tensor& x, const Tensor& d_y, Tensor& d_x) { kernels::tv_beta_backward(x, d_y, d_x, beta, V); });
    }
  }
}

TEST_CASE("cuda project_ball scales only the pixels outside the ball", "[gpu][parity][regularisers]") {
  ReferencePath ref_path;
  for (const Shape& s : image_shapes()) {
    INFO("shape " << s.str());
    // Radius 0.8 with entries in [-1, 1]: single-channel shapes have pixels on both sides, as do the 3/64-channel.
    const float radius = s.c() == 64 ? 4.6f : 0.8f;
    Tensor x = with_zeros(s, 35);
    Tensor dx = x.to(Device::cuda);
    kernels::project_ball(x, radius);
    kernels::project_ball(dx, radius);
    // One float rounding of x * (radius / r), with r from a double sum: an ulp at most.
    require_close(dx.to_vector(), x.to_vector(), 1e-7, 1e-6);
  }
}
