// DSIFT glyph renderer (features/dsift_render.h).
#include "features/dsift_render.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace preimage::features {

Tensor render_dsift(const View& descriptors, int64_t height, int64_t width, const kernels::DsiftParams& p,
                    const DsiftRenderOptions& o) {
  using kernels::DsiftGeometry;
  PI_CHECK(descriptors.device == Device::cpu && descriptors.contiguous(), "render_dsift: descriptors must be a "
           "contiguous host tensor");
  PI_CHECK(o.zoom >= 1 && o.full_scale > 0, "render_dsift: zoom must be >= 1 and full_scale > 0");
  const DsiftGeometry g = kernels::dsift_geometry(height, width, p);
  PI_CHECK(descriptors.shape == (Shape{1, DsiftGeometry::kDims, g.frames_y, g.frames_x}), "render_dsift: descriptors ",
           descriptors.shape.str(), " do not match a ", height, "x", width, " image with step ", p.step,
           " and bin_size ", p.bin_size, " (expected [1, 128, ", g.frames_y, ", ", g.frames_x, "])");
  const int64_t Z = o.zoom, OH = height * Z, OW = width * Z, F = g.frames_y * g.frames_x;
  const double bs = g.bin_size;
  Tensor out = Tensor::zeros(Shape{1, 1, OH, OW});
  float* img = out.data();  // [OH, OW]
  auto plot = [&](double x, double y, float v) {  // x, y in image pixels
    const int64_t px = static_cast<int64_t>(std::floor(x * Z + 0.5)), py = static_cast<int64_t>(std::floor(y * Z + 0.5));
    if (px < 0 || py < 0 || px >= OW || py >= OH) return;
    float& dst = img[py * OW + px];
    dst = std::max(dst, v);
  };
  const int64_t stride = std::max<int64_t>(1, (4 * g.bin_size + g.step - 1) / g.step);
  for (int64_t fy = 0; fy < g.frames_y; fy += stride) {
    for (int64_t fx = 0; fx < g.frames_x; fx += stride) {
      for (int by = 0; by < 4; ++by) {
        for (int bx = 0; bx < 4; ++bx) {
          const double cx = double(fx * g.step + bx * g.bin_size), cy = double(fy * g.step + by * g.bin_size);
          if (o.grid) {  // the bin's square, bs wide around its centre
            for (double s = -bs / 2; s <= bs / 2; s += 0.5 / Z) {
              plot(cx - bs / 2, cy + s, 48.0f);
              plot(cx + s, cy - bs / 2, 48.0f);
            }
          }
          const double max_len = std::max(bs / 2 - 0.5, 0.5);
          for (int t = 0; t < 8; ++t) {
            const float v = descriptors.data[(t + 8 * (bx + 4 * by)) * F + fy * g.frames_x + fx];
            const double len = std::min(1.0, double(v) / o.full_scale) * max_len;
            if (len <= 0) continue;
            const double a = t * 2 * 3.141592653589793 / 8;
            for (double r = 0; r <= len; r += 0.25 / Z) plot(cx + r * std::cos(a), cy + r * std::sin(a), 255.0f);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace preimage::features
