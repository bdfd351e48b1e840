// Vectorised CPU path for kernels/regularisers.h (namespace simd), float tensors, even integer exponents (the papers'
// alpha = 6 and beta = 2). Every pixel's arithmetic is the reference's (kernels/cpu/regularisers.cpp): the same double
// expressions in the same order, z^(e/2) as ((z * z) * z)..., which the reference's `power` also computes for these
// exponents. What changes is only the shape of the loops, so that they vectorise:
//  * pixels are processed in blocks; a block's squared norms are summed over channels first (k ascending, as the
//    reference), then the block's terms are computed with `omp simd` loops;
//  * the forward sums use `omp simd reduction`, i.e. several double partial sums: the value differs from the
//    reference by the summation order only;
//  * TV^beta's backward is written as a gather: pixel (v, u) receives, in the reference's (raster) order of the
//    source pixels, + wgt dv from (v-1, u), + wgt du from (v, u-1) and - wgt (du + dv) from itself, each rounded to
//    float exactly as the reference's scattered `+=`, so the gradient is bit for bit the reference's.
// Contraction into FMA is off for the whole library (CMake). The floating-point status flags are never read, so the
// arithmetic of both arms of a select is computed and one kept (no-trapping-math; the kept values are unchanged):
// that is what lets these loops vectorise.
#pragma GCC optimize("no-trapping-math")

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "kernels/regularisers.h"

namespace preimage::kernels::simd {
namespace {

constexpr int64_t kBlock = 512;  // pixels per block: the block's double buffers stay in L1

// z^M by repeated multiplication, z^0 = 1 (the reference's `power` for an integer exponent M).
template <int M> inline double ipow(double z) {
  double r = 1;
  for (int i = 0; i < M; ++i) r *= z;
  return r;
}

// Calls f(std::integral_constant<int, e/2>) for an even exponent e in [2, 16].
template <typename F> auto with_half_exponent(float e, F&& f) {
  switch (static_cast<int>(e) / 2) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    default: return f(std::integral_constant<int, 8>{});
  }
}

// s[j] = sum_k x[k*hw + i0 + j]^2 in double, k ascending (the reference's order). img: [c, hw]; s: [len].
inline void squared_norms(const float* img, int64_t c, int64_t hw, int64_t i0, int64_t len, double* s) {
  const float* p0 = img + i0;
#pragma omp simd
  for (int64_t j = 0; j < len; ++j) s[j] = 0.0 + static_cast<double>(p0[j]) * p0[j];
  for (int64_t k = 1; k < c; ++k) {
    const float* p = img + k * hw + i0;
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) s[j] += static_cast<double>(p[j]) * p[j];
  }
}

// s[j] = sqrt(s[j]). std::sqrt keeps errno semantics here (a call and a branch each: GCC's optimize pragma does not
// reach its vectoriser); the AVX square root is the same correctly rounded IEEE operation.
inline void sqrt_in_place(double* s, int64_t len) {
  int64_t j = 0;
#if defined(__AVX__)
  for (; j + 4 <= len; j += 4) _mm256_storeu_pd(s + j, _mm256_sqrt_pd(_mm256_loadu_pd(s + j)));
#endif
  for (; j < len; ++j) s[j] = std::sqrt(s[j]);
}

}  // namespace

bool supports(float exponent) {
  return exponent >= 2 && exponent <= 16 && exponent == std::floor(exponent) && static_cast<int>(exponent) % 2 == 0;
}

float isotropic_alpha_norm_forward(const float* x /*[n,c,h,w]*/, int64_t n, int64_t c, int64_t h, int64_t w,
                                   float alpha, float B) {
  const int64_t hw = h * w;
  const double inv_b2 = 1.0 / (static_cast<double>(B) * B);
  double s[kBlock];
  const double total = with_half_exponent(alpha, [&](auto m) {
    constexpr int M = decltype(m)::value;
    double sum = 0;
    for (int64_t b = 0; b < n; ++b) {
      const float* img = x + b * c * hw;  // [c, hw]
      for (int64_t i0 = 0; i0 < hw; i0 += kBlock) {
        const int64_t len = std::min(kBlock, hw - i0);
        squared_norms(img, c, hw, i0, len, s);
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < len; ++j) sum += ipow<M>(s[j] * inv_b2);
      }
    }
    return sum;
  });
  return static_cast<float>(total / static_cast<double>(hw));
}

