// LBP: the uniform mapping against libvl's table, features against vl_lbp_process on photos and synthetic images
// for several cell sizes, the not-differentiable refusal, and errors.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

extern "C" {
#include <vl/lbp.h>
}

#include "feature_images.h"
#include "features/lbp.h"
#include "features/lbp_render.h"
#include "kernels/lbp.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {

Tensor vl_lbp(const Tensor& gray, int cell) {
  const int64_t H = gray.shape()[2], W = gray.shape()[3];
  VlLbp* lbp = vl_lbp_new(VlLbpUniform, VL_FALSE);
  Tensor out = Tensor::zeros(Shape{1, 58, H / cell, W / cell});
  std::vector<float> image = gray.to_vector();  // vl_lbp_process takes a non-const pointer
  vl_lbp_process(lbp, out.data(), image.data(), static_cast<vl_size>(W), static_cast<vl_size>(H),
                 static_cast<vl_size>(cell));
  vl_lbp_delete(lbp);
  return out;
}

void check_against_vl(const Tensor& gray, int cell, const std::string& what) {
  Tensor ours = features::lbp(gray.view(), features::LbpParams{cell});
  Tensor ref = vl_lbp(gray, cell);
  REQUIRE(ours.shape() == ref.shape());
  const double err = relative_error(ours.data(), ref.data(), static_cast<size_t>(ref.numel()));
  const double abs_err = max_abs_diff(ours.to_vector(), ref.to_vector());
  INFO(what << " cell " << cell << ": relative error " << err << ", max abs diff " << abs_err);
  CHECK(err <= 1e-6);
  CHECK(abs_err <= 1e-6);
}

}  // namespace

TEST_CASE("lbp uniform mapping equals libvl's table", "[lbp][vlfeat]") {
  VlLbp* lbp = vl_lbp_new(VlLbpUniform, VL_FALSE);
  REQUIRE(vl_lbp_get_dimension(lbp) == 58);
  int mismatches = 0;
  for (unsigned p = 0; p < 256; ++p) mismatches += kernels::ref::lbp_uniform_bin(p) != lbp->mapping[p];
  vl_lbp_delete(lbp);
  CHECK(mismatches == 0);
  // Spot checks of the documented rule: E alone is run j = 1 at i = 0; S, SW, W (bits 2-4) is j = 3 at i = 2.
  CHECK(kernels::ref::lbp_uniform_bin(0x01) == 0);
  CHECK(kernels::ref::lbp_uniform_bin(0x1c) == 7 * 2 + 3 - 1);
  CHECK(kernels::ref::lbp_uniform_bin(0x81) == 7 * 7 + 2 - 1);  // NE, E: wraps around bit 7 -> bit 0
  CHECK(kernels::ref::lbp_uniform_bin(0x05) == 57);
}

TEST_CASE("lbp matches vl_lbp on photos", "[lbp][vlfeat]") {
  struct Crop { std::string path; int64_t top, left, h, w; };
  const std::vector<Crop> crops = {
      {std::string(kSkimageData) + "astronaut.png", 21, 130, 211, 187},
      {std::string(kSkimageData) + "chelsea.png", 7, 91, 153, 201},
      {std::string(kSkimageData) + "coffee.png", 77, 203, 129, 163},
      {std::string(kMateNature) + "Garden.jpg", 301, 411, 205, 229},
  };
  for (const Crop& c : crops) {
    Tensor img = gray_crop(c.path, c.top, c.left, c.h, c.w);
    for (int cell : {16, 8, 5, 3}) check_against_vl(img, cell, c.path);
  }
}

TEST_CASE("lbp matches vl_lbp on synthetic images", "[lbp][vlfeat]") {
  for (Synthetic s : {Synthetic::vertical_edge, Synthetic::diagonal_edge, Synthetic::ramp, Synthetic::flat,
                      Synthetic::noise, Synthetic::disc}) {
    Tensor img = synthetic_image(s, 67, 53, 9);
    for (int cell : {16, 7, 4, 1}) check_against_vl(img, cell, "synthetic " + std::to_string(static_cast<int>(s)));
  }
}

TEST_CASE("lbp cell histograms are normalised square roots", "[lbp]") {
  Tensor img = synthetic_image(Synthetic::noise, 64, 48, 2);
  Tensor f = features::lbp(img.view(), features::LbpParams{16});
  REQUIRE(f.shape() == Shape{1, 58, 4, 3});
  // Each cell is sqrt(h)/sqrt(sum h): its squares sum to 1 (a cell with any votes).
  for (int64_t i = 0; i < 12; ++i) {
    double s = 0;
    for (int k = 0; k < 58; ++k) s += double(f.data()[k * 12 + i]) * f.data()[k * 12 + i];
    CHECK(s == Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("lbp is not differentiable: the tape refuses a gradient", "[lbp][errors]") {
  Tensor img = synthetic_image(Synthetic::disc, 32, 32);
  Tape t;
  Var x = t.leaf(img.view(), true);
  REQUIRE_THROWS_WITH(features::lbp(t, x), Catch::Contains("LBP is not differentiable"));
  Var c = t.leaf(img.view(), false);
  Var f = features::lbp(t, c, features::LbpParams{8});
  CHECK_FALSE(t.requires_grad(f));
  CHECK(t.shape(f) == Shape{1, 58, 4, 4});
}

TEST_CASE("lbp rejects images smaller than a cell and colour input", "[lbp][errors]") {
  Tensor small = Tensor::zeros(Shape{1, 1, 15, 40});
  REQUIRE_THROWS_WITH(features::lbp(small.view(), features::LbpParams{16}), Catch::Contains("smaller than one"));
  Tensor rgb = Tensor::zeros(Shape{1, 3, 40, 40});
  REQUIRE_THROWS_WITH(features::lbp(rgb.view()), Catch::Contains("gray image"));
  Tensor ok = Tensor::zeros(Shape{1, 1, 40, 40});
  REQUIRE_THROWS_WITH(features::lbp(ok.view(), features::LbpParams{0}), Catch::Contains("cell size"));
}

TEST_CASE("lbp glyphs show the dominant pattern's neighbours", "[lbp][render]") {
  Tensor f = Tensor::zeros(Shape{1, 58, 1, 2});
  f.data()[0 * 2 + 0] = 1.0f;   // cell 0: bin 0 = E brighter (run of 1 at bit 0): red, right-middle block
  f.data()[56 * 2 + 1] = 0.5f;  // cell 1: flat pattern: all 8 neighbours gray at half weight
  Tensor img = features::render_lbp(f.view(), 9, 19, 9);
  REQUIRE(img.shape() == Shape{1, 3, 9, 19});
  auto at = [&](int c, int x, int y) { return img.data()[(c * 9 + y) * 19 + x]; };
  CHECK(at(0, 7, 4) == 255.0f);  // E block of cell 0 (x 6..8, y 3..5): red
  CHECK(at(1, 7, 4) == 0.0f);
  CHECK(at(0, 4, 1) == 0.0f);    // N block: off
  CHECK(at(0, 9 + 7, 7) == Approx(0.6f * 0.5f * 255.0f));  // SE block of cell 1: gray
  CHECK(at(0, 18, 4) == 0.0f);   // beyond the last full cell: black
  REQUIRE_THROWS_WITH(features::render_lbp(f.view(), 9, 28, 9), Catch::Contains("do not match"));
}
