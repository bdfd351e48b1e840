#pragma once
// Row-vectorised pieces shared by the cellrow HOG forward (kernels/cpu/hog_cellrow.cpp) and backward
// (kernels/cpu/hog_cellrow_backward.cpp), so both make the same orientation decisions as the reference (VLFeat's
// scan over k with strict comparisons, float scores, no FMA: the including file must switch contraction off).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "kernels/hog.h"

namespace preimage::kernels::cellrow::detail {

constexpr double kPi = 3.14159265358979323846;  // VL_PI

// Unit vectors of the NO undirected orientations, angle k pi / NO, rounded to float as VLFeat stores them.
inline void orientation_axes(int no, std::vector<float>& ox, std::vector<float>& oy) {
  ox.resize(static_cast<size_t>(no));
  oy.resize(static_cast<size_t>(no));
  for (int k = 0; k < no; ++k) {
    ox[static_cast<size_t>(k)] = static_cast<float>(std::cos(k * kPi / no));
    oy[static_cast<size_t>(k)] = static_cast<float>(std::sin(k * kPi / no));
  }
}

// Bilinear spatial weights along one axis, as the reference's Splat1d: pixel i lies between cell centres bin[i] and
// bin[i] + 1 (bin may be -1) with weights w1[i], w2[i]; h = (i + 0.5)/cs - 0.5 in double, rounded to float.
struct Splat {
  std::vector<int32_t> bin;
  std::vector<float> w1, w2;
  Splat(int64_t n, int cs) : bin(static_cast<size_t>(n)), w1(static_cast<size_t>(n)), w2(static_cast<size_t>(n)) {
    for (int64_t i = 0; i < n; ++i) {
      const float h = static_cast<float>((i + 0.5) / cs - 0.5);
      const int32_t b = static_cast<int32_t>(std::floor(h));
      bin[static_cast<size_t>(i)] = b;
      w2[static_cast<size_t>(i)] = h - static_cast<float>(b);
      w1[static_cast<size_t>(i)] = static_cast<float>(1.0 - w2[static_cast<size_t>(i)]);
    }
  }
};

// m = sqrtf(gx^2 + gy^2) for a row, [W]. GCC keeps errno semantics for std::sqrt (its optimize pragma's
// no-math-errno does not reach the vectoriser), which makes every call a branch and keeps a loop scalar; the AVX
// square root is the same correctly rounded IEEE operation, so the values are std::sqrt's bit for bit.
inline void magnitude_row(const float* __restrict gx, const float* __restrict gy, int64_t W, float* __restrict m) {
  int64_t x = 0;
#if defined(__AVX__)
  for (; x + 8 <= W; x += 8) {
    const __m256 a = _mm256_loadu_ps(gx + x), b = _mm256_loadu_ps(gy + x);
    _mm256_storeu_ps(m + x, _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(b, b))));
  }
#endif
  for (; x < W; ++x) m[x] = std::sqrt(gx[x] * gx[x] + gy[x] * gy[x]);
}

// One orientation k of VLFeat's scan, for a row of pixels: best (b0, w0) and second best (b1, w1) so far. Start
// from b = -1, w = -1. Restrict-qualified rows and selects let the loop over x vectorise.
inline void score_row(const float* __restrict gx, const float* __restrict gy, float oxk, float oyk, int32_t k,
                      int32_t no, int64_t W, int32_t* __restrict b0, float* __restrict w0, int32_t* __restrict b1,
                      float* __restrict w1) {
  for (int64_t x = 0; x < W; ++x) {
    float s = gx[x] * oxk + gy[x] * oyk;
    const bool negative = s < 0;
    s = negative ? -s : s;
    const int32_t b = negative ? k + no : k;
    const bool first = s > w0[x];
    const bool second = s > w1[x];
    const int32_t nb1 = first ? b0[x] : (second ? b : b1[x]);
    const float nw1 = first ? w0[x] : (second ? s : w1[x]);
    b0[x] = first ? b : b0[x];
    w0[x] = first ? s : w0[x];
    b1[x] = nb1;
    w1[x] = nw1;
  }
}