void isotropic_alpha_norm_backward(const float* x /*[n,c,h,w]*/, float d_y, float* d_x /*[n,c,h,w]*/, int64_t n,
                                   int64_t c, int64_t h, int64_t w, float alpha, float B) {
  const int64_t hw = h * w;
  const double inv_b2 = 1.0 / (static_cast<double>(B) * B);
  const double scale = static_cast<double>(d_y) * inv_b2 / static_cast<double>(hw);
  const double p = alpha;
  double s[kBlock];
  with_half_exponent(alpha, [&](auto m) {
    constexpr int M = decltype(m)::value;
    for (int64_t b = 0; b < n; ++b) {
      const float* img = x + b * c * hw;  // [c, hw]
      float* d_img = d_x + b * c * hw;    // [c, hw]
      for (int64_t i0 = 0; i0 < hw; i0 += kBlock) {
        const int64_t len = std::min(kBlock, hw - i0);
        squared_norms(img, c, hw, i0, len, s);
        // s becomes the weight scale * alpha z^(alpha/2 - 1), 0 where z = 0 (the reference's half_pow_weight)
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) {
          const double z = s[j] * inv_b2;
          const double weight = p * ipow<M - 1>(z);
          s[j] = scale * (z > 0 ? weight : 0.0);
        }
        for (int64_t k = 0; k < c; ++k) {
          const float* xi = img + k * hw + i0;
          float* di = d_img + k * hw + i0;
#pragma omp simd
          for (int64_t j = 0; j < len; ++j) di[j] += static_cast<float>(s[j] * xi[j]);
        }
      }
    }
    return 0;
  });
}

float tv_beta_forward(const float* x /*[nc,h,w]*/, int64_t nc, int64_t h, int64_t w, float beta, float V) {
  const double inv_v2 = 1.0 / (static_cast<double>(V) * V);
  const double total = with_half_exponent(beta, [&](auto m) {
    constexpr int M = decltype(m)::value;
    double sum = 0;
    for (int64_t pl = 0; pl < nc; ++pl) {
      const float* plane = x + pl * h * w;  // [h, w]
      for (int64_t v = 0; v < h; ++v) {
        const float* row = plane + v * w;
        // past the last row the difference is 0: row - row is exactly 0, as the reference's 0.0
        const float* next = v + 1 < h ? row + w : row;
#pragma omp simd reduction(+ : sum)
        for (int64_t u = 0; u < w - 1; ++u) {
          const double here = row[u];
          const double du = row[u + 1] - here, dv = next[u] - here;
          sum += ipow<M>((du * du + dv * dv) * inv_v2);
        }
        const double here = row[w - 1], du = 0.0, dv = next[w - 1] - here;  // last column: du = 0
        sum += ipow<M>((du * du + dv * dv) * inv_v2);
      }
    }
    return sum;
  });
  return static_cast<float>(total / static_cast<double>(h * w));
}

