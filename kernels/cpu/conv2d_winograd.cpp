// 3x3 stride-1 conv2d by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016, "Fast Algorithms for
// Convolutional Neural Networks"): each 2x2 output tile is A^T [(G g G^T) .* (B^T d B)] A for the 4x4 input patch
// d it reads, so a tile costs 16 multiplies per (filter, channel) instead of 36. Summed over channels the 16
// element-wise products become 16 independent GEMMs [K x C] x [C x tiles] in the transformed domain. Float only;
// tested against ref:: in double in tests/test_conv2d_winograd.cpp.
//
// Why F(2x2) and not F(4x4, 3x3) (4x fewer multiplies): F(4x4)'s transforms have entries up to 8 and 1/24, and
// its float rounding error grows with them (Barabasz et al. 2020, "Error analysis and improving the accuracy of
// Winograd convolution"), by far more than F(2x2)'s, whose entries are 0, +-1 and 1/2: measured here, F(2x2)'s
// worst error stays about 2 ulps of sum |w||x|, like the im2col GEMM's. F(4x4) was not tried.
//
// Work goes block by block of tiles (row-major tile order) so that a block's transformed input [16][C][T] and
// products [16][K][T] stay in cache (see kBlockBytes); the filter transform [16][K][C] is computed once per call. Within a
// block each phase (input transform over channels, the 16 GEMMs, output transform over filters) is split between
// the engine's threads (engine/threads.h), each GEMM single-threaded, so results do not depend on the thread count.
// Padding is handled by reading zeros outside the input (any non-negative or negative offset works, which the
// input gradient's padding kh-1-pad needs).
#include <algorithm>
#include <memory>
#include <vector>

#include <Eigen/Core>

#include "engine/threads.h"
#include "kernels/conv2d.h"

