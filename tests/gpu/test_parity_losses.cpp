// [gpu] Device parity of kernels/cuda/losses.cu against the CPU reference (kernels/cpu/losses.cpp). Both sum in
// double, in different orders (per-block partials vs one running sum) and possibly with FMAs on the GPU: relative
// differences of ~1e-15 before the final rounding to float, so the scalar losses agree to about one float ulp
// (rtol 1e-6). Backward elements are one double expression rounded to float and added to the float d_phi as in the
// reference: at most an ulp of the O(1) values apart, atol = rtol = 1e-6.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/losses.h"
#include "parity.h"

using namespace preimage;
using test::parity_shapes;
using test::random_tensor;
using test::require_close;

namespace {
float scalar(const Tensor& t) { return t.to_vector()[0]; }
// A 0/1/fractional mask with whole zero stretches, as the IJCV foreground masks.
Tensor make_mask(const Shape& s) {
  Tensor m = random_tensor(s, 71, 0.0f, 1.0f);
  for (int64_t i = 0; i < m.numel(); ++i) m.data()[i] = i % 5 == 0 ? 0.0f : (i % 3 == 0 ? 1.0f : m.data()[i]);
  return m;
}
}  // namespace

TEST_CASE("cuda normalised l2 forward and backward match the CPU reference", "[gpu][parity][losses]") {
  std::vector<Shape> shapes = parity_shapes();
  shapes.push_back(Shape{3, 100000});  // several partial chunks per sample
  for (bool masked : {false, true}) {
    for (const Shape& s : shapes) {
      if (masked && s.numel() < 5) continue;  // the mask would zero the only element of a sample
      INFO("shape " << s.str() << (masked ? ", masked" : ""));
      Tensor phi = random_tensor(s, 72), phi0 = random_tensor(s, 73), d_phi = random_tensor(s, 74);
      Tensor mask = masked ? make_mask(s) : Tensor{};
      Tensor dphi = phi.to(Device::cuda), dphi0 = phi0.to(Device::cuda), dd_phi = d_phi.to(Device::cuda);
      Tensor dmask = masked ? mask.to(Device::cuda) : Tensor{};
      const View m = masked ? View(mask) : View{}, dm = masked ? View(dmask) : View{};

      Tensor y = Tensor::empty(Shape{1}), dy = Tensor::full(Shape{1}, 123.0f, Device::cuda);
      kernels::normalised_l2_forward(phi, phi0, m, y);
      kernels::normalised_l2_forward(dphi, dphi0, dm, dy);
      require_close({scalar(dy)}, {scalar(y)}, 0, 1e-6);

      Tensor g = Tensor::from({0.6f}, Shape{1}), dg = g.to(Device::cuda);
      kernels::normalised_l2_backward(phi, phi0, m, g, d_phi);
      kernels::normalised_l2_backward(dphi, dphi0, dm, dg, dd_phi);
      require_close(dd_phi.to_vector(), d_phi.to_vector(), 1e-6, 1e-6);
    }
  }
}

TEST_CASE("an all-zero target sample on cuda is refused by the once-per-target check and never read per call",
          "[gpu][parity][losses][errors]") {
  const Shape s{3, 40};
  Tensor phi0 = random_tensor(s, 75);
  for (int64_t i = 40; i < 80; ++i) phi0.data()[i] = 0.0f;  // sample 1
  Tensor dphi = random_tensor(s, 76).to(Device::cuda), dphi0 = phi0.to(Device::cuda);
  REQUIRE_THROWS_WITH(kernels::check_normalised_l2_target(dphi0, View{}), Catch::Contains("all zeros for sample 1"));
  Tensor mask = Tensor::full(s, 1.0f);
  for (int64_t i = 0; i < 40; ++i) mask.data()[i] = 0.0f;  // masks sample 0 out entirely
  Tensor good0 = random_tensor(s, 77).to(Device::cuda), dmask = mask.to(Device::cuda);
  REQUIRE_THROWS_WITH(kernels::check_normalised_l2_target(good0, dmask),
                      Catch::Contains("times the mask is all zeros for sample 0"));
  REQUIRE_NOTHROW(kernels::check_normalised_l2_target(good0, View{}));
  // The launcher itself does not look (that would be a device->host copy per call): the loss is not finite.
  Tensor dy = Tensor::zeros(Shape{1}, Device::cuda);
  kernels::normalised_l2_forward(dphi, dphi0, View{}, dy);
  CHECK_FALSE(std::isfinite(dy.to_vector()[0]));
}

TEST_CASE("cuda inner product forward and backward match the CPU reference", "[gpu][parity][losses]") {
  for (const Shape& s : parity_shapes()) {
    INFO("shape " << s.str());
    const float Z = 0.3f * static_cast<float>(s.numel());
    Tensor phi = random_tensor(s, 77), phi0 = random_tensor(s, 78), d_phi = random_tensor(s, 79);
    Tensor dphi = phi.to(Device::cuda), dphi0 = phi0.to(Device::cuda), dd_phi = d_phi.to(Device::cuda);
    Tensor y = Tensor::empty(Shape{1}), dy = Tensor::full(Shape{1}, 123.0f, Device::cuda);
    kernels::inner_product_forward(phi, phi0, Z, y);
    kernels::inner_product_forward(dphi, dphi0, Z, dy);
    // The double sums differ by ~1e-16 of sum |terms|; the float results by an ulp when a rounding flips.
    require_close({scalar(dy)}, {scalar(y)}, 1e-6, 1e-6);

    Tensor g = Tensor::from({-0.8f}, Shape{1}), dg = g.to(Device::cuda);
    kernels::inner_product_backward(phi0, g, d_phi, Z);
    kernels::inner_product_backward(dphi0, dg, dd_phi, Z);
    require_close(dd_phi.to_vector(), d_phi.to_vector(), 1e-6, 1e-6);
  }
}
