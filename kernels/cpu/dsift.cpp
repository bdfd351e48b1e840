// CPU reference for kernels/dsift.h: VLFeat 0.9.21 vl_dsift_process (vl/dsift.c) re-derived from its documentation
// and behaviour (libvl is the oracle in tests/test_dsift.cpp); derivatives of the exact-math forward.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/dsift_orient.h"
#include "kernels/cpu/vl_fast_sqrt.h"
#include "kernels/dsift.h"

namespace preimage::kernels {
namespace {

constexpr float kEpsF = FLT_EPSILON;        // VL_EPSILON_F, added to every L2 norm

inline int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

}  // namespace

namespace ref {

void dsift_bin_kernel(int bin_size, int bin, bool flat_window, float* k) {
  // Float arithmetic in the order of _vl_dsift_new_kernel / _vl_dsift_get_bin_window_mean (windowSize 2).
  const float delta = bin_size * (bin - 0.5f * (DsiftGeometry::kBins - 1));
  const float sigma = static_cast<float>(bin_size) * 2.0f;
  float mean = 0.0f;
  if (flat_window) {
    for (int x = -bin_size + 1; x <= bin_size - 1; ++x) {
      const float z = (x - delta) / sigma;
      mean += std::exp(-0.5f * z * z);
    }
    mean /= static_cast<float>(2 * bin_size - 1);
  }
  // VLFeat's kernel ker[x] is convolved (dst[y] = sum_x ker[x] src[y - x]), so the pixel at offset d from the bin
  // centre gets ker[-d]; k is stored by d.
  for (int d = -bin_size + 1; d <= bin_size - 1; ++d) {
    const int x = -d;
    const float tri = 1.0f - std::fabs(static_cast<float>(x)) / bin_size;
    float w;
    if (flat_window) {
      w = tri * mean;
    } else {
      const float z = (x - delta) / sigma;
      w = tri * std::exp(-0.5f * z * z);
    }
    k[d + bin_size - 1] = w;
  }
}

template <typename T>
void dsift_orient_forward(const T* image, T* binned, int64_t H, int64_t W, DsiftMath math, T* bins) {
  // image: [H, W]; binned: [8, H, W]; bins (optional): [H, W]
  const int64_t plane = H * W;
  std::fill(binned, binned + 8 * plane, T(0));
  for (int64_t y = 0; y < H; ++y) {
    for (int64_t x = 0; x < W; ++x) {
      T nt, mod;
      dsift_pixel::orient(image, x, y, H, W, math, &nt, &mod);
      if (bins) bins[y * W + x] = nt;
      const int64_t b = dsift_pixel::bin_floor(nt);
      const T r = nt - T(b);
      binned[(b % 8) * plane + y * W + x] = (T(1) - r) * mod;
      binned[((b + 1) % 8) * plane + y * W + x] = r * mod;
    }
  }
}

template <typename T>
void dsift_orient_backward(const T* image, const T* d_binned, T* d_image, int64_t H, int64_t W, const T* bins) {
  // image, d_image: [H, W]; d_binned: [8, H, W].
  const int64_t plane = H * W;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      dsift_pixel::orient_backward(image, d_image, x, y, H, W, bins,
                                   [&](int64_t t) { return d_binned[t * plane + y * W + x]; });
}

namespace {
// The 4 kernels of one axis: [4][2*bs - 1], indexed by offset d + bs - 1.
std::vector<float> bin_kernels(const DsiftGeometry& g) {
  const int taps = 2 * g.bin_size - 1;
  std::vector<float> k(static_cast<size_t>(DsiftGeometry::kBins * taps));
  for (int b = 0; b < DsiftGeometry::kBins; ++b) dsift_bin_kernel(g.bin_size, b, g.flat_window, &k[b * taps]);
  return k;
}
}  // namespace

template <typename T>
void dsift_pool_forward(const T* binned, T* raw, const DsiftGeometry& g) {
  // binned: [8, H, W]; raw: [128, FY, FX]; col: [W], one bin row (y kernel applied) of one orientation.
  const int64_t H = g.height, W = g.width, FY = g.frames_y, FX = g.frames_x, bs = g.bin_size;
  const int taps = 2 * g.bin_size - 1;
  const std::vector<float> k = bin_kernels(g);
  std::vector<T> col(static_cast<size_t>(W));
  for (int t = 0; t < DsiftGeometry::kOrientations; ++t) {
    const T* plane = binned + t * H * W;
    for (int by = 0; by < DsiftGeometry::kBins; ++by) {
      const float* ky = &k[by * taps];
      for (int64_t fy = 0; fy < FY; ++fy) {
        const int64_t cy = fy * g.step + by * bs;
        for (int64_t x = 0; x < W; ++x) {
          T acc = 0;
          for (int64_t d = -bs + 1; d <= bs - 1; ++d) acc += T(ky[d + bs - 1]) * plane[clamp_index(cy + d, H) * W + x];
          col[static_cast<size_t>(x)] = acc;
        }
        for (int bx = 0; bx < DsiftGeometry::kBins; ++bx) {
          const float* kx = &k[bx * taps];
          T* out = raw + (t + 8 * (bx + 4 * by)) * FY * FX + fy * FX;
          for (int64_t fx = 0; fx < FX; ++fx) {
            const int64_t cx = fx * g.step + bx * bs;
            T acc = 0;
            for (int64_t d = -bs + 1; d <= bs - 1; ++d) acc += T(kx[d + bs - 1]) * col[clamp_index(cx + d, W)];
            out[fx] = acc;
          }
        }
      }
    }
  }
}

template <typename T>
void dsift_pool_backward(const T* d_raw, T* d_binned, const DsiftGeometry& g) {
  // d_raw: [128, FY, FX]; d_binned: [8, H, W] (accumulated); d_col: [W]. The transpose of the forward.
  const int64_t H = g.height, W = g.width, FY = g.frames_y, FX = g.frames_x, bs = g.bin_size;
  const int taps = 2 * g.bin_size - 1;
  const std::vector<float> k = bin_kernels(g);
  std::vector<T> d_col(static_cast<size_t>(W));
  for (int t = 0; t < DsiftGeometry::kOrientations; ++t) {
    T* plane = d_binned + t * H * W;
    for (int by = 0; by < DsiftGeometry::kBins; ++by) {
      const float* ky = &k[by * taps];
      for (int64_t fy = 0; fy < FY; ++fy) {
        const int64_t cy = fy * g.step + by * bs;
        std::fill(d_col.begin(), d_col.end(), T(0));
        for (int bx = 0; bx < DsiftGeometry::kBins; ++bx) {
          const float* kx = &k[bx * taps];
          const T* d_out = d_raw + (t + 8 * (bx + 4 * by)) * FY * FX + fy * FX;
          for (int64_t fx = 0; fx < FX; ++fx) {
            const int64_t cx = fx * g.step + bx * bs;
            for (int64_t d = -bs + 1; d <= bs - 1; ++d)
              d_col[static_cast<size_t>(clamp_index(cx + d, W))] += T(kx[d + bs - 1]) * d_out[fx];
          }
        }
        for (int64_t d = -bs + 1; d <= bs - 1; ++d) {
          T* row = plane + clamp_index(cy + d, H) * W;
          const T w = T(ky[d + bs - 1]);
          for (int64_t x = 0; x < W; ++x) row[x] += w * d_col[static_cast<size_t>(x)];
        }
      }
    }
  }
}

template <typename T>
void dsift_normalise_forward(const T* raw, T* out, int64_t frames, DsiftMath math) {
  // raw, out: [128, frames]
  const int64_t D = DsiftGeometry::kDims;
  auto norm_of = [math](T sum_sq) -> T {
    if (math == DsiftMath::vlfeat) return T(vl_sqrt_approx(static_cast<float>(sum_sq)) + kEpsF);
    return std::sqrt(sum_sq) + T(kEpsF);
  };
  for (int64_t f = 0; f < frames; ++f) {
    T sum = 0;
    for (int64_t d = 0; d < D; ++d) sum += raw[d * frames + f] * raw[d * frames + f];
    const T n1 = norm_of(sum);
    sum = 0;
    for (int64_t d = 0; d < D; ++d) {
      T u = raw[d * frames + f] / n1;
      if (u > T(0.2f)) u = T(0.2f);
      out[d * frames + f] = u;
      sum += u * u;
    }
    const T n2 = norm_of(sum);
    for (int64_t d = 0; d < D; ++d) out[d * frames + f] /= n2;
  }
}

template <typename T>
void dsift_normalise_backward(const T* raw, const T* d_out, T* d_raw, int64_t frames) {
  // raw, d_out, d_raw: [128, frames]; u, d_u: [128] for one frame. Exact math; u = 0.2 exactly is a kink.
  const int64_t D = DsiftGeometry::kDims;
  std::vector<T> u(D), d_u(D);
  for (int64_t f = 0; f < frames; ++f) {
    T sum = 0;
    for (int64_t d = 0; d < D; ++d) sum += raw[d * frames + f] * raw[d * frames + f];
    const T s1 = std::sqrt(sum), n1 = s1 + T(kEpsF);
    sum = 0;
    for (int64_t d = 0; d < D; ++d) {
      u[d] = raw[d * frames + f] / n1;
      const T c = u[d] > T(0.2f) ? T(0.2f) : u[d];
      sum += c * c;
    }
    const T s2 = std::sqrt(sum), n2 = s2 + T(kEpsF);
    // out = c / (|c| + eps): d_c = d_out / n2 - c <d_out, c> / (n2^2 |c|)
    T dot = 0;
    for (int64_t d = 0; d < D; ++d) dot += d_out[d * frames + f] * (u[d] > T(0.2f) ? T(0.2f) : u[d]);
    for (int64_t d = 0; d < D; ++d) {
      const T c = u[d] > T(0.2f) ? T(0.2f) : u[d];
      T d_c = d_out[d * frames + f] / n2;
      if (s2 > T(0)) d_c -= c * dot / (n2 * n2 * s2);
      d_u[d] = u[d] > T(0.2f) ? T(0) : d_c;
    }
    // u = v / (|v| + eps): d_v = d_u / n1 - v <d_u, v> / (n1^2 |v|)
    dot = 0;
    for (int64_t d = 0; d < D; ++d) dot += d_u[d] * raw[d * frames + f];
    for (int64_t d = 0; d < D; ++d) {
      T d_v = d_u[d] / n1;
      if (s1 > T(0)) d_v -= raw[d * frames + f] * dot / (n1 * n1 * s1);
      d_raw[d * frames + f] += d_v;
    }
  }
}

#define PREIMAGE_DSIFT_INSTANTIATE(T)                                                             \
  template void dsift_orient_forward<T>(const T*, T*, int64_t, int64_t, DsiftMath, T*);         \
  template void dsift_orient_backward<T>(const T*, const T*, T*, int64_t, int64_t, const T*);   \
  template void dsift_pool_forward<T>(const T*, T*, const DsiftGeometry&);                       \
  template void dsift_pool_backward<T>(const T*, T*, const DsiftGeometry&);                      \
  template void dsift_normalise_forward<T>(const T*, T*, int64_t, DsiftMath);                    \
  template void dsift_normalise_backward<T>(const T*, const T*, T*, int64_t);
PREIMAGE_DSIFT_INSTANTIATE(float)
PREIMAGE_DSIFT_INSTANTIATE(double)
#undef PREIMAGE_DSIFT_INSTANTIATE

}  // namespace ref
}  // namespace preimage::kernels