void tv_beta_backward(const float* x /*[nc,h,w]*/, float d_y, float* d_x /*[nc,h,w]*/, int64_t nc, int64_t h,
                      int64_t w, float beta, float V) {
  const double inv_v2 = 1.0 / (static_cast<double>(V) * V);
  const double scale = static_cast<double>(d_y) * inv_v2 / static_cast<double>(h * w);
  const double p = beta;
  // Per pixel of the current row: the three rounded contributions and whether the reference would scatter them
  // (it skips pixels whose weight is 0); the previous row's downward contribution.
  std::vector<float> right(static_cast<size_t>(w)), down(static_cast<size_t>(w)), self(static_cast<size_t>(w));
  std::vector<float> down_prev(static_cast<size_t>(w));
  std::vector<int32_t> active(static_cast<size_t>(w)), active_prev(static_cast<size_t>(w));
  with_half_exponent(beta, [&](auto m) {
    constexpr int M = decltype(m)::value;
    auto contributions = [&](int64_t u, double du, double dv) {
      const double z = (du * du + dv * dv) * inv_v2;
      const double weight = p * ipow<M - 1>(z);
      const double wgt = scale * (z > 0 ? weight : 0.0);
      right[static_cast<size_t>(u)] = static_cast<float>(wgt * du);
      down[static_cast<size_t>(u)] = static_cast<float>(wgt * dv);
      self[static_cast<size_t>(u)] = static_cast<float>(wgt * (du + dv));
      active[static_cast<size_t>(u)] = wgt != 0;
    };
    for (int64_t pl = 0; pl < nc; ++pl) {
      const float* plane = x + pl * h * w;  // [h, w]
      float* d_plane = d_x + pl * h * w;    // [h, w]
      for (int64_t v = 0; v < h; ++v) {
        const float* row = plane + v * w;
        const float* next = v + 1 < h ? row + w : row;
        float* R = right.data();
        float* D = down.data();
        float* S = self.data();
        int32_t* A = active.data();
#pragma omp simd
        for (int64_t u = 0; u < w - 1; ++u) {
          const double here = row[u];
          const double du = row[u + 1] - here, dv = next[u] - here;
          const double z = (du * du + dv * dv) * inv_v2;
          const double weight = p * ipow<M - 1>(z);
          const double wgt = scale * (z > 0 ? weight : 0.0);
          R[u] = static_cast<float>(wgt * du);
          D[u] = static_cast<float>(wgt * dv);
          S[u] = static_cast<float>(wgt * (du + dv));
          A[u] = wgt != 0;
        }
        contributions(w - 1, 0.0, next[w - 1] - static_cast<double>(row[w - 1]));  // last column: du = 0
        float* d = d_plane + v * w;
        const float* DP = down_prev.data();
        const int32_t* AP = active_prev.data();
        const bool has_up = v > 0;
        {  // u = 0: nothing from the left
          float t = d[0];
          if (has_up && AP[0]) t += DP[0];
          if (A[0]) t -= S[0];
          d[0] = t;
        }
#pragma omp simd
        for (int64_t u = 1; u < w; ++u) {
          float t = d[u], n;
          n = t + DP[u];
          t = (has_up & (AP[u] != 0)) ? n : t;
          n = t + R[u - 1];
          t = A[u - 1] ? n : t;
          n = t - S[u];
          t = A[u] ? n : t;
          d[u] = t;
        }
        std::swap(down, down_prev);
        std::swap(active, active_prev);
      }
    }
    return 0;
  });
}

void project_ball(float* x /*[n,c,hw]*/, int64_t n, int64_t c, int64_t hw, float radius) {
  const double r_max = radius;
  double s[kBlock];
  for (int64_t b = 0; b < n; ++b) {
    float* img = x + b * c * hw;  // [c, hw]
    for (int64_t i0 = 0; i0 < hw; i0 += kBlock) {
      const int64_t len = std::min(kBlock, hw - i0);
      squared_norms(img, c, hw, i0, len, s);
      // s becomes the factor: 1 inside the ball (x * 1.0 rounds back to x exactly), radius / r outside
      sqrt_in_place(s, len);
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        const double r = s[j], f = r_max / r;
        s[j] = r <= r_max ? 1.0 : f;
      }
      for (int64_t k = 0; k < c; ++k) {
        float* xi = img + k * hw + i0;
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) xi[j] = static_cast<float>(xi[j] * s[j]);
      }
    }
  }
}

}  // namespace preimage::kernels::simd
