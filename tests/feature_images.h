#pragma once
// Test images for the feature tests (DSIFT, LBP, sparse SIFT): gray crops of real photos (skimage data, MATE
// backgrounds; Debian packages, never downloaded) and small synthetic images. Values 0..255, layout [1, 1, H, W].
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/tensor.h"
#include "support.h"

namespace preimage::test {

inline const char* kSkimageData = "/usr/lib/python3/dist-packages/skimage/data/";
inline const char* kMateNature = "/usr/share/backgrounds/mate/nature/";

// Gray crop [1, 1, h, w] at (top, left) of a photo (rgb_to_gray of the decoded RGB).
inline Tensor gray_crop(const std::string& path, int64_t top, int64_t left, int64_t h, int64_t w) {
  Tensor rgb = read_image(path, ImageChannels::rgb);
  Tensor gray = rgb_to_gray(rgb);
  const int64_t H = gray.shape()[2], W = gray.shape()[3];
  PI_CHECK(top + h <= H && left + w <= W, "gray_crop: ", path, " is ", H, "x", W, ", too small for the crop");
  Tensor out = Tensor::empty(Shape{1, 1, h, w});
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) out.data()[y * w + x] = gray.data()[(top + y) * W + left + x];
  return out;
}

enum class Synthetic { vertical_edge, diagonal_edge, ramp, flat, noise, disc };

inline Tensor synthetic_image(Synthetic kind, int64_t h, int64_t w, uint64_t seed = 1) {
  Tensor out = Tensor::empty(Shape{1, 1, h, w});
  const std::vector<double> noise = random_vector(static_cast<size_t>(h * w), seed, 0.0, 255.0);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      double v = 0;
      switch (kind) {
        case Synthetic::vertical_edge: v = x < w / 2 ? 40 : 200; break;
        case Synthetic::diagonal_edge: v = x + 2 * y < (w + h) / 2 ? 30 : 220; break;
        case Synthetic::ramp: v = 1.7 * x + 0.6 * y; break;
        case Synthetic::flat: v = 128; break;
        case Synthetic::noise: v = noise[static_cast<size_t>(y * w + x)]; break;
        case Synthetic::disc: v = std::hypot(x - w / 2.0, y - h / 2.0) < std::min(h, w) / 3.0 ? 230 : 20; break;
      }
      out.data()[y * w + x] = static_cast<float>(v);
    }
  }
  return out;
}

// ||a - b|| / ||b|| over whole tensors (the feature-norm relative error the feature tests bound).
inline double relative_error(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace preimage::test
