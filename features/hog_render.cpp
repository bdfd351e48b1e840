// HOG glyph renderer (features/hog_render.h). The bar rasterisation follows VLFeat's vl_hog_render so the two
// pictures agree pixel for pixel: a line through the glyph centre, stepped along its major axis and rounded.
#include "features/hog_render.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.h"

namespace preimage::features {
namespace {

constexpr double kPi = 3.14159265358979323846;

// glyphs [NO][gs][gs], row-major (row = image y): 1 on the bar of orientation k, else 0.
std::vector<float> make_glyphs(int no, int gs) {
  std::vector<float> g(static_cast<size_t>(no) * gs * gs, 0.0f);
  auto set = [&](int k, long col, long row) {
    if (col >= 0 && col < gs && row >= 0 && row < gs) g[(static_cast<size_t>(k) * gs + row) * gs + col] = 1.0f;
  };
  for (int k = 0; k < no; ++k) {
    // the bar is perpendicular to the gradient direction k*pi/NO
    const double angle = std::fmod(k * kPi / no + kPi / 2, kPi);
    const double dx = gs * std::cos(angle) / 2, dy = gs * std::sin(angle) / 2;
    const double centre = (gs - 1) / 2.0;
    if (angle <= kPi / 4 || angle >= kPi * 3 / 4) {
      // mostly horizontal: one pixel per column, the bar shortened to its projection on x
      const double slope = dy / dx;
      const long skip = static_cast<long>((1 - std::fabs(std::cos(angle))) / 2 * gs);
      for (long col = skip; col < gs - skip; ++col) set(k, col, std::lround(slope * col + (1 - slope) * centre));
    } else {
      const double slope = dx / dy;
      const long skip = static_cast<long>((1 - std::sin(angle)) / 2 * gs);
      for (long row = skip; row < gs - skip; ++row) set(k, std::lround(slope * row + (1 - slope) * centre), row);
    }
  }
  return g;
}

}  // namespace

Tensor hog_render_raw(const View& features, const HogParams& p, int glyph_size) {
  PI_CHECK(features.device == Device::cpu, "hog_render: features must be on the CPU");
  PI_CHECK(features.shape.ndim() == 4 && features.shape.n() == 1, "hog_render: features must be [1, D, hogH, hogW], "
           "got ", features.shape.str());
  PI_CHECK(features.contiguous(), "hog_render: features must be contiguous");
  PI_CHECK(features.shape.c() == hog_dimension(p), "hog_render: features have ", features.shape.c(),
           " channels but the HOG parameters give ", hog_dimension(p), " (variant and number of orientations)");
  PI_CHECK(glyph_size >= 1, "hog_render: glyph size must be at least 1, got ", glyph_size);
  const int no = p.num_orientations, gs = glyph_size;
  const int64_t hh = features.shape.h(), hw = features.shape.w(), stride = hh * hw;
  const int copies = p.variant == HogVariant::uoctti ? 3 : 4;  // channels k + c*NO summed into orientation k
  const std::vector<float> glyphs = make_glyphs(no, gs);
  Tensor out = Tensor::zeros(Shape{1, 1, hh * gs, hw * gs});
  float* img = out.data();  // [hh*gs][hw*gs]
  const int64_t row_stride = hw * gs;
  for (int64_t cy = 0; cy < hh; ++cy) {
    for (int64_t cx = 0; cx < hw; ++cx) {
      float* cell = img + cy * gs * row_stride + cx * gs;
      float lo = 0, hi = 0;
      for (int k = 0; k < no; ++k) {
        float w = 0;
        for (int c = 0; c < copies; ++c) w += features.data[(k + c * no) * stride + cy * hw + cx];
        lo = std::min(lo, w);
        hi = std::max(hi, w);
        const float* gl = glyphs.data() + static_cast<size_t>(k) * gs * gs;
        for (int r = 0; r < gs; ++r)
          for (int q = 0; q < gs; ++q) cell[r * row_stride + q] += w * gl[r * gs + q];
      }
      for (int r = 0; r < gs; ++r)
        for (int q = 0; q < gs; ++q) cell[r * row_stride + q] = std::max(lo, std::min(hi, cell[r * row_stride + q]));
    }
  }
  return out;
}

Tensor hog_render(const View& features, const HogParams& p, int glyph_size) {
  Tensor out = hog_render_raw(features, p, glyph_size);
  float peak = 0;
  for (int64_t i = 0; i < out.numel(); ++i) peak = std::max(peak, out.data()[i]);
  const float scale = peak > 0 ? 255.0f / peak : 0.0f;
  for (int64_t i = 0; i < out.numel(); ++i) out.data()[i] = std::max(0.0f, out.data()[i]) * scale;
  return out;
}

}  // namespace preimage::features
