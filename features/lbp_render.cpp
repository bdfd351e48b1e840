// LBP glyph renderer (features/lbp_render.h).
#include "features/lbp_render.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "kernels/lbp.h"

namespace preimage::features {

namespace {
// Neighbour of bit k (E, SE, S, SW, W, NW, N, NE), as (column, row) in a 3x3 block.
constexpr int kBitCol[8] = {2, 2, 1, 0, 0, 0, 1, 2};
constexpr int kBitRow[8] = {1, 2, 2, 2, 1, 0, 0, 0};

void hue_to_rgb(double h, float rgb[3]) {  // h in [0, 1): full saturation and value
  const double k[3] = {5, 3, 1};
  for (int c = 0; c < 3; ++c) {
    const double kk = std::fmod(k[c] + h * 6, 6.0);
    rgb[c] = static_cast<float>(1 - std::max(0.0, std::min({kk, 4 - kk, 1.0})));
  }
}
}  // namespace

Tensor render_lbp(const View& f, int64_t height, int64_t width, int cell) {
  PI_CHECK(f.device == Device::cpu && f.contiguous(), "render_lbp: features must be a contiguous host tensor");
  const Shape expected = kernels::lbp_output_shape(Shape{1, 1, height, width}, cell);
  PI_CHECK(f.shape == expected, "render_lbp: features ", f.shape.str(), " do not match a ", height, "x", width,
           " image with cell ", cell, " (expected ", expected.str(), ")");
  const int64_t CH = expected[2], CW = expected[3], cells = CH * CW;
  Tensor out = Tensor::zeros(Shape{1, 3, height, width});
  float* o = out.data();  // [3, H, W]
  for (int64_t cy = 0; cy < CH; ++cy) {
    for (int64_t cx = 0; cx < CW; ++cx) {
      int best = 0;
      for (int k = 1; k < kernels::kLbpBins; ++k)
        if (f.data[k * cells + cy * CW + cx] > f.data[best * cells + cy * CW + cx]) best = k;
      const float weight = std::min(1.0f, f.data[best * cells + cy * CW + cx]);
      // lit[r][c] -> colour of the 3x3 block cell (r, c)
      float colour[3][3][3] = {};
      if (best < 56) {
        const int i = best / 7, j = best % 7 + 1;
        float rgb[3];
        hue_to_rgb(i / 8.0, rgb);
        for (int b = i; b < i + j; ++b)
          for (int c = 0; c < 3; ++c) colour[kBitRow[b % 8]][kBitCol[b % 8]][c] = rgb[c] * weight;
        for (int c = 0; c < 3; ++c) colour[1][1][c] = 0.25f;
      } else if (best == 56) {
        for (int b = 0; b < 8; ++b)
          for (int c = 0; c < 3; ++c) colour[kBitRow[b]][kBitCol[b]][c] = 0.6f * weight;
      } else {
        for (int c = 0; c < 3; ++c) colour[1][1][c] = weight;
      }
      for (int64_t y = 0; y < cell; ++y) {
        for (int64_t x = 0; x < cell; ++x) {
          // Each block cell is a third of the LBP cell; a one-pixel black margin separates the cells.
          if (cell >= 4 && (x == 0 || y == 0)) continue;
          const int r = static_cast<int>(std::min<int64_t>(2, y * 3 / cell));
          const int c = static_cast<int>(std::min<int64_t>(2, x * 3 / cell));
          const int64_t py = cy * cell + y, px = cx * cell + x;
          for (int ch = 0; ch < 3; ++ch) o[(ch * height + py) * width + px] = 255.0f * colour[r][c][ch];
        }
      }
    }
  }
  return out;
}

}  // namespace preimage::features
