#include "engine/image_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/error.h"
#include "engine/image_io.h"

namespace preimage {
namespace {
void check_image(const char* op, const View& v) {
  PI_CHECK(v.device == Device::cpu && v.shape.ndim() == 4 && v.shape[0] == 1 && v.contiguous(), op,
           ": expected a contiguous [1, C, H, W] host image, got ", v.shape.str());
}

// 2x2 box average (odd trailing row/column dropped): one octave down.
Tensor halve(const View& x) {
  const int64_t c = x.shape[1], h = x.shape[2], w = x.shape[3], h2 = h / 2, w2 = w / 2;
  Tensor y = Tensor::empty(Shape{1, c, h2, w2});
  for (int64_t k = 0; k < c; ++k)
    for (int64_t i = 0; i < h2; ++i)
      for (int64_t j = 0; j < w2; ++j) {
        const float* p = x.data + (k * h + 2 * i) * w + 2 * j;
        y.data()[(k * h2 + i) * w2 + j] = 0.25f * (p[0] + p[1] + p[w] + p[w + 1]);
      }
  return y;
}
}  // namespace

Tensor crop_image(const View& image, int64_t top, int64_t left, int64_t height, int64_t width) {
  check_image("crop_image", image);
  const int64_t c = image.shape[1], h = image.shape[2], w = image.shape[3];
  PI_CHECK(top >= 0 && left >= 0 && height > 0 && width > 0 && top + height <= h && left + width <= w,
           "crop_image: window ", height, "x", width, " at (", top, ", ", left, ") is outside the ", h, "x", w,
           " image");
  Tensor out = Tensor::empty(Shape{1, c, height, width});
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < height; ++y)
      std::copy(image.data + (k * h + top + y) * w + left, image.data + (k * h + top + y) * w + left + width,
                out.data() + (k * height + y) * width);
  return out;
}

Tensor pad_edge(const View& image, int64_t top, int64_t left, int64_t bottom, int64_t right) {
  check_image("pad_edge", image);
  PI_CHECK(top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "pad_edge: negative padding");
  const int64_t c = image.shape[1], h = image.shape[2], w = image.shape[3];
  const int64_t oh = h + top + bottom, ow = w + left + right;
  Tensor out = Tensor::empty(Shape{1, c, oh, ow});
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < oh; ++y) {
      const float* row = image.data + (k * h + std::clamp<int64_t>(y - top, 0, h - 1)) * w;
      float* o = out.data() + (k * oh + y) * ow;
      for (int64_t x = 0; x < ow; ++x) o[x] = row[std::clamp<int64_t>(x - left, 0, w - 1)];
    }
  return out;
}

Tensor center_square(const View& image) {
  check_image("center_square", image);
  const int64_t h = image.shape[2], w = image.shape[3], s = std::min(h, w);
  return crop_image(image, (h - s) / 2, (w - s) / 2, s, s);
}

Tensor resize_bilinear(const View& image, int64_t height, int64_t width) {
  check_image("resize_bilinear", image);
  PI_CHECK(height > 0 && width > 0, "resize_bilinear: output size must be positive");
  Tensor shrunk;
  View src = image;
  while (src.shape[2] >= 4 * height && src.shape[3] >= 4 * width) {
    shrunk = halve(src);
    src = shrunk.view();
  }
  const int64_t c = src.shape[1], h = src.shape[2], w = src.shape[3];
  Tensor out = Tensor::empty(Shape{1, c, height, width});
  const double sy = double(h) / height, sx = double(w) / width;
  for (int64_t i = 0; i < height; ++i) {
    const double fy = std::clamp((i + 0.5) * sy - 0.5, 0.0, double(h - 1));
    const int64_t y0 = static_cast<int64_t>(fy), y1 = std::min(y0 + 1, h - 1);
    const float ay = static_cast<float>(fy - y0);
    for (int64_t j = 0; j < width; ++j) {
      const double fx = std::clamp((j + 0.5) * sx - 0.5, 0.0, double(w - 1));
      const int64_t x0 = static_cast<int64_t>(fx), x1 = std::min(x0 + 1, w - 1);
      const float ax = static_cast<float>(fx - x0);
      for (int64_t k = 0; k < c; ++k) {
        const float* p = src.data + k * h * w;
        const float top = p[y0 * w + x0] * (1 - ax) + p[y0 * w + x1] * ax;
        const float bot = p[y1 * w + x0] * (1 - ax) + p[y1 * w + x1] * ax;
        out.data()[(k * height + i) * width + j] = top * (1 - ay) + bot * ay;
      }
    }
  }
  return out;
}