namespace preimage::kernels::winograd {
namespace {
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMatrix = Eigen::Map<Matrix>;
using ConstMapMatrix = Eigen::Map<const Matrix>;

// Target bytes for a block's transformed input plus products (4 MB: an L3 share; measured on VGG-16's layers,
// 0.5 MB was slower because each block re-reads all the transformed filters and its GEMMs are narrow). At least
// kMinTiles tiles so each GEMM is wide enough to amortise Eigen's packing of the [K x C] transformed filters
// (VGG-16's 28x28 maps, 196 tiles, then take one block: the 16 MB of 512x512 transformed filters are read once).
constexpr int64_t kBlockBytes = int64_t{1} << 22;
constexpr int64_t kMinTiles = 256;

// Per-thread scratch reused across calls (no zero fill, no allocation per call).
float* scratch(int slot, int64_t n) {
  thread_local std::unique_ptr<float[]> buf[3];  // slot 0: transformed input, 1: products, 2: filters
  thread_local int64_t size[3] = {0, 0, 0};
  if (n > size[slot]) {
    buf[slot].reset(new float[static_cast<size_t>(n)]);
    size[slot] = n;
  }
  return buf[slot].get();
}

// G g G^T for the 3x3 filters g[i] = f + i * f_stride (i < count, row-major 3x3 each, reversed in space when
// `flip`), G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]; entry e = 4 * row + col of filter i goes to
// u[e * plane + i]. Chunks of filters are first transposed to [9][chunk] so the arithmetic runs across filters
// (vectorised) and each of the 16 output planes is written in contiguous runs.
void transform_filters(const float* f, int64_t f_stride, int64_t count, bool flip, float* u, int64_t plane) {
  constexpr int64_t kChunk = 256;
  float gt[9][kChunk], t[4][3][kChunk];  // the chunk's filters, then G g: [4, 3] per filter
  for (int64_t i0 = 0; i0 < count; i0 += kChunk) {
    const int64_t n = std::min(kChunk, count - i0);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < 9; ++j) gt[j][i] = f[(i0 + i) * f_stride + (flip ? 8 - j : j)];
    for (int j = 0; j < 3; ++j)
      for (int64_t i = 0; i < n; ++i) {
        const float a = gt[j][i], b = gt[3 + j][i], c = gt[6 + j][i];
        t[0][j][i] = a;
        t[1][j][i] = 0.5f * (a + b + c);
        t[2][j][i] = 0.5f * (a - b + c);
        t[3][j][i] = c;
      }
    for (int r = 0; r < 4; ++r) {
      float* __restrict o0 = u + (4 * r + 0) * plane + i0;
      float* __restrict o1 = u + (4 * r + 1) * plane + i0;
      float* __restrict o2 = u + (4 * r + 2) * plane + i0;
      float* __restrict o3 = u + (4 * r + 3) * plane + i0;
      for (int64_t i = 0; i < n; ++i) {
        const float a = t[r][0][i], b = t[r][1][i], c = t[r][2][i];
        o0[i] = a;
        o1[i] = 0.5f * (a + b + c);
        o2[i] = 0.5f * (a - b + c);
        o3[i] = c;
      }
    }
  }
}

// B^T d B for the tiles tj in [j0, j1) of one tile row, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
// rows: the 4 input rows the tile row reads, zero-padded so that tile tj's patch starts at column 2 tj; entry e of
// tile j0 + t goes to v[e * plane + t].
void transform_input_row(const float* const rows[4], int64_t j0, int64_t j1, float* __restrict v, int64_t plane,
                         float* __restrict tmp) {
  // tmp: [4, 2 * (j1 - j0) + 2], the rows combined (B^T d) over the columns the tiles read.
  const int64_t width = 2 * (j1 - j0) + 2, x0 = 2 * j0;
  const float* __restrict d0 = rows[0] + x0;
  const float* __restrict d1 = rows[1] + x0;
  const float* __restrict d2 = rows[2] + x0;
  const float* __restrict d3 = rows[3] + x0;
  for (int64_t x = 0; x < width; ++x) {
    tmp[x] = d0[x] - d2[x];
    tmp[width + x] = d1[x] + d2[x];
    tmp[2 * width + x] = d2[x] - d1[x];
    tmp[3 * width + x] = d1[x] - d3[x];
  }
  for (int r = 0; r < 4; ++r) {
    const float* __restrict e = tmp + r * width;
    float* __restrict o0 = v + (4 * r + 0) * plane;
    float* __restrict o1 = v + (4 * r + 1) * plane;
    float* __restrict o2 = v + (4 * r + 2) * plane;
    float* __restrict o3 = v + (4 * r + 3) * plane;
    for (int64_t t = 0; t < j1 - j0; ++t) {
      o0[t] = e[2 * t] - e[2 * t + 2];
      o1[t] = e[2 * t + 1] + e[2 * t + 2];
      o2[t] = e[2 * t + 2] - e[2 * t + 1];
      o3[t] = e[2 * t + 1] - e[2 * t + 3];
    }
  }
}

// A^T s A for n consecutive tiles, A^T = [1 1 1 0; 0 1 -1 -1]; s: entry e of tile t at s[e * plane + t];
// y: [4][n], the outputs (0,0), (0,1), (1,0), (1,1) of each tile.
void transform_output(const float* __restrict s, int64_t plane, int64_t n, float* __restrict y) {
  for (int64_t t = 0; t < n; ++t) {
    float a[2][4];  // A^T s
    for (int q = 0; q < 4; ++q) {
      const float s0 = s[q * plane + t], s1 = s[(4 + q) * plane + t], s2 = s[(8 + q) * plane + t],
                  s3 = s[(12 + q) * plane + t];
      a[0][q] = s0 + s1 + s2;
      a[1][q] = s1 - s2 - s3;
    }
    y[t] = a[0][0] + a[0][1] + a[0][2];
    y[n + t] = a[0][1] - a[0][2] - a[0][3];
    y[2 * n + t] = a[1][0] + a[1][1] + a[1][2];
    y[3 * n + t] = a[1][1] - a[1][2] - a[1][3];
  }
}

// One Winograd convolution of a single sample with transformed filters u [16][out_ch][in_ch]:
//   out[o, i, j] (+)= bias[o] + sum_{c,p,q} f[o, c, p, q] * in[c, i - pt + p, j - pl + q]   (zeros outside `in`)
// in: [in_ch, hi, wi]   out: [out_ch, ho, wo]; accumulate: add to out instead of overwriting it.
struct Plan {
  int64_t in_ch, out_ch, hi, wi, ho, wo, pt, pl;
};

void convolve(const Plan& p, const float* u, const float* in, const float* bias, float* out, bool accumulate) {
  const int64_t th = (p.ho + 1) / 2, tw = (p.wo + 1) / 2, tiles = th * tw;
  const int64_t per_tile = 16 * (p.in_ch + p.out_ch) * static_cast<int64_t>(sizeof(float));
  const int threads = num_threads();
  int64_t block = std::max(kMinTiles, kBlockBytes / per_tile);
  block = std::min(block, tiles);
  float* v = scratch(0, 16 * p.in_ch * block);   // [16][in_ch][block]
  float* m = scratch(1, 16 * p.out_ch * block);  // [16][out_ch][block]
  const int64_t in_plane = p.hi * p.wi, out_plane = p.ho * p.wo;
  const int64_t row_len = 2 * tw + 2;  // a padded input row: column x holds input column x - pl
  for (int64_t t0 = 0; t0 < tiles; t0 += block) {
    const int64_t nt = std::min(block, tiles - t0);
    const int64_t vs = p.in_ch * nt, ms = p.out_ch * nt;  // plane strides of v and m for this block
    const int64_t ti_first = t0 / tw, ti_last = (t0 + nt - 1) / tw;
    // Tile row ti's tiles in this block: [j0, j1).
    auto span = [&](int64_t ti, int64_t& j0, int64_t& j1) {
      j0 = ti == ti_first ? t0 % tw : 0;
      j1 = ti == ti_last ? (t0 + nt - 1) % tw + 1 : tw;
    };
#pragma omp parallel if (threads > 1)
    {
      thread_local std::vector<float> work;  // 4 padded rows, then their row transform
      work.resize(static_cast<size_t>(8 * row_len));
      float* padded = work.data();
#pragma omp for schedule(static)
      for (int64_t c = 0; c < p.in_ch; ++c) {
        const float* src = in + c * in_plane;
        for (int64_t ti = ti_first; ti <= ti_last; ++ti) {
          const float* rows[4];
          for (int r = 0; r < 4; ++r) {
            float* row = padded + r * row_len;
            rows[r] = row;
            const int64_t y = 2 * ti - p.pt + r;
            const int64_t x_begin = std::clamp<int64_t>(p.pl, 0, row_len), x_end = std::clamp<int64_t>(p.pl + p.wi, 0, row_len);
            if (y < 0 || y >= p.hi || x_begin >= x_end) {
              std::fill(row, row + row_len, 0.0f);
              continue;
            }
            std::fill(row, row + x_begin, 0.0f);
            std::copy(src + y * p.wi + (x_begin - p.pl), src + y * p.wi + (x_end - p.pl), row + x_begin);
            std::fill(row + x_end, row + row_len, 0.0f);
          }
          int64_t j0, j1;
          span(ti, j0, j1);
          transform_input_row(rows, j0, j1, v + c * nt + (ti * tw + j0 - t0), vs, padded + 4 * row_len);
        }
      }
    }
    // The 16 element-wise products summed over input channels: m[e] = u[e] [out_ch x in_ch] * v[e] [in_ch x nt].
#pragma omp parallel for schedule(static) if (threads > 1)
    for (int e = 0; e < 16; ++e)
      MapMatrix(m + e * ms, p.out_ch, nt).noalias() =
          ConstMapMatrix(u + e * p.out_ch * p.in_ch, p.out_ch, p.in_ch) * ConstMapMatrix(v + e * vs, p.in_ch, nt);
    // Back to the spatial domain; partial tiles at the bottom/right edge drop the outputs past ho/wo.
#pragma omp parallel if (threads > 1)
    {
      thread_local std::vector<float> work;  // [4][tw]: the 2x2 outputs of a tile row
      work.resize(static_cast<size_t>(4 * tw));
      float* y = work.data();
#pragma omp for schedule(static)
      for (int64_t o = 0; o < p.out_ch; ++o) {
        float* dst = out + o * out_plane;
        const float b0 = bias ? bias[o] : 0.0f;
        for (int64_t ti = ti_first; ti <= ti_last; ++ti) {
          int64_t j0, j1;
          span(ti, j0, j1);
          const int64_t n = j1 - j0;
          transform_output(m + o * nt + (ti * tw + j0 - t0), ms, n, y);
          for (int r = 0; r < 2 && 2 * ti + r < p.ho; ++r) {
            float* row = dst + (2 * ti + r) * p.wo + 2 * j0;
            const float* y0 = y + 2 * r * n;
            const float* y1 = y0 + n;
            const int64_t cols = std::min<int64_t>(2 * n, p.wo - 2 * j0);
            for (int64_t x = 0; x < cols; ++x) {
              const float val = (x & 1) ? y1[x >> 1] : y0[x >> 1];
              row[x] = accumulate ? row[x] + val : val + b0;
            }
          }
        }
      }
    }
  }
}
}  // namespace

