// Sparse SIFT grid: channel layout and values against keypoints taken from libvl directly, one keypoint per cell by
// the documented rule, determinism and order independence, shapes on odd sizes, errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include <vl/generic.h>
#include <vl/sift.h>
}

#include "feature_images.h"
#include "features/sift_grid.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {

struct VlKey {
  double x, y, sigma, angle;
  std::vector<float> descr;
};

// The oracle: vl_sift(W, H, -1, 3, 0), every octave, first orientation of each keypoint.
std::vector<VlKey> vl_keys(const Tensor& gray) {
  const int H = static_cast<int>(gray.shape()[2]), W = static_cast<int>(gray.shape()[3]);
  VlSiftFilt* f = vl_sift_new(W, H, -1, 3, 0);
  std::vector<VlKey> keys;
  for (int err = vl_sift_process_first_octave(f, gray.data()); err != VL_ERR_EOF; err = vl_sift_process_next_octave(f)) {
    vl_sift_detect(f);
    const VlSiftKeypoint* k = vl_sift_get_keypoints(f);
    for (int i = 0; i < vl_sift_get_nkeypoints(f); ++i) {
      double a[4];
      if (vl_sift_calc_keypoint_orientations(f, a, &k[i]) < 1) continue;
      VlKey key{k[i].x, k[i].y, k[i].sigma, a[0], std::vector<float>(128)};
      vl_sift_calc_keypoint_descriptor(f, key.descr.data(), &k[i], a[0]);
      keys.push_back(key);
    }
  }
  vl_sift_delete(f);
  return keys;
}

int64_t cell_index(const VlKey& k, int d, int64_t GW, int64_t GH) {
  const int64_t cx = std::clamp<int64_t>(static_cast<int64_t>(std::floor(k.x / d)), 0, GW - 1);
  const int64_t cy = std::clamp<int64_t>(static_cast<int64_t>(std::floor(k.y / d)), 0, GH - 1);
  return cy * GW + cx;
}

}  // namespace

TEST_CASE("sift grid layout and values equal libvl keypoints with one per cell by largest scale", "[sift_grid][vlfeat]") {
  const std::vector<std::pair<std::string, Tensor>> images = [] {
    std::vector<std::pair<std::string, Tensor>> v;
    v.emplace_back("astronaut", gray_crop(std::string(kSkimageData) + "astronaut.png", 10, 100, 181, 203));
    v.emplace_back("coffee", gray_crop(std::string(kSkimageData) + "coffee.png", 50, 150, 157, 171));
    v.emplace_back("chelsea", gray_crop(std::string(kSkimageData) + "chelsea.png", 40, 60, 151, 173));
    return v;
  }();
  int crowded_total = 0;
  for (const auto& [name, img] : images) {
    for (int d : {4, 7}) {
      const int64_t H = img.shape()[2], W = img.shape()[3];
      const int64_t GH = (H + d - 1) / d, GW = (W + d - 1) / d, cells = GH * GW;
      Tensor grid = features::sift_grid(img.view(), features::SiftGridParams{d});
      REQUIRE(grid.shape() == Shape{1, 133, GH, GW});
      const std::vector<VlKey> keys = vl_keys(img);
      REQUIRE(keys.size() > 5);
      // Expected: per cell, the keypoint of largest sigma (ties: smaller y, x, angle).
      std::map<int64_t, const VlKey*> best;
      std::map<int64_t, int> count;
      for (const VlKey& k : keys) {
        const int64_t c = cell_index(k, d, GW, GH);
        ++count[c];
        const VlKey*& b = best[c];
        if (b == nullptr || std::make_tuple(-k.sigma, k.y, k.x, k.angle) < std::make_tuple(-b->sigma, b->y, b->x, b->angle))
          b = &k;
      }
      int crowded = 0;
      for (auto& [c, n] : count) crowded += n > 1;
      INFO(name << " d " << d << ": " << keys.size() << " keypoints in " << best.size() << " cells, " << crowded
                << " cells with several");
      const float* g = grid.data();
      int64_t nonzero_cells = 0;
      double max_err = 0;
      for (int64_t i = 0; i < cells; ++i) {
        bool any = false;
        for (int ch = 0; ch < 133; ++ch) any |= g[ch * cells + i] != 0.0f;
        nonzero_cells += any;
        auto it = best.find(i);
        if (it == best.end()) {
          CHECK_FALSE(any);
          continue;
        }
        const VlKey& k = *it->second;
        for (int ch = 0; ch < 128; ++ch) max_err = std::max(max_err, double(std::abs(g[ch * cells + i] - k.descr[ch])));
        const double expect[5] = {std::fmod(k.x, d), std::fmod(k.y, d), std::sin(k.angle), std::cos(k.angle),
                                  std::log(k.sigma)};
        for (int j = 0; j < 5; ++j) max_err = std::max(max_err, std::abs(g[(128 + j) * cells + i] - expect[j]));
        CHECK(g[features::kSiftChannelXMod * cells + i] >= 0.0f);
        CHECK(g[features::kSiftChannelXMod * cells + i] < float(d));
        CHECK(g[features::kSiftChannelYMod * cells + i] < float(d));
      }
      CHECK(nonzero_cells == static_cast<int64_t>(best.size()));
      CHECK(max_err <= 1e-6);
      crowded_total += crowded;
    }
  }
  CHECK(crowded_total > 5);  // the selection rule was exercised
}

