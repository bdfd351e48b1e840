// Faster CPU path for DSIFT's spatial pooling (kernels/dsift.h, namespace interleaved), float. The binned gradient is
// kept orientation-interleaved, [H][W][8], so that every multiply-add of the separable triangular filter works on the
// 8 orientations at once (one AVX vector) and rows are contiguous: the column pass adds whole image rows
// (W * 8 floats), the row pass adds 8-float columns. For each orientation the operations and their order are the
// reference's (kernels/cpu/dsift.cpp): columns first, taps ascending, border pixels replicated, and in the backward
// pass the same loop nest (bins, frames, taps) with the orientation innermost - so forward and backward are bit for
// bit the reference's.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/dsift_orient.h"
#include "kernels/dsift.h"

namespace preimage::kernels::interleaved {
namespace {

constexpr int kT = DsiftGeometry::kOrientations;  // 8

inline int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// The 8 orientations of one pixel as one value (GCC/Clang vector extension: lane-wise IEEE float arithmetic, so each
// lane computes exactly what the reference computes for its orientation), kept in a register across the taps.
typedef float v8f __attribute__((vector_size(32)));
// In the baseline copy (no AVX) GCC notes that returning a 32-byte vector has another ABI than with AVX; these
// values are used only within this file (inlined helpers, never an ABI boundary), so the note does not apply;
// silenced from here to the end of the file.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }

// The 4 kernels of one axis: [4][2*bs - 1], indexed by offset d + bs - 1 (the reference's bin_kernels).
std::vector<float> bin_kernels(const DsiftGeometry& g) {
  const int taps = 2 * g.bin_size - 1;
  std::vector<float> k(static_cast<size_t>(DsiftGeometry::kBins * taps));
  for (int b = 0; b < DsiftGeometry::kBins; ++b) ref::dsift_bin_kernel(g.bin_size, b, g.flat_window, &k[b * taps]);
  return k;
}

}  // namespace

// The reference's orientation stage pixel by pixel (dsift_pixel::orient), written straight into the interleaved
// layout: no planar buffer to clear and no interleave pass.
void dsift_orient_forward(const float* image, float* binned /*[H][W][8]*/, int64_t H, int64_t W, DsiftMath math,
                          float* bins) {
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      float nt, mod;
      dsift_pixel::orient(image, x, y, H, W, math, &nt, &mod);
      if (bins) bins[y * W + x] = nt;
      const int64_t b = dsift_pixel::bin_floor(nt);
      const float r = nt - static_cast<float>(b);
      float* px = binned + (y * W + x) * kT;
      for (int t = 0; t < kT; ++t) px[t] = 0.0f;
      px[b % 8] = (1.0f - r) * mod;
      px[(b + 1) % 8] = r * mod;
    }
}

void dsift_orient_backward(const float* image, const float* d_binned /*[H][W][8]*/, float* d_image, int64_t H,
                           int64_t W, const float* bins) {
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const float* px = d_binned + (y * W + x) * kT;
      dsift_pixel::orient_backward(image, d_image, x, y, H, W, bins, [px](int64_t t) { return px[t]; });
    }
}

void dsift_pool_forward(const float* binned /*[H][W][8]*/, float* raw /*[128,FY,FX]*/, const DsiftGeometry& g) {
  const int64_t H = g.height, W = g.width, FY = g.frames_y, FX = g.frames_x, F = FY * FX, bs = g.bin_size;
  const int taps = 2 * g.bin_size - 1;
  const std::vector<float> k = bin_kernels(g);
  // [W + 2 (bs - 1)][8]: one bin row (y kernel applied), padded by bs - 1 pixels on each side that repeat the border
  // pixels, so the row pass reads the reference's clamped pixels without clamping
  const int64_t pad = bs - 1;
  std::vector<float> col(static_cast<size_t>((W + 2 * pad) * kT));
  for (int by = 0; by < DsiftGeometry::kBins; ++by) {
    const float* ky = &k[by * taps];
    for (int64_t fy = 0; fy < FY; ++fy) {
      const int64_t cy = fy * g.step + by * bs;
      float* c = col.data() + pad * kT;  // pixel x at c[x * 8]
      std::fill(c, c + W * kT, 0.0f);
      for (int64_t d = -bs + 1; d <= bs - 1; ++d) {
        const float w = ky[d + bs - 1];
        const float* row = binned + clamp_index(cy + d, H) * W * kT;
#pragma omp simd
        for (int64_t i = 0; i < W * kT; ++i) c[i] += w * row[i];
      }
      for (int64_t i = 1; i <= pad; ++i) {
        std::copy(c, c + kT, c - i * kT);
        std::copy(c + (W - 1) * kT, c + W * kT, c + (W - 1 + i) * kT);
      }
      for (int bx = 0; bx < DsiftGeometry::kBins; ++bx) {
        const float* kx = &k[bx * taps];
        float* out = raw + (8 * (bx + 4 * by)) * F + fy * FX;  // orientation t at out[t * F + fx]
        for (int64_t fx = 0; fx < FX; ++fx) {
          const float* v = c + (fx * g.step + bx * bs - pad) * kT;  // pixel cx + d for d = -pad .. pad
          v8f acc = {0, 0, 0, 0, 0, 0, 0, 0};
          for (int j = 0; j < taps; ++j) acc += kx[j] * load8(v + j * kT);
          for (int t = 0; t < kT; ++t) out[t * F + fx] = acc[t];
        }
      }
    }
  }
}

void dsift_pool_backward(const float* d_raw /*[128,FY,FX]*/, float* d_binned /*[H][W][8], +=*/,
                         const DsiftGeometry& g) {
  const int64_t H = g.height, W = g.width, FY = g.frames_y, FX = g.frames_x, F = FY * FX, bs = g.bin_size;
  const int taps = 2 * g.bin_size - 1;
  const std::vector<float> k = bin_kernels(g);
  std::vector<float> d_col(static_cast<size_t>(W * kT));  // [W][8]
  for (int by = 0; by < DsiftGeometry::kBins; ++by) {
    const float* ky = &k[by * taps];
    for (int64_t fy = 0; fy < FY; ++fy) {
      const int64_t cy = fy * g.step + by * bs;
      float* dc = d_col.data();
      std::fill(d_col.begin(), d_col.end(), 0.0f);
      for (int bx = 0; bx < DsiftGeometry::kBins; ++bx) {
        const float* kx = &k[bx * taps];
        const float* d_out = d_raw + (8 * (bx + 4 * by)) * F + fy * FX;
        for (int64_t fx = 0; fx < FX; ++fx) {
          const int64_t cx = fx * g.step + bx * bs;
          v8f gv;
          for (int t = 0; t < kT; ++t) gv[t] = d_out[t * F + fx];
          for (int64_t d = -bs + 1; d <= bs - 1; ++d) {
            float* v = dc + clamp_index(cx + d, W) * kT;
            store8(v, load8(v) + kx[d + bs - 1] * gv);
          }
        }
      }
      for (int64_t d = -bs + 1; d <= bs - 1; ++d) {
        const float w = ky[d + bs - 1];
        float* row = d_binned + clamp_index(cy + d, H) * W * kT;
#pragma omp simd
        for (int64_t i = 0; i < W * kT; ++i) row[i] += w * dc[i];
      }
    }
  }
}

}  // namespace preimage::kernels::interleaved

#pragma GCC diagnostic pop
