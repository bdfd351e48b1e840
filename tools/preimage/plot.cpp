// Training-curve chart (tools/preimage/plot.h).
#include "tools/preimage/plot.h"

#include <algorithm>
#include <cmath>

namespace preimage::tools {
namespace {
constexpr int64_t kH = 240, kW = 480, kMargin = 12;

void dot(Tensor& img, int64_t x, int64_t y, const float rgb[3], int r) {
  for (int64_t dy = -r; dy <= r; ++dy)
    for (int64_t dx = -r; dx <= r; ++dx) {
      const int64_t xx = x + dx, yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= kW || yy >= kH) continue;
      for (int c = 0; c < 3; ++c) img.data()[(c * kH + yy) * kW + xx] = rgb[c];
    }
}

// Maps values to rows, top = max; returns false when there is nothing to draw.
struct Axis {
  double lo = 0, hi = 1;
  int64_t row(double v) const {
    const double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    return kH - kMargin - static_cast<int64_t>(std::llround(t * double(kH - 2 * kMargin)));
  }
};
}  // namespace

Tensor plot_curves(const std::vector<std::pair<double, double>>& loss,
                   const std::vector<std::pair<double, double>>& val) {
  Tensor img = Tensor::full(Shape{1, 3, kH, kW}, 255.0f);
  double xmax = 1;
  for (const auto& p : loss) xmax = std::max(xmax, p.first);
  for (const auto& p : val) xmax = std::max(xmax, p.first);
  auto col = [&](double step) {
    return kMargin + static_cast<int64_t>(std::llround(step / xmax * double(kW - 2 * kMargin)));
  };
  const float grey[3] = {200, 200, 200}, blue[3] = {30, 80, 200}, red[3] = {210, 40, 40};
  for (int64_t x = kMargin; x < kW - kMargin; ++x) dot(img, x, kH - kMargin, grey, 0);
  for (int64_t y = kMargin; y < kH - kMargin; ++y) dot(img, kMargin, y, grey, 0);
  Axis la;
  bool first = true;
  for (const auto& p : loss) {
    if (!(p.second > 0) || !std::isfinite(p.second)) continue;
    const double l = std::log10(p.second);
    la.lo = first ? l : std::min(la.lo, l);
    la.hi = first ? l : std::max(la.hi, l);
    first = false;
  }
  for (const auto& p : loss)
    if (p.second > 0 && std::isfinite(p.second)) dot(img, col(p.first), la.row(std::log10(p.second)), blue, 0);
  Axis va;
  first = true;
  for (const auto& p : val) {
    if (!std::isfinite(p.second)) continue;
    va.lo = first ? p.second : std::min(va.lo, p.second);
    va.hi = first ? p.second : std::max(va.hi, p.second);
    first = false;
  }
  va.lo = std::min(va.lo, 0.0);
  for (const auto& p : val)
    if (std::isfinite(p.second)) dot(img, col(p.first), va.row(p.second), red, 2);
  return img;
}

}  // namespace preimage::tools