TEST_CASE("sift grid is deterministic and independent of keypoint order", "[sift_grid]") {
  Tensor img = gray_crop(std::string(kSkimageData) + "chelsea.png", 30, 120, 129, 143);
  Tensor a = features::sift_grid(img.view()), b = features::sift_grid(img.view());
  CHECK(a.to_vector() == b.to_vector());
  std::vector<features::SiftKeypoint> keys = features::sift_keypoints(img.view());
  REQUIRE(keys.size() > 10);
  std::mt19937 rng(5);
  std::shuffle(keys.begin(), keys.end(), rng);
  Tensor c = features::scatter_sift_grid(keys, 129, 143);
  CHECK(c.to_vector() == a.to_vector());
  // A batch is processed image by image.
  Tensor batch = Tensor::empty(Shape{2, 1, 129, 143});
  std::copy(img.data(), img.data() + img.numel(), batch.data());
  std::copy(img.data(), img.data() + img.numel(), batch.data() + img.numel());
  Tensor both = features::sift_grid(batch.view());
  const std::vector<float> v = both.to_vector(), one = a.to_vector();
  CHECK(std::vector<float>(v.begin(), v.begin() + a.numel()) == one);
  CHECK(std::vector<float>(v.begin() + a.numel(), v.end()) == one);
}

TEST_CASE("sift grid scatter places keypoints in cells with clamping and the tie rule", "[sift_grid]") {
  features::SiftKeypoint k1, k2, k3;
  k1.x = 5.5f; k1.y = 2.25f; k1.sigma = 2.0f; k1.angle = 0.5; k1.descriptor.fill(0.1f);
  k2 = k1; k2.sigma = 3.0f; k2.x = 6.0f; k2.descriptor.fill(0.2f);         // same cell (1, 0), larger: wins
  k3 = k1; k3.x = 10.9f; k3.y = 10.9f; k3.angle = -1.0; k3.descriptor.fill(0.3f);  // beyond 11x11 grid end: clamped
  Tensor g = features::scatter_sift_grid({k1, k2, k3}, 11, 11);
  REQUIRE(g.shape() == Shape{1, 133, 3, 3});
  const float* o = g.data();
  CHECK(o[0 * 9 + 1] == 0.2f);
  CHECK(o[features::kSiftChannelXMod * 9 + 1] == 2.0f);
  CHECK(o[features::kSiftChannelYMod * 9 + 1] == 2.25f);
  CHECK(o[features::kSiftChannelLogScale * 9 + 1] == Approx(std::log(3.0)));
  CHECK(o[0 * 9 + 8] == 0.3f);
  CHECK(o[features::kSiftChannelSin * 9 + 8] == Approx(std::sin(-1.0)));
  CHECK(o[features::kSiftChannelCos * 9 + 8] == Approx(std::cos(-1.0)));
  // Equal scale: the smaller y wins, then the smaller x.
  features::SiftKeypoint a = k1, b = k1;
  b.y = 2.0f;
  CHECK(features::sift_keypoint_preferred(b, a));
  b = k1;
  b.x = 5.0f;
  CHECK(features::sift_keypoint_preferred(b, a));
  CHECK_FALSE(features::sift_keypoint_preferred(a, a));
}

TEST_CASE("sift grid rejects small and colour inputs", "[sift_grid][errors]") {
  Tensor small = Tensor::zeros(Shape{1, 1, 15, 64});
  REQUIRE_THROWS_WITH(features::sift_grid(small.view()), Catch::Contains("too small"));
  Tensor rgb = Tensor::zeros(Shape{1, 3, 64, 64});
  REQUIRE_THROWS_WITH(features::sift_grid(rgb.view()), Catch::Contains("gray"));
  Tensor ok = Tensor::zeros(Shape{1, 1, 64, 64});
  REQUIRE_THROWS_WITH(features::sift_grid(ok.view(), features::SiftGridParams{0}), Catch::Contains("cell size"));
}
