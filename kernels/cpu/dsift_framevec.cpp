// Faster CPU path for DSIFT's normalisation stage (kernels/dsift.h, namespace framevec), float. The descriptors are
// stored dimension-major, [128][F], so a block of consecutive frames is contiguous for every dimension d: the loops
// run over d outside and over the frames of the block inside, which vectorises and reads memory in order, while each
// frame's sums still add its 128 values with d ascending - the reference's order (kernels/cpu/dsift.cpp). Every
// value is therefore the reference's bit for bit. Square roots stay in short scalar loops (std::sqrt keeps errno
// semantics, and vl_fast_sqrt_f is the reference's own function).
// The floating-point status flags are never read, so both arms of a select may be computed (no-trapping-math).
#pragma GCC optimize("fp-contract=off", "no-trapping-math")

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/vl_fast_sqrt.h"
#include "kernels/dsift.h"

namespace preimage::kernels::framevec {
namespace {

constexpr int64_t kD = DsiftGeometry::kDims;  // 128
constexpr int64_t kBlock = 32;                 // frames per block: the block's [128][32] buffers stay in L1/L2
constexpr float kEpsF = FLT_EPSILON;

// Sum over d of v[d * F + f0 + j]^2 for the block's frames j, d ascending. s: [len].
inline void block_sum_squares(const float* v, int64_t F, int64_t f0, int64_t len, float* s) {
  std::fill(s, s + len, 0.0f);
  for (int64_t d = 0; d < kD; ++d) {
    const float* row = v + d * F + f0;
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) s[j] += row[j] * row[j];
  }
}

}  // namespace

void dsift_normalise_forward(const float* raw /*[128,F]*/, float* out /*[128,F]*/, int64_t frames, DsiftMath math) {
  float s[kBlock], n1[kBlock], n2[kBlock];
  auto norm_of = [math](float sum_sq) {
    return math == DsiftMath::vlfeat ? vl_sqrt_approx(sum_sq) + kEpsF : std::sqrt(sum_sq) + kEpsF;
  };
  for (int64_t f0 = 0; f0 < frames; f0 += kBlock) {
    const int64_t len = std::min(kBlock, frames - f0);
    block_sum_squares(raw, frames, f0, len, s);
    for (int64_t j = 0; j < len; ++j) n1[j] = norm_of(s[j]);
    std::fill(s, s + len, 0.0f);
    for (int64_t d = 0; d < kD; ++d) {
      const float* r = raw + d * frames + f0;
      float* o = out + d * frames + f0;
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        const float q = r[j] / n1[j];
        const float u = q > 0.2f ? 0.2f : q;
        o[j] = u;
        s[j] += u * u;
      }
    }
    for (int64_t j = 0; j < len; ++j) n2[j] = norm_of(s[j]);
    for (int64_t d = 0; d < kD; ++d) {
      float* o = out + d * frames + f0;
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) o[j] /= n2[j];
    }
  }
}

void dsift_normalise_backward(const float* raw /*[128,F]*/, const float* d_out /*[128,F]*/, float* d_raw /*[128,F]*/,
                              int64_t frames) {
  float s[kBlock], s1[kBlock], n1[kBlock], s2[kBlock], n2[kBlock], dot[kBlock];
  float u[kD * kBlock], d_u[kD * kBlock];  // [128][block]
  for (int64_t f0 = 0; f0 < frames; f0 += kBlock) {
    const int64_t len = std::min(kBlock, frames - f0);
    block_sum_squares(raw, frames, f0, len, s);
    for (int64_t j = 0; j < len; ++j) {
      s1[j] = std::sqrt(s[j]);
      n1[j] = s1[j] + kEpsF;
    }
    std::fill(s, s + len, 0.0f);
    for (int64_t d = 0; d < kD; ++d) {
      const float* r = raw + d * frames + f0;
      float* ud = u + d * kBlock;
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        ud[j] = r[j] / n1[j];
        const float c = ud[j] > 0.2f ? 0.2f : ud[j];
        s[j] += c * c;
      }
    }
    for (int64_t j = 0; j < len; ++j) {
      s2[j] = std::sqrt(s[j]);
      n2[j] = s2[j] + kEpsF;
    }
    // out = c / (|c| + eps): d_c = d_out / n2 - c <d_out, c> / (n2^2 |c|)
    std::fill(dot, dot + len, 0.0f);
    for (int64_t d = 0; d < kD; ++d) {
      const float* g = d_out + d * frames + f0;
      const float* ud = u + d * kBlock;
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) dot[j] += g[j] * (ud[j] > 0.2f ? 0.2f : ud[j]);
    }
    for (int64_t d = 0; d < kD; ++d) {
      const float* g = d_out + d * frames + f0;
      const float* ud = u + d * kBlock;
      float* dud = d_u + d * kBlock;
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        const float c = ud[j] > 0.2f ? 0.2f : ud[j];
        const float d_c0 = g[j] / n2[j];
        const float d_c1 = d_c0 - c * dot[j] / (n2[j] * n2[j] * s2[j]);
        const float d_c = s2[j] > 0.0f ? d_c1 : d_c0;
        dud[j] = ud[j] > 0.2f ? 0.0f : d_c;
      }
    }
    // u = v / (|v| + eps): d_v = d_u / n1 - v <d_u, v> / (n1^2 |v|)
    std::fill(dot, dot + len, 0.0f);
    for (int64_t d = 0; d < kD; ++d) {
      const float* r = raw + d * frames + f0;
      const float* dud = d_u + d * kBlock;
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) dot[j] += dud[j] * r[j];
    }
    for (int64_t d = 0; d < kD; ++d) {
      const float* r = raw + d * frames + f0;
      const float* dud = d_u + d * kBlock;
      float* dr = d_raw + d * frames + f0;
#pragma omp simd
      for (int64_t j = 0; j < len; ++j) {
        const float d_v0 = dud[j] / n1[j];
        const float d_v1 = d_v0 - r[j] * dot[j] / (n1[j] * n1[j] * s1[j]);
        dr[j] += s1[j] > 0.0f ? d_v1 : d_v0;
      }
    }
  }
}

}  // namespace preimage::kernels::framevec
