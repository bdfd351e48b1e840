// Display stretch, anti-aliased resampling (against PyTorch's antialias=True) and 16-bit PNG round trips.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <vector>

#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

TEST_CASE("resize_antialiased matches PyTorch's antialiased bilinear", "[image_ops]") {
  const Golden g = read_golden("resize_antialiased");
  const Tensor x = golden_tensor(g, "x");
  for (const char* name : {"shrink", "shrink5x", "grow", "mixed"}) {
    INFO(name);
    const Tensor want = golden_tensor(g, name);
    const Tensor got = resize_antialiased(x.view(), want.shape()[2], want.shape()[3]);
    REQUIRE(got.shape() == want.shape());
    // float32 output of a float64 filter: rounding only (values up to 255)
    CHECK(max_abs_diff(got.to_vector(), want.to_vector()) < 1e-3);
  }
  // the plain bilinear resize aliases: shrinking 5x it is far from the filtered result
  const Tensor want = golden_tensor(g, "shrink5x");
  CHECK(max_abs_diff(resize_bilinear(x.view(), 7, 10).to_vector(), want.to_vector()) > 5.0);
}

TEST_CASE("stretch_for_display maps the percentiles to black and white", "[image_ops]") {
  // 0..100 and one outlier: the 1st/99th percentiles are 1 and 99, the outlier clamps to white
  std::vector<float> v;
  for (int i = 0; i <= 100; ++i) v.push_back(static_cast<float>(i));
  v.back() = 1e6f;
  const Tensor img = Tensor::from(v, Shape{1, 1, 1, 101});
  const Tensor s = stretch_for_display(img.view(), 1.0);
  CHECK(s.data()[0] == 0.0f);
  CHECK(s.data()[1] == 0.0f);
  CHECK(s.data()[50] == Approx(255.0 * 49 / 98).margin(1e-3));
  CHECK(s.data()[99] == 255.0f);
  CHECK(s.data()[100] == 255.0f);
  const Tensor flat = stretch_for_display(Tensor::full(Shape{1, 3, 4, 4}, 7.0f).view());
  CHECK(flat.data()[0] == 128.0f);
  CHECK_THROWS(stretch_for_display(img.view(), 50.0));
}

TEST_CASE("16-bit PNG keeps a reconstruction to 1/514 of a grey level; 8-bit does not", "[image_io]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "preimage_png16_test";
  std::filesystem::create_directories(dir);
  for (int64_t c : {1, 3}) {
    INFO("channels " << c);
    Tensor img = random_tensor(Shape{1, c, 9, 13}, 5 + c, 100.0f, 140.0f);  // low contrast, fractional
    img.data()[0] = -3.0f;                                                   // clamped like write_png
    img.data()[1] = 300.0f;
    const std::string p16 = (dir / "r16.png").string(), p8 = (dir / "r8.png").string();
    write_png16(p16, img.view());
    write_png(p8, img.view());
    const Tensor back16 = read_image(p16), back8 = read_image(p8);
    REQUIRE(back16.shape() == img.shape());
    CHECK(back16.data()[0] == 0.0f);
    CHECK(back16.data()[1] == 255.0f);
    double e16 = 0, e8 = 0;
    for (int64_t i = 2; i < img.numel(); ++i) {
      e16 = std::max(e16, std::fabs(double(back16.data()[i]) - img.data()[i]));
      e8 = std::max(e8, std::fabs(double(back8.data()[i]) - img.data()[i]));
    }
    CHECK(e16 <= 0.5 / 257 + 1e-4);
    CHECK(e8 > 0.1);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("pad_edge replicates the border pixels", "[image_ops]") {
  // [1, 2, 2, 3]: channel k, row y, column x holds 100 k + 10 y + x.
  Tensor img = Tensor::empty(Shape{1, 2, 2, 3});
  for (int64_t k = 0; k < 2; ++k)
    for (int64_t y = 0; y < 2; ++y)
      for (int64_t x = 0; x < 3; ++x) img.data()[(k * 2 + y) * 3 + x] = float(100 * k + 10 * y + x);
  const Tensor p = pad_edge(img.view(), 1, 2, 3, 0);
  REQUIRE(p.shape() == Shape{1, 2, 6, 5});
  auto at = [&](int64_t k, int64_t y, int64_t x) { return p.data()[(k * 6 + y) * 5 + x]; };
  CHECK(at(0, 0, 0) == 0.0f);    // top-left corner: pixel (0, 0)
  CHECK(at(1, 1, 2) == 100.0f);  // first real row, first real column
  CHECK(at(1, 2, 4) == 112.0f);  // second row, last column
  CHECK(at(0, 5, 1) == 10.0f);   // bottom padding repeats the last row; left padding its first column
  CHECK(at(0, 5, 3) == 11.0f);
  CHECK_THROWS(pad_edge(img.view(), -1, 0, 0, 0));
}
