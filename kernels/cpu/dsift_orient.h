#pragma once
// DSIFT's orientation stage one pixel at a time (kernels/dsift.h, stage 1), shared by the reference (planar
// [8, H, W]) and the interleaved fast path ([H][W][8]) so that both compute each pixel with the same operations:
// the layouts differ, the arithmetic cannot.
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/vl_fast_sqrt.h"
#include "kernels/dsift.h"

namespace preimage::kernels::dsift_pixel {

constexpr double kPi = 3.141592653589793;  // VL_PI

// vl_fast_atan2_f: atan((1 - r)/(1 + r)) ~ pi/4 - 0.9675 r + 0.1821 r^3 on the quadrant-folded ratio r, in float.
inline float vl_atan2_approx(float y, float x) {
  const float c3 = 0.1821f, c1 = 0.9675f;
  const float abs_y = std::fabs(y) + FLT_EPSILON;  // VL_EPSILON_F
  float r, angle;
  if (x >= 0) {
    r = (x - abs_y) / (x + abs_y);
    angle = static_cast<float>(kPi / 4);
  } else {
    r = (x + abs_y) / (abs_y - x);
    angle = static_cast<float>(3 * kPi / 4);
  }
  angle += (c3 * r * r - c1) * r;
  return y < 0 ? -angle : angle;
}

// Angle -> fractional orientation bin in [0, 8], as dsift.c: vl_mod_2pi_f in float, then a double product.
inline float vl_orientation_bin(float angle) {
  const float two_pi = static_cast<float>(2 * kPi);
  while (angle > two_pi) angle -= two_pi;
  while (angle < 0.0f) angle += two_pi;
  return static_cast<float>(angle * (DsiftGeometry::kOrientations / (2 * kPi)));
}

// floor of a fractional orientation bin in [0, 8]; a NaN bin (a NaN pixel) gives 0, so the NaN propagates through
// r = nt - b into the descriptor instead of becoming a wild index.
template <typename T> int64_t bin_floor(T nt) {
  return nt >= T(0) && nt <= T(8) ? static_cast<int64_t>(std::floor(nt)) : 0;
}

template <typename T> T exact_orientation_bin(T gy, T gx) {
  T a = std::atan2(gy, gx);
  if (a < T(0)) a += T(2 * kPi);
  return a * T(DsiftGeometry::kOrientations / (2 * kPi));
}

// Central differences inside, one-sided on the first/last row and column (dsift.c). row: [W], pointers into image.
template <typename T> T grad_x(const T* row, int64_t x, int64_t W) {
  if (x == 0) return row[1] - row[0];
  if (x == W - 1) return row[W - 1] - row[W - 2];
  return T(0.5) * (row[x + 1] - row[x - 1]);
}
template <typename T> T grad_y(const T* image, int64_t x, int64_t y, int64_t H, int64_t W) {
  if (y == 0) return image[W + x] - image[x];
  if (y == H - 1) return image[y * W + x] - image[(y - 1) * W + x];
  return T(0.5) * (image[(y + 1) * W + x] - image[(y - 1) * W + x]);
}

// Pixel (x, y) of image [H, W]: its fractional bin nt and gradient modulus.
template <typename T> void orient(const T* image, int64_t x, int64_t y, int64_t H, int64_t W, DsiftMath math, T* nt,
                                  T* mod) {
  const T gx = grad_x(image + y * W, x, W);
  const T gy = grad_y(image, x, y, H, W);
  if (math == DsiftMath::vlfeat) {
    const float fx = static_cast<float>(gx), fy = static_cast<float>(gy);
    *nt = vl_orientation_bin(vl_atan2_approx(fy, fx));
    *mod = vl_sqrt_approx(fx * fx + fy * fy);
  } else {
    *nt = exact_orientation_bin(gy, gx);
    *mod = std::sqrt(gx * gx + gy * gy);
  }
}

// d_image += the exact-math derivative at pixel (x, y), given the gradients of its 8 orientation bins (d_bin(t),
// t = 0..7) and, when known, its fractional bin (bins: [H, W] or nullptr). |g| = 0 is a kink and contributes 0.
template <typename T, typename DBin>
void orient_backward(const T* image, T* d_image, int64_t x, int64_t y, int64_t H, int64_t W, const T* bins,
                     DBin d_bin) {
  const T k = T(DsiftGeometry::kOrientations / (2 * kPi));  // d nt / d angle
  const T gx = grad_x(image + y * W, x, W);
  const T gy = grad_y(image, x, y, H, W);
  const T m = std::sqrt(gx * gx + gy * gy);
  if (m == T(0)) return;
  const T nt = bins ? bins[y * W + x] : exact_orientation_bin(gy, gx);
  const int64_t b = bin_floor(nt);
  const T r = nt - T(b);
  const T d0 = d_bin(b % 8), d1 = d_bin((b + 1) % 8);
  // out0 = (1 - r) m, out1 = r m, r = k atan2(gy, gx) + const: d angle/d gx = -gy/m^2, d angle/d gy = gx/m^2.
  const T d_gx = d0 * ((T(1) - r) * gx / m + k * gy / m) + d1 * (r * gx / m - k * gy / m);
  const T d_gy = d0 * ((T(1) - r) * gy / m - k * gx / m) + d1 * (r * gy / m + k * gx / m);
  T* row = d_image + y * W;
  if (x == 0) {
    row[1] += d_gx;
    row[0] -= d_gx;
  } else if (x == W - 1) {
    row[W - 1] += d_gx;
    row[W - 2] -= d_gx;
  } else {
    row[x + 1] += T(0.5) * d_gx;
    row[x - 1] -= T(0.5) * d_gx;
  }
  if (y == 0) {
    d_image[W + x] += d_gy;
    d_image[x] -= d_gy;
  } else if (y == H - 1) {
    d_image[y * W + x] += d_gy;
    d_image[(y - 1) * W + x] -= d_gy;
  } else {
    d_image[(y + 1) * W + x] += T(0.5) * d_gy;
    d_image[(y - 1) * W + x] -= T(0.5) * d_gy;
  }
}

}  // namespace preimage::kernels::dsift_pixel