namespace {
// One axis of resize_antialiased: for each output index, the first input index and the normalised weights.
struct AxisTaps {
  std::vector<int64_t> first;
  std::vector<std::vector<double>> weights;
};
AxisTaps antialias_taps(int64_t in, int64_t out) {
  const double scale = double(in) / out, support = std::max(scale, 1.0);
  AxisTaps t;
  for (int64_t i = 0; i < out; ++i) {
    const double centre = (i + 0.5) * scale;
    const auto lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(centre - support + 0.5)));
    const auto hi = std::min<int64_t>(in, static_cast<int64_t>(std::floor(centre + support + 0.5)));
    std::vector<double> w;
    double sum = 0;
    for (int64_t x = lo; x < hi; ++x) {
      const double v = std::max(0.0, 1.0 - std::fabs((x + 0.5 - centre) / support));
      w.push_back(v);
      sum += v;
    }
    for (double& v : w) v /= sum;
    t.first.push_back(lo);
    t.weights.push_back(std::move(w));
  }
  return t;
}
}  // namespace

Tensor resize_antialiased(const View& image, int64_t height, int64_t width) {
  check_image("resize_antialiased", image);
  PI_CHECK(height > 0 && width > 0, "resize_antialiased: output size must be positive");
  const int64_t c = image.shape[1], h = image.shape[2], w = image.shape[3];
  const AxisTaps tx = antialias_taps(w, width), ty = antialias_taps(h, height);
  std::vector<double> rows(static_cast<size_t>(c * h * width));  // horizontal pass: [C, h, width]
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y) {
      const float* src = image.data + (k * h + y) * w;
      for (int64_t j = 0; j < width; ++j) {
        double a = 0;
        const std::vector<double>& wt = tx.weights[static_cast<size_t>(j)];
        for (size_t t = 0; t < wt.size(); ++t) a += wt[t] * src[tx.first[static_cast<size_t>(j)] + static_cast<int64_t>(t)];
        rows[static_cast<size_t>((k * h + y) * width + j)] = a;
      }
    }
  Tensor out = Tensor::empty(Shape{1, c, height, width});
  for (int64_t k = 0; k < c; ++k)
    for (int64_t i = 0; i < height; ++i) {
      const std::vector<double>& wt = ty.weights[static_cast<size_t>(i)];
      for (int64_t j = 0; j < width; ++j) {
        double a = 0;
        for (size_t t = 0; t < wt.size(); ++t)
          a += wt[t] * rows[static_cast<size_t>((k * h + ty.first[static_cast<size_t>(i)] + static_cast<int64_t>(t)) * width + j)];
        out.data()[(k * height + i) * width + j] = static_cast<float>(a);
      }
    }
  return out;
}

Tensor contact_sheet(const std::vector<View>& images, int64_t height, int64_t gap) {
  PI_CHECK(!images.empty() && height > 0, "contact_sheet: nothing to compose");
  std::vector<Tensor> tiles;
  int64_t width = gap;
  for (const View& v : images) {
    check_image("contact_sheet", v);
    const int64_t w = std::max<int64_t>(1, std::llround(double(v.shape[3]) * height / v.shape[2]));
    Tensor t = resize_bilinear(v, height, w);
    if (t.shape()[1] == 1) t = gray_to_rgb(t.view());
    width += w + gap;
    tiles.push_back(std::move(t));
  }
  Tensor sheet = Tensor::full(Shape{1, 3, height + 2 * gap, width}, 255.0f);
  const int64_t H = height + 2 * gap;
  int64_t x = gap;
  for (const Tensor& t : tiles) {
    const int64_t w = t.shape()[3];
    for (int64_t k = 0; k < 3; ++k)
      for (int64_t y = 0; y < height; ++y)
        std::copy(t.data() + (k * height + y) * w, t.data() + (k * height + y + 1) * w,
                  sheet.data() + (k * H + y + gap) * width + x);
    x += w + gap;
  }
  return sheet;
}

Tensor stretch_contrast(const View& image) {
  check_image("stretch_contrast", image);
  Tensor out = Tensor::copy_of(image);
  const auto [lo, hi] = std::minmax_element(out.data(), out.data() + out.numel());
  const float a = *lo, b = *hi;
  for (int64_t i = 0; i < out.numel(); ++i) out.data()[i] = b > a ? 255.0f * (out.data()[i] - a) / (b - a) : 128.0f;
  return out;
}

Tensor stretch_for_display(const View& image, double percent) {
  check_image("stretch_for_display", image);
  PI_CHECK(percent >= 0 && percent < 50, "stretch_for_display: percent = ", percent, " must be in [0, 50)");
  const int64_t n = image.numel();
  std::vector<float> sorted(image.data, image.data + n);
  for (float& v : sorted)
    if (!std::isfinite(v)) v = -std::numeric_limits<float>::infinity();
  const auto at = [&](double q) {  // the value of rank q * (n - 1), nearest rank
    const auto k = static_cast<int64_t>(std::llround(q * static_cast<double>(n - 1)));
    std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
    return sorted[static_cast<size_t>(k)];
  };
  const float lo = at(percent / 100), hi = at(1 - percent / 100);
  Tensor out = Tensor::empty(image.shape);
  for (int64_t i = 0; i < n; ++i) {
    const float v = image.data[i];
    out.data()[i] = !(hi > lo) || !std::isfinite(lo) ? 128.0f
                    : !std::isfinite(v)               ? 0.0f
                                                      : std::clamp(255.0f * (v - lo) / (hi - lo), 0.0f, 255.0f);
  }
  return out;
}

}  // namespace preimage
