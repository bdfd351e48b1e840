// [gpu] Device parity of linear (kernels/cuda/linear.cu: three SGEMMs and a column sum) against the CPU reference
// evaluated in double (kernels/cpu/linear.cpp): forward with and without bias, backward accumulating into non-zero
// d_x, d_w, d_b, and gradients not wanted; sizes around the 64/128 tiles and the 8-deep k-step, a 4-d input
// flattened to [N, I], both block tiles.
// Tolerance: atol = 1e-5 * sqrt(R + 1) for a float sum of R products of values in [-1, 1] (R = I forward, O for
// d_x, N for d_w and d_b), rtol 1e-5; see tests/gpu/test_parity_gemm.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kernels/cuda/linear.h"
#include "kernels/linear.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

namespace {
std::vector<double> as_double(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  return std::vector<double>(v.begin(), v.end());
}
std::vector<float> as_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }
double atol_for(int64_t r) { return 1e-5 * std::sqrt(double(r + 1)); }

void run_case(const Shape& xs, int64_t out, bool bias, bool via_views, kernels::cuda::GemmTileChoice tile,
              uint64_t seed) {
  const int64_t n = xs[0], in = xs.numel() / n;
  INFO("x " << xs.str() << " out " << out << " bias " << bias << (via_views ? " (launcher)" : " (forced tile)"));
  Tensor x = random_tensor(xs, seed), w = random_tensor(Shape{out, in}, seed + 1);
  Tensor b = random_tensor(Shape{out}, seed + 2);
  Tensor d_y = random_tensor(Shape{n, out}, seed + 3);
  Tensor d_x = random_tensor(xs, seed + 4), d_w = random_tensor(Shape{out, in}, seed + 5);
  Tensor d_b = random_tensor(Shape{out}, seed + 6);

  const std::vector<double> xd = as_double(x), wd = as_double(w), bd = as_double(b), d_yd = as_double(d_y);
  std::vector<double> y_ref(n * out), d_x_ref = as_double(d_x), d_w_ref = as_double(d_w), d_b_ref = as_double(d_b);
  kernels::ref::linear_forward<double>(n, in, out, xd.data(), wd.data(), bias ? bd.data() : nullptr, y_ref.data());
  kernels::ref::linear_backward<double>(n, in, out, xd.data(), wd.data(), d_yd.data(), d_x_ref.data(),
                                        d_w_ref.data(), d_b_ref.data());

  Tensor cx = x.to(Device::cuda), cw = w.to(Device::cuda), cb = b.to(Device::cuda), cd_y = d_y.to(Device::cuda);
  Tensor cd_x = d_x.to(Device::cuda), cd_w = d_w.to(Device::cuda), cd_b = d_b.to(Device::cuda);
  Tensor cy = Tensor::empty(Shape{n, out}, Device::cuda);
  if (via_views) {
    kernels::linear_forward(cx, cw, bias ? cb.view() : View(), cy);
    kernels::linear_backward(cx, cw, cd_y, cd_x, cd_w, cd_b);
  } else {
    kernels::cuda::linear_forward(n, in, out, cx.data(), cw.data(), bias ? cb.data() : nullptr, cy.data(), nullptr,
                                  tile);
    kernels::cuda::linear_backward(n, in, out, cx.data(), cw.data(), cd_y.data(), cd_x.data(), cd_w.data(),
                                   cd_b.data(), nullptr, tile);
  }
  {
    INFO("forward");
    require_close(cy.to_vector(), as_float(y_ref), atol_for(in + 1), 1e-5);
  }
  {
    INFO("d_x");
    require_close(cd_x.to_vector(), as_float(d_x_ref), atol_for(out + 1), 1e-5);
  }
  {
    INFO("d_w");
    require_close(cd_w.to_vector(), as_float(d_w_ref), atol_for(n + 1), 1e-5);
  }
  {
    INFO("d_b");
    require_close(cd_b.to_vector(), as_float(d_b_ref), atol_for(n + 1), 1e-5);
  }
}
}  // namespace

TEST_CASE("cuda linear forward and backward equal the CPU reference", "[gpu][parity][linear]") {
  using kernels::cuda::GemmTileChoice;
  const std::vector<std::pair<Shape, int64_t>> cases = {
      {Shape{1, 1}, 1}, {Shape{7, 33}, 65}, {Shape{3, 65}, 7}, {Shape{65, 7}, 33}, {Shape{2, 3, 5, 7}, 130},
  };
  uint64_t seed = 1100;
  for (const auto& c : cases) {
    run_case(c.first, c.second, true, true, GemmTileChoice::automatic, seed += 10);
    run_case(c.first, c.second, false, false, GemmTileChoice::tile64, seed += 10);
    run_case(c.first, c.second, true, false, GemmTileChoice::tile128, seed += 10);
  }
}

TEST_CASE("cuda linear backward skips gradients that are not wanted", "[gpu][parity][linear]") {
  Tensor x = random_tensor(Shape{5, 9}, 1), w = random_tensor(Shape{4, 9}, 2), d_y = random_tensor(Shape{5, 4}, 3);
  Tensor d_x = random_tensor(Shape{5, 9}, 4);
  Tensor cx = x.to(Device::cuda), cw = w.to(Device::cuda), cd_y = d_y.to(Device::cuda), cd_x = d_x.to(Device::cuda);
  kernels::linear_backward(cx, cw, cd_y, cd_x, View(), View());
  kernels::linear_backward(x, w, d_y, d_x, View(), View());
  require_close(cd_x.to_vector(), d_x.to_vector(), atol_for(5), 1e-5);
}