bool applies(const Conv2dGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.p.stride_h == 1 && g.p.stride_w == 1 && g.p.groups == 1;
}

void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y) {
  // x: [N, C, H, W]  w: [K, C, 3, 3]  b: [K] or null  y: [N, K, Ho, Wo]
  float* u = scratch(2, 16 * g.k * g.c);  // [16][K][C]
  transform_filters(w, 9, g.k * g.c, false, u, g.k * g.c);
  const Plan p{g.c, g.k, g.h, g.w, g.ho, g.wo, g.p.pad_top, g.p.pad_left};
  for (int64_t n = 0; n < g.n; ++n)
    convolve(p, u, x + n * g.c * g.h * g.w, b, y + n * g.k * g.ho * g.wo, false);
}

void conv2d_backward_input(const Conv2dGeometry& g, const float* w, const float* d_y, float* d_x) {
  // w: [K, C, 3, 3]  d_y: [N, K, Ho, Wo]  d_x: [N, C, H, W] (accumulated)
  // Stride 1: d_x is the convolution of d_y with the filters flipped in space and transposed (channels <->
  // filters), offset by 2 - pad: d_x[c, i, j] = sum_{k,p,q} w[k, c, 2-p, 2-q] d_y[k, i - (2-pt) + p, j - (2-pl) + q].
  float* u = scratch(2, 16 * g.k * g.c);  // [16][C][K]
  for (int64_t c = 0; c < g.c; ++c)  // filter k of channel c is w[k, c], 9 * C floats apart
    transform_filters(w + c * 9, g.c * 9, g.k, true, u + c * g.k, g.k * g.c);
  const Plan p{g.k, g.c, g.ho, g.wo, g.h, g.w, 2 - g.p.pad_top, 2 - g.p.pad_left};
  for (int64_t n = 0; n < g.n; ++n)
    convolve(p, u, d_y + n * g.k * g.ho * g.wo, nullptr, d_x + n * g.c * g.h * g.w, true);
}

}  // namespace preimage::kernels::winograd
