#pragma once
// Smooth synthetic photos for the decoder tests (tests/test_decoder_training.cpp, tests/gpu/): gradients and a disc
// per photo, [1, 3, h, w] in 0..255 -- something a tiny decoder can learn, unlike white noise.
#include <algorithm>
#include <string>

#include "solvers/decoder_data.h"

namespace preimage::test {

inline solvers::PhotoSet synthetic_photos(int count, int64_t h, int64_t w) {
  solvers::PhotoSet set;
  for (int p = 0; p < count; ++p) {
    Tensor t = Tensor::empty(Shape{1, 3, h, w});
    const double cy = h * (0.3 + 0.1 * p), cx = w * (0.6 - 0.1 * p), r = 0.2 * double(std::min(h, w));
    for (int c = 0; c < 3; ++c)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const bool in = (y - cy) * (y - cy) + (x - cx) * (x - cx) < r * r;
          const double v = 40 + 150.0 * (c == 0 ? double(x) / w : c == 1 ? double(y) / h : 0.5) + (in ? 60 * p - 50 : 0);
          t.data()[(c * h + y) * w + x] = static_cast<float>(std::clamp(v, 0.0, 255.0));
        }
    set.photos.push_back(solvers::Photo{"synthetic" + std::to_string(p), std::move(t)});
  }
  return set;
}

}  // namespace preimage::test
