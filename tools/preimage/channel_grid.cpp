#include "tools/preimage/channel_grid.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/image_ops.h"

namespace preimage::tools {

Tensor channel_grid(const View& activations, int64_t min_side) {
  PI_CHECK(activations.device == Device::cpu && activations.shape.ndim() == 4 && activations.shape[0] == 1 &&
               activations.contiguous(),
           "channel_grid: expected a contiguous [1, C, h, w] host tensor, got ", activations.shape.str());
  const int64_t c = activations.shape[1], h = activations.shape[2], w = activations.shape[3];
  // One stretch for all channels: view them as one [1, 1, C*h, w] image.
  const View flat{activations.data, Shape{1, 1, c * h, w}, activations.device};
  const Tensor shown = stretch_for_display(flat);
  const auto cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(c))));
  const int64_t rows = (c + cols - 1) / cols;
  const int64_t gap = h * w > 1 ? 1 : 0;  // single-pixel tiles of an fc layer touch
  const int64_t gh0 = rows * (h + gap) - gap, gw0 = cols * (w + gap) - gap;
  const int64_t scale = std::max<int64_t>(1, (min_side + std::min(gh0, gw0) - 1) / std::min(gh0, gw0));
  const int64_t th = h * scale, tw = w * scale, g = gap * std::max<int64_t>(1, scale / 8);
  const int64_t gh = rows * (th + g) - g, gw = cols * (tw + g) - g;
  Tensor out = Tensor::full(Shape{1, 1, gh, gw}, 255.0f);
  for (int64_t k = 0; k < c; ++k) {
    const int64_t top = (k / cols) * (th + g), left = (k % cols) * (tw + g);
    const float* src = shown.data() + k * h * w;  // [h, w]
    for (int64_t y = 0; y < th; ++y)
      for (int64_t x = 0; x < tw; ++x) out.data()[(top + y) * gw + left + x] = src[(y / scale) * w + x / scale];
  }
  return out;
}

}  // namespace preimage::tools