// The same step when only the best bin is wanted (hard assignment): b0, w0 evolve exactly as in score_row.
inline void best_row(const float* __restrict gx, const float* __restrict gy, float oxk, float oyk, int32_t k,
                     int32_t no, int64_t W, int32_t* __restrict b0, float* __restrict w0) {
  for (int64_t x = 0; x < W; ++x) {
    float s = gx[x] * oxk + gy[x] * oyk;
    const bool negative = s < 0;
    s = negative ? -s : s;
    const int32_t b = negative ? k + no : k;
    const bool first = s > w0[x];
    b0[x] = first ? b : b0[x];
    w0[x] = first ? s : w0[x];
  }
}

// The same scan with the orientations as the inner, unrolled loop for a compile-time NO: a pixel's best and second
// best stay in registers across k (each array is read and written once per row instead of NO times). Same
// comparisons in the same order, so the same bins and scores.
template <int NO, bool Second>
inline void orientation_row_fixed(const float* __restrict gx, const float* __restrict gy, const float* ox,
                                  const float* oy, int64_t W, int32_t* __restrict b0, float* __restrict w0,
                                  int32_t* __restrict b1, float* __restrict w1) {
  float oxk[NO], oyk[NO];
  for (int k = 0; k < NO; ++k) {
    oxk[k] = ox[k];
    oyk[k] = oy[k];
  }
#pragma omp simd
  for (int64_t x = 0; x < W; ++x) {
    const float gxv = gx[x], gyv = gy[x];
    int32_t best = -1, next = -1;
    float best_s = -1.0f, next_s = -1.0f;
#pragma GCC unroll 32
    for (int k = 0; k < NO; ++k) {
      float s = gxv * oxk[k] + gyv * oyk[k];
      const bool negative = s < 0;
      s = negative ? -s : s;
      const int32_t b = negative ? k + NO : k;
      const bool first = s > best_s;
      if constexpr (Second) {
        const bool second = s > next_s;
        const int32_t nb1 = first ? best : (second ? b : next);
        const float nw1 = first ? best_s : (second ? s : next_s);
        next = nb1;
        next_s = nw1;
      }
      best = first ? b : best;
      best_s = first ? s : best_s;
    }
    b0[x] = best;
    w0[x] = best_s;
    b1[x] = next;
    w1[x] = next_s;
  }
}

// The whole scan for a row: b0/w0 the best directed bin and its score, b1/w1 the second best (left at -1 unless
// `second` is asked for). gx, gy, ...: [W].
inline void orientation_row(const float* gx, const float* gy, const std::vector<float>& ox,
                            const std::vector<float>& oy, int64_t W, bool second, int32_t* b0, float* w0, int32_t* b1,
                            float* w1) {
  const int no = static_cast<int>(ox.size());
  if (no == 9) {  // the default orientation count
    if (second)
      orientation_row_fixed<9, true>(gx, gy, ox.data(), oy.data(), W, b0, w0, b1, w1);
    else
      orientation_row_fixed<9, false>(gx, gy, ox.data(), oy.data(), W, b0, w0, b1, w1);
    return;
  }
  for (int64_t x = 0; x < W; ++x) {
    b0[x] = -1;
    b1[x] = -1;
    w0[x] = -1.0f;
    w1[x] = -1.0f;
  }
  for (int k = 0; k < no; ++k) {
    const float oxk = ox[static_cast<size_t>(k)], oyk = oy[static_cast<size_t>(k)];
    if (second)
      score_row(gx, gy, oxk, oyk, k, no, W, b0, w0, b1, w1);
    else
      best_row(gx, gy, oxk, oyk, k, no, W, b0, w0);
  }
}

// HOGb weights of one pixel from its best score and magnitude, as the reference (division in double, acosf):
// returns w1 = theta / Delta; w0 = 1 - w1.
inline float bilinear_second_weight(float best_score, float magnitude, int no) {
  const double c = std::min(static_cast<double>(best_score) / std::max(static_cast<double>(magnitude), 1e-10), 1.0);
  const float theta = std::acos(static_cast<float>(c));
  return static_cast<float>(theta / (kPi / no));
}

}  // namespace preimage::kernels::cellrow::detail
