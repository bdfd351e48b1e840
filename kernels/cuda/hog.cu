// CUDA kernels for kernels/hog.h (design: docs/cuda_kernels_features.md). Every kernel computes, per output element,
// the CPU reference's expression (kernels/cpu/hog.cpp) with its float/double mix and in its order, and writes
// products and sums with the round-to-nearest intrinsics (__fmul_rn, __fadd_rn, __dmul_rn, __dadd_rn), which nvcc
// never contracts into an FMA: the orientation scores must round as VLFeat's so that near-ties pick the same bin.
// Where the reference scatters (splat into cells, gradient into pixels, energy derivative into blocks), the kernels
// gather, visiting the sources in the reference's raster order, so each sum adds the same terms in the same order:
// bit for bit equal, deterministic, no atomics.
//   gradient:   one thread per pixel (forward) / per (channel, pixel) (backward).
//   binning:    forward, one block per tile of cells: the tile's pixels (with their halo) get their orientation
//               decision once, into shared memory; then one thread per (cell, bin) sums its pixels in raster order.
//               Backward, one thread per pixel (its 4 cells x 2 bins are a gather already).
//   normalise:  one thread per cell; the cell energies go through a small device scratch buffer first, and the
//               backward's block-energy derivatives through a second one (4 doubles per cell).
#include "kernels/cuda/hog.h"

#include <cmath>

#include "engine/error.h"
#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;
constexpr double kPi = 3.14159265358979323846;  // VL_PI, as the reference

// Unit vectors of the NO undirected orientations, rounded to float on the host exactly as the reference does.
struct HogAxes {
  float ox[kHogMaxOrientations];
  float oy[kHogMaxOrientations];
};

HogAxes make_axes(int no) {
  HogAxes a{};
  for (int k = 0; k < no; ++k) {
    const double angle = k * kPi / no;
    a.ox[k] = static_cast<float>(std::cos(angle));
    a.oy[k] = static_cast<float>(std::sin(angle));
  }
  return a;
}

// ---- step 1: image gradient ----

// grad [n, 2, h, w], channel [n, 1, h, w]: one thread per pixel; channels scanned in order, strict comparison.
__global__ void gradient_forward_kernel(int64_t n, int64_t c, int64_t h, int64_t w, const float* image, float* grad,
                                        float* channel) {
  const int64_t plane = h * w, total = n * plane;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = e / plane, i = e % plane, y = i / w, x = i % w;
    float gx = 0, gy = 0, norm2 = 0;
    int64_t best = -1;
    if (y >= 1 && y < h - 1 && x >= 1 && x < w - 1) {
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* p = image + (b * c + ch) * plane + i;
        const float gx_c = __fsub_rn(p[1], p[-1]);
        const float gy_c = __fsub_rn(p[w], p[-w]);
        const float norm2_c = __fadd_rn(__fmul_rn(gx_c, gx_c), __fmul_rn(gy_c, gy_c));
        if (norm2_c > norm2) {
          gx = gx_c;
          gy = gy_c;
          norm2 = norm2_c;
          best = ch;
        }
      }
    }
    grad[b * 2 * plane + i] = gx;
    grad[b * 2 * plane + plane + i] = gy;
    channel[e] = static_cast<float>(best);
  }
}

// Whether interior pixel (x, y) chose channel ch (channel map [h, w] of one sample).
__device__ __forceinline__ bool chose(const float* channel, int64_t h, int64_t w, int64_t x, int64_t y, int64_t ch) {
  if (y < 1 || y >= h - 1 || x < 1 || x >= w - 1) return false;
  return static_cast<int64_t>(channel[y * w + x]) == ch;
}

// d_image [n, c, h, w] (+=): one thread per element gathers the four neighbours that differenced it, in the
// reference's raster order of the source pixels: (x, y-1) via +gy, (x-1, y) via +gx, (x+1, y) via -gx, (x, y+1) via -gy.
__global__ void gradient_backward_kernel(int64_t n, int64_t c, int64_t h, int64_t w, const float* channel,
                                         const float* d_grad, float* d_image) {
  const int64_t plane = h * w, total = n * c * plane;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = e / (c * plane), ch = (e / plane) % c, i = e % plane, y = i / w, x = i % w;
    const float* chan = channel + b * plane;      // [h, w]
    const float* dgx = d_grad + b * 2 * plane;    // [h, w]
    const float* dgy = dgx + plane;               // [h, w]
    float acc = d_image[e];
    if (chose(chan, h, w, x, y - 1, ch)) acc = __fadd_rn(acc, dgy[i - w]);
    if (chose(chan, h, w, x - 1, y, ch)) acc = __fadd_rn(acc, dgx[i - 1]);
    if (chose(chan, h, w, x + 1, y, ch)) acc = __fsub_rn(acc, dgx[i + 1]);
    if (chose(chan, h, w, x, y + 1, ch)) acc = __fsub_rn(acc, dgy[i + w]);
    d_image[e] = acc;
  }
}

// ---- step 2: orientation binning and spatial splat ----

struct BinningGeometry {
  int64_t h, w, hog_h, hog_w;
  int cs, no;
  bool bilinear;
  int tile_x, tile_y;      // cells per block
  int region_w, region_h;  // pixels per block (the tile's cells' support plus a margin)
};

// Bilinear weights along one axis, as the reference's Splat1d: h = (i + 0.5)/cs - 0.5 in double, rounded to float.
__device__ __forceinline__ void splat_1d(int64_t i, int cs, int64_t& bin, float& w1, float& w2) {
  const float hf = static_cast<float>(__dadd_rn((static_cast<double>(i) + 0.5) / cs, -0.5));
  const float fb = floorf(hf);
  bin = static_cast<int64_t>(fb);
  w2 = __fsub_rn(hf, fb);
  w1 = static_cast<float>(__dadd_rn(1.0, -static_cast<double>(w2)));
}

// First pixel whose bin is cell - 1 (the support of a cell is the pixels with bin cell - 1 or cell), exactly
// floor((2 cs cell - cs) / 2); callers widen it by one pixel and check each pixel's bin anyway.
__host__ __device__ __forceinline__ int64_t support_begin(int64_t cell, int cs) {
  const int64_t v = 2 * int64_t(cs) * cell - cs;
  return v >= 0 ? v / 2 : -((1 - v) / 2);
}

// VLFeat's orientation decision (the reference's `orient`): b0/b1 the best and second best directed bins (b1 = -1
// for hard assignment), w0/w1 their weights. NaN gradients get no bin.
__device__ __forceinline__ void orient(float gx, float gy, float magnitude, const HogAxes& axes, int no, bool bilinear,
                                       int& b0, float& w0, int& b1, float& w1) {
  b0 = -1;
  b1 = -1;
  w0 = -1;
  w1 = -1;
  for (int k = 0; k < no; ++k) {
    float score = __fadd_rn(__fmul_rn(gx, axes.ox[k]), __fmul_rn(gy, axes.oy[k]));
    int bin = k;
    if (score < 0) {
      score = -score;
      bin += no;
    }
    if (score > w0) {
      b1 = b0;
      w1 = w0;
      b0 = bin;
      w0 = score;
    } else if (score > w1) {
      b1 = bin;
      w1 = score;
    }
  }
  if (bilinear) {
    const double m = static_cast<double>(magnitude);
    double cosine = static_cast<double>(w0) / (m < 1e-10 ? 1e-10 : m);  // std::max / std::min, NaN included
    cosine = 1.0 < cosine ? 1.0 : cosine;
    const float theta = acosf(static_cast<float>(cosine));
    w1 = static_cast<float>(static_cast<double>(theta) / (kPi / no));
    w0 = __fsub_rn(1.0f, w1);
  } else {
    w0 = 1;
    b1 = -1;
  }
}

__device__ __forceinline__ unsigned pack_bins(int b0, int b1) {
  return (static_cast<unsigned>(b0) & 0xffffu) | (static_cast<unsigned>(b1) << 16);
}
__device__ __forceinline__ int bin_lo(unsigned packed) { return static_cast<short>(packed & 0xffffu); }
__device__ __forceinline__ int bin_hi(unsigned packed) { return static_cast<short>(packed >> 16); }

// hist [n, 2*NO, hogH, hogW]. Block (bx, by, sample) owns cells [bx tile_x, +tile_x) x [by tile_y, +tile_y).
// Dynamic shared memory: packed bins [region], |g| w0 [region], |g| w1 [region] (HOGb), then per region column
// bin/w1/w2 and per region row bin/w1/w2.
__global__ void binning_forward_kernel(BinningGeometry g, HogAxes axes, const float* grad, float* hist) {
  PI_DYNAMIC_SHARED(float, smem);
  const int rw = g.region_w, rh = g.region_h, region = rw * rh;
  unsigned* bins = reinterpret_cast<unsigned*>(smem);  // [rh][rw]
  float* mw0 = smem + region;                          // [rh][rw]
  float* mw1 = mw0 + region;                           // [rh][rw], HOGb only
  int* col_bin = reinterpret_cast<int*>(mw1 + (g.bilinear ? region : 0));  // [rw]
  float* col_w1 = reinterpret_cast<float*>(col_bin + rw);
  float* col_w2 = col_w1 + rw;
  int* row_bin = reinterpret_cast<int*>(col_w2 + rw);  // [rh]
  float* row_w1 = reinterpret_cast<float*>(row_bin + rh);
  float* row_w2 = row_w1 + rh;

  const int64_t cx0 = int64_t(blockIdx.x) * g.tile_x, cy0 = int64_t(blockIdx.y) * g.tile_y;
  const int64_t rx0 = support_begin(cx0, g.cs) - 1, ry0 = support_begin(cy0, g.cs) - 1;  // region origin
  const int64_t plane = g.h * g.w;
  const float* gxp = grad + int64_t(blockIdx.z) * 2 * plane;  // [h, w]
  const float* gyp = gxp + plane;                             // [h, w]
  const int tid = threadIdx.x, nthreads = blockDim.x;

  for (int j = tid; j < rw + rh; j += nthreads) {
    int64_t bin;
    float w1, w2;
    if (j < rw) {
      splat_1d(rx0 + j, g.cs, bin, w1, w2);
      col_bin[j] = static_cast<int>(bin);
      col_w1[j] = w1;
      col_w2[j] = w2;
    } else {
      splat_1d(ry0 + (j - rw), g.cs, bin, w1, w2);
      row_bin[j - rw] = static_cast<int>(bin);
      row_w1[j - rw] = w1;
      row_w2[j - rw] = w2;
    }
  }
  // each pixel's decision once: bins and |g| * weight (VLFeat's (|g| w) first product); outside the image: no bin
  for (int j = tid; j < region; j += nthreads) {
    const int64_t x = rx0 + j % rw, y = ry0 + j / rw;
    int b0 = -1, b1 = -1;
    float w0 = 0, w1 = 0, m = 0;
    if (x >= 0 && x < g.w && y >= 0 && y < g.h) {
      const float gx = gxp[y * g.w + x], gy = gyp[y * g.w + x];
      m = __fsqrt_rn(__fadd_rn(__fmul_rn(gx, gx), __fmul_rn(gy, gy)));
      orient(gx, gy, m, axes, g.no, g.bilinear, b0, w0, b1, w1);
    }
    bins[j] = pack_bins(b0, b1);
    mw0[j] = __fmul_rn(m, w0);
    if (g.bilinear) mw1[j] = __fmul_rn(m, w1);
  }
  __syncthreads();

  // one thread per (cell, bin), bins fastest: neighbouring threads read the same pixels (shared-memory broadcast)
  const int nbins = 2 * g.no, outputs = g.tile_x * g.tile_y * nbins;
  for (int o = tid; o < outputs; o += nthreads) {
    const int bin = o % nbins, cell = o / nbins;
    const int64_t cx = cx0 + cell % g.tile_x, cy = cy0 + cell / g.tile_x;
    if (cx >= g.hog_w || cy >= g.hog_h) continue;
    const int64_t lx0 = support_begin(cx, g.cs) - 1 - rx0, ly0 = support_begin(cy, g.cs) - 1 - ry0;
    const int64_t lx1 = lx0 + 2 * int64_t(g.cs) + 2, ly1 = ly0 + 2 * int64_t(g.cs) + 2;  // exclusive, widened
    float acc = 0;
    for (int64_t ly = ly0 < 0 ? 0 : ly0; ly < ly1 && ly < rh; ++ly) {
      float wy;
      if (row_bin[ly] == cy) {
        wy = row_w1[ly];
      } else if (row_bin[ly] + 1 == cy) {
        wy = row_w2[ly];
      } else {
        continue;
      }
      for (int64_t lx = lx0 < 0 ? 0 : lx0; lx < lx1 && lx < rw; ++lx) {
        float wx;
        if (col_bin[lx] == cx) {
          wx = col_w1[lx];
        } else if (col_bin[lx] + 1 == cx) {
          wx = col_w2[lx];
        } else {
          continue;
        }
        const int64_t j = ly * rw + lx;
        const unsigned packed = bins[j];
        if (bin_lo(packed) == bin)
          acc = __fadd_rn(acc, __fmul_rn(__fmul_rn(mw0[j], wx), wy));
        else if (bin_hi(packed) == bin)
          acc = __fadd_rn(acc, __fmul_rn(__fmul_rn(mw1[j], wx), wy));
      }
    }
    hist[((int64_t(blockIdx.z) * nbins + bin) * g.hog_h + cy) * g.hog_w + cx] = acc;
  }
}

// d_grad [n, 2, h, w] (+=): one thread per pixel, the reference's per-pixel expression.
__global__ void binning_backward_kernel(BinningGeometry g, HogAxes axes, int64_t n, const float* grad,
                                        const float* d_hist, float* d_grad) {
  const int64_t plane = g.h * g.w, stride = g.hog_h * g.hog_w, total = n * plane;
  const int no = g.no;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / plane, i = e % plane, y = i / g.w, x = i % g.w;
    const float gx = grad[s * 2 * plane + i], gy = grad[s * 2 * plane + plane + i];
    const float m2 = __fadd_rn(__fmul_rn(gx, gx), __fmul_rn(gy, gy));
    if (!(m2 > 0)) continue;  // |g| is not differentiable at 0
    const float magnitude = __fsqrt_rn(m2);
    int bins[2];
    float weights[2];
    orient(gx, gy, magnitude, axes, no, g.bilinear, bins[0], weights[0], bins[1], weights[1]);
    int64_t bx, by;
    float wx1, wx2, wy1, wy2;
    splat_1d(x, g.cs, bx, wx1, wx2);
    splat_1d(y, g.cs, by, wy1, wy2);
    const float* dh = d_hist + s * 2 * no * stride;  // [2*NO, hogH, hogW]
    float gsum[2] = {0, 0};
    for (int j = 0; j < 2; ++j) {
      if (bins[j] < 0) continue;
      const float* d = dh + bins[j] * stride;
      if (bx >= 0 && by >= 0) gsum[j] = __fadd_rn(gsum[j], __fmul_rn(__fmul_rn(wx1, wy1), d[by * g.hog_w + bx]));
      if (bx < g.hog_w - 1 && by >= 0)
        gsum[j] = __fadd_rn(gsum[j], __fmul_rn(__fmul_rn(wx2, wy1), d[by * g.hog_w + bx + 1]));
      if (bx < g.hog_w - 1 && by < g.hog_h - 1)
        gsum[j] = __fadd_rn(gsum[j], __fmul_rn(__fmul_rn(wx2, wy2), d[(by + 1) * g.hog_w + bx + 1]));
      if (bx >= 0 && by < g.hog_h - 1)
        gsum[j] = __fadd_rn(gsum[j], __fmul_rn(__fmul_rn(wx1, wy2), d[(by + 1) * g.hog_w + bx]));
    }
    const float d_mag =
        __fadd_rn(__fmul_rn(gsum[0], weights[0]), bins[1] >= 0 ? __fmul_rn(gsum[1], weights[1]) : 0.0f);
    float dgx = __fdiv_rn(__fmul_rn(d_mag, gx), magnitude);
    float dgy = __fdiv_rn(__fmul_rn(d_mag, gy), magnitude);
    if (g.bilinear && bins[1] >= 0) {
      const int k0 = bins[0] % no;
      const float s0 = bins[0] < no ? 1.0f : -1.0f;
      const float sine = __fmul_rn(s0, __fsub_rn(__fmul_rn(axes.ox[k0], gy), __fmul_rn(axes.oy[k0], gx)));
      const float sign = sine > 0 ? 1.0f : (sine < 0 ? -1.0f : 0.0f);
      const float d_theta = __fdiv_rn(__fmul_rn(__fsub_rn(gsum[1], gsum[0]), magnitude),
                                      static_cast<float>(kPi / no));
      dgx = __fadd_rn(dgx, __fdiv_rn(__fmul_rn(__fmul_rn(d_theta, sign), -gy), m2));
      dgy = __fadd_rn(dgy, __fdiv_rn(__fmul_rn(__fmul_rn(d_theta, sign), gx), m2));
    }
    d_grad[s * 2 * plane + i] = __fadd_rn(d_grad[s * 2 * plane + i], dgx);
    d_grad[s * 2 * plane + plane + i] = __fadd_rn(d_grad[s * 2 * plane + plane + i], dgy);
  }
}

// ---- step 3: block normalisation ----

struct NormGeometry {
  int64_t hog_h, hog_w;
  int no;
  bool uoctti;
};

// energy [n, hogH, hogW] = sum_k (h_k + h_{k+NO})^2 in float, k ascending.
__global__ void energy_kernel(NormGeometry g, int64_t n, const float* hist, float* energy) {
  const int64_t stride = g.hog_h * g.hog_w, total = n * stride;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const float* hp = hist + (e / stride) * 2 * g.no * stride + e % stride;  // [2*NO] strided by `stride`
    float acc = 0;
    for (int k = 0; k < g.no; ++k) {
      const float hu = __fadd_rn(hp[k * stride], hp[(k + g.no) * stride]);
      acc = __fadd_rn(acc, __fmul_rn(hu, hu));
    }
    energy[e] = acc;
  }
}

// The four 2x2 blocks (UL, UR, LL, LR) around cell (x, y), as flat cell indices with VLFeat's border clamping.
struct Blocks {
  int64_t cells[4][4];
};
__device__ __forceinline__ Blocks blocks_of(int64_t x, int64_t y, int64_t hog_h, int64_t hog_w) {
  const int64_t xm = x - 1 < 0 ? 0 : x - 1, xp = x + 1 > hog_w - 1 ? hog_w - 1 : x + 1;
  const int64_t ym = y - 1 < 0 ? 0 : y - 1, yp = y + 1 > hog_h - 1 ? hog_h - 1 : y + 1;
  const int64_t n1 = ym * hog_w + xm, n2 = ym * hog_w + x, n3 = ym * hog_w + xp;
  const int64_t n4 = y * hog_w + xm, n5 = y * hog_w + x, n6 = y * hog_w + xp;
  const int64_t n7 = yp * hog_w + xm, n8 = yp * hog_w + x, n9 = yp * hog_w + xp;
  return Blocks{{{n1, n2, n4, n5}, {n2, n3, n5, n6}, {n4, n5, n7, n8}, {n5, n6, n8, n9}}};
}

// 1/sqrt(E + 1e-4) in double, E summed in VLFeat's order. energy: [hogH, hogW] of one sample.
__device__ __forceinline__ double block_factor(const float* energy, const int64_t* cells) {
  double s = __dadd_rn(static_cast<double>(energy[cells[0]]), static_cast<double>(energy[cells[1]]));
  s = __dadd_rn(s, static_cast<double>(energy[cells[2]]));
  s = __dadd_rn(s, static_cast<double>(energy[cells[3]]));
  return 1.0 / sqrt(__dadd_rn(s, 1e-4));
}

__device__ __forceinline__ double clamp02(double v) { return 0.2 < v ? 0.2 : v; }
__device__ __forceinline__ bool passes(double v) { return !(0.2 < v); }

// out [n, D, hogH, hogW]: one thread per cell.
__global__ void normalise_forward_kernel(NormGeometry g, int64_t n, float texture_scale, const float* hist,
                                         const float* energy, float* out) {
  const int64_t stride = g.hog_h * g.hog_w, total = n * stride;
  const int no = g.no;
  const int64_t dim = g.uoctti ? 3 * no + 4 : 4 * no;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / stride, i = e % stride;
    const float* hp = hist + s * 2 * no * stride + i;  // [2*NO] strided
    float* op = out + s * dim * stride + i;            // [D] strided
    const Blocks b = blocks_of(i % g.hog_w, i / g.hog_w, g.hog_h, g.hog_w);
    double f[4];
    for (int j = 0; j < 4; ++j) f[j] = block_factor(energy + s * stride, b.cells[j]);
    double t[4] = {0, 0, 0, 0};
    for (int k = 0; k < no; ++k) {
      const double ha = hp[k * stride], hb = hp[(k + no) * stride];
      double sa = 0, sb = 0, sc = 0;
      for (int j = 0; j < 4; ++j) {
        const double a = __dmul_rn(f[j], ha), bb = __dmul_rn(f[j], hb);
        const double cc = clamp02(__dadd_rn(a, bb));
        t[j] = __dadd_rn(t[j], cc);
        if (g.uoctti) {
          sa = __dadd_rn(sa, clamp02(a));
          sb = __dadd_rn(sb, clamp02(bb));
          sc = __dadd_rn(sc, cc);
        } else {
          op[(j * no + k) * stride] = static_cast<float>(cc);
        }
      }
      if (g.uoctti) {
        op[k * stride] = static_cast<float>(__dmul_rn(0.5, sa));
        op[(k + no) * stride] = static_cast<float>(__dmul_rn(0.5, sb));
        op[(k + 2 * no) * stride] = static_cast<float>(__dmul_rn(0.5, sc));
      }
    }
    if (g.uoctti) {
      for (int j = 0; j < 4; ++j)
        op[(3 * no + j) * stride] = static_cast<float>(__dmul_rn(static_cast<double>(texture_scale), t[j]));
    }
  }
}

// Backward, part 1, one thread per cell: d_hist (+=) through the clamped values, and the derivative with respect to
// each of its four block energies, d_block [n, hogH*hogW, 4] (doubles).
__global__ void normalise_backward_cells_kernel(NormGeometry g, int64_t n, double texture_scale, const float* hist,
                                                const float* energy, const float* d_out, float* d_hist,
                                                double* d_block) {
  const int64_t stride = g.hog_h * g.hog_w, total = n * stride;
  const int no = g.no;
  const int64_t dim = g.uoctti ? 3 * no + 4 : 4 * no;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / stride, i = e % stride;
    const float* hp = hist + s * 2 * no * stride + i;   // [2*NO] strided
    const float* dop = d_out + s * dim * stride + i;    // [D] strided
    float* dhp = d_hist + s * 2 * no * stride + i;      // [2*NO] strided
    const Blocks b = blocks_of(i % g.hog_w, i / g.hog_w, g.hog_h, g.hog_w);
    double f[4], d_f[4] = {0, 0, 0, 0};
    for (int j = 0; j < 4; ++j) f[j] = block_factor(energy + s * stride, b.cells[j]);
    for (int k = 0; k < no; ++k) {
      const double ha = hp[k * stride], hb = hp[(k + no) * stride];
      double d_ha = 0, d_hb = 0;
      for (int j = 0; j < 4; ++j) {
        const double a = __dmul_rn(f[j], ha), bb = __dmul_rn(f[j], hb), c = __dadd_rn(a, bb);
        double da = 0, db = 0, dc = 0;
        if (g.uoctti) {
          if (passes(a)) da = __dmul_rn(0.5, static_cast<double>(dop[k * stride]));
          if (passes(bb)) db = __dmul_rn(0.5, static_cast<double>(dop[(k + no) * stride]));
          if (passes(c))
            dc = __dadd_rn(__dmul_rn(0.5, static_cast<double>(dop[(k + 2 * no) * stride])),
                           __dmul_rn(texture_scale, static_cast<double>(dop[(3 * no + j) * stride])));
        } else {
          if (passes(c)) dc = dop[(j * no + k) * stride];
        }
        const double dac = __dadd_rn(da, dc), dbc = __dadd_rn(db, dc);
        d_ha = __dadd_rn(d_ha, __dmul_rn(f[j], dac));
        d_hb = __dadd_rn(d_hb, __dmul_rn(f[j], dbc));
        d_f[j] = __dadd_rn(d_f[j], __dadd_rn(__dmul_rn(ha, dac), __dmul_rn(hb, dbc)));
      }
      dhp[k * stride] = __fadd_rn(dhp[k * stride], static_cast<float>(d_ha));
      dhp[(k + no) * stride] = __fadd_rn(dhp[(k + no) * stride], static_cast<float>(d_hb));
    }
    // f = (E + 1e-4)^(-1/2): dE = -f^3/2 df
    for (int j = 0; j < 4; ++j)
      d_block[e * 4 + j] = __dmul_rn(__dmul_rn(__dmul_rn(__dmul_rn(-0.5, f[j]), f[j]), f[j]), d_f[j]);
  }
}

// Backward, part 2, one thread per cell: its energy derivative gathered from the blocks of the (up to 3x3) cells
// whose blocks contain it, in the reference's scatter order (source cells raster, blocks, block cells), then
// d_hist (+=) through energy = sum_k (h_k + h_{k+NO})^2.
__global__ void normalise_backward_energy_kernel(NormGeometry g, int64_t n, const float* hist, const double* d_block,
                                                 float* d_hist) {
  const int64_t stride = g.hog_h * g.hog_w, total = n * stride;
  const int no = g.no;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / stride, i = e % stride, x = i % g.hog_w, y = i / g.hog_w;
    double d_energy = 0;
    for (int64_t sy = y - 1; sy <= y + 1; ++sy) {
      if (sy < 0 || sy >= g.hog_h) continue;
      for (int64_t sx = x - 1; sx <= x + 1; ++sx) {
        if (sx < 0 || sx >= g.hog_w) continue;
        const Blocks b = blocks_of(sx, sy, g.hog_h, g.hog_w);
        const double* d_e = d_block + (s * stride + sy * g.hog_w + sx) * 4;  // [4]
        for (int j = 0; j < 4; ++j)
          for (int q = 0; q < 4; ++q)
            if (b.cells[j][q] == i) d_energy = __dadd_rn(d_energy, d_e[j]);
      }
    }
    const float* hp = hist + s * 2 * no * stride + i;  // [2*NO] strided
    float* dhp = d_hist + s * 2 * no * stride + i;
    for (int k = 0; k < no; ++k) {
      const double hu = __dadd_rn(static_cast<double>(hp[k * stride]), static_cast<double>(hp[(k + no) * stride]));
      const float d = static_cast<float>(__dmul_rn(__dmul_rn(2.0, hu), d_energy));
      dhp[k * stride] = __fadd_rn(dhp[k * stride], d);
      dhp[(k + no) * stride] = __fadd_rn(dhp[(k + no) * stride], d);
    }
  }
}

// Device scratch freed (stream-ordered) when it goes out of scope.
class Scratch {
 public:
  Scratch(size_t bytes, cudaStream_t stream) : stream_(stream) {
    PI_CUDA_CHECK(cudaMallocAsync(&p_, bytes, stream));
  }
  ~Scratch() { cudaFreeAsync(p_, stream_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T> T* as() const { return static_cast<T*>(p_); }

 private:
  void* p_ = nullptr;
  cudaStream_t stream_;
};

void check_orientations(const char* op, int no) {
  PI_CHECK(no <= kHogMaxOrientations, op, ": the CUDA kernels take at most ", kHogMaxOrientations,
           " orientations, got ", no, "; use fewer orientations or --device cpu");
}

size_t binning_shared_bytes(const BinningGeometry& g) {
  const size_t region = size_t(g.region_w) * g.region_h;
  return region * sizeof(float) * (g.bilinear ? 3 : 2) + size_t(g.region_w + g.region_h) * 3 * sizeof(float);
}

}  // namespace

void hog_gradient_forward(int64_t n, int64_t c, int64_t h, int64_t w, const float* image, float* grad,
                          float* channel, cudaStream_t stream) {
  const int64_t total = n * h * w;
  if (total <= 0) return;
  PI_LAUNCH(gradient_forward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(n, c, h, w, image,
                                                                                               grad, channel);
  PI_CUDA_CHECK_LAUNCH("gradient_forward_kernel");
}

void hog_gradient_backward(int64_t n, int64_t c, int64_t h, int64_t w, const float* channel, const float* d_grad,
                           float* d_image, cudaStream_t stream) {
  const int64_t total = n * c * h * w;
  if (total <= 0 || !d_image) return;
  PI_LAUNCH(gradient_backward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(n, c, h, w, channel,
                                                                                                d_grad, d_image);
  PI_CUDA_CHECK_LAUNCH("gradient_backward_kernel");
}

void hog_binning_forward(int64_t n, int64_t h, int64_t w, const HogBinningParams& p, const float* grad, float* hist,
                         cudaStream_t stream) {
  check_orientations("hog_binning", p.num_orientations);
  BinningGeometry g{h, w, hog_cells(h, p.cell_size), hog_cells(w, p.cell_size), p.cell_size, p.num_orientations,
                    p.bilinear_orientations, 8, 4, 0, 0};
  if (n <= 0 || g.hog_h <= 0 || g.hog_w <= 0) return;
  // A tile of cells and its pixels' support (cs (tile + 1) - 1 pixels per side) plus one pixel of margin each side;
  // tiles shrink until the region fits the default 48 KiB of shared memory (cell size 8: 8x4 cells, 38 KiB HOGb).
  auto fit = [&g]() {
    g.region_w = g.cs * (g.tile_x + 1) + 2;
    g.region_h = g.cs * (g.tile_y + 1) + 2;
  };
  fit();
  const size_t kDefaultShared = 48 * 1024, kMaxShared = 227 * 1024;
  while (binning_shared_bytes(g) > kDefaultShared && (g.tile_x > 1 || g.tile_y > 1)) {
    if (g.tile_x >= g.tile_y)
      g.tile_x /= 2;
    else
      g.tile_y /= 2;
    fit();
  }
  const size_t bytes = binning_shared_bytes(g);
  PI_CHECK(bytes <= kMaxShared, "hog_binning: cell size ", p.cell_size, " needs ", bytes,
           " bytes of shared memory per block on the device (at most ", kMaxShared,
           "); use a smaller cell size or --device cpu");
  if (bytes > kDefaultShared)
    PI_CUDA_CHECK(cudaFuncSetAttribute(binning_forward_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(bytes)));
  PI_CHECK(n <= 65535, "hog_binning: batch of ", n, " exceeds the CUDA grid's 65535 samples per launch");
  const dim3 grid(static_cast<unsigned>((g.hog_w + g.tile_x - 1) / g.tile_x),
                  static_cast<unsigned>((g.hog_h + g.tile_y - 1) / g.tile_y), static_cast<unsigned>(n));
  PI_LAUNCH(binning_forward_kernel, grid, kThreads, bytes, stream)(g, make_axes(g.no), grad, hist);
  PI_CUDA_CHECK_LAUNCH("binning_forward_kernel");
}

void hog_binning_backward(int64_t n, int64_t h, int64_t w, const HogBinningParams& p, const float* grad,
                          const float* d_hist, float* d_grad, cudaStream_t stream) {
  check_orientations("hog_binning backward", p.num_orientations);
  const BinningGeometry g{h, w, hog_cells(h, p.cell_size), hog_cells(w, p.cell_size), p.cell_size,
                          p.num_orientations, p.bilinear_orientations, 0, 0, 0, 0};
  const int64_t total = n * h * w;
  if (total <= 0 || !d_grad) return;
  PI_LAUNCH(binning_backward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(
      g, make_axes(g.no), n, grad, d_hist, d_grad);
  PI_CUDA_CHECK_LAUNCH("binning_backward_kernel");
}

void hog_normalise_forward(int64_t n, int64_t hog_h, int64_t hog_w, int num_orientations, HogVariant v,
                           const float* hist, float* out, cudaStream_t stream) {
  const int64_t cells = n * hog_h * hog_w;
  if (cells <= 0) return;
  const NormGeometry g{hog_h, hog_w, num_orientations, v == HogVariant::uoctti};
  Scratch energy(static_cast<size_t>(cells) * sizeof(float), stream);  // [n, hogH, hogW]
  const unsigned blocks = grid_stride_blocks(cells, kThreads);
  PI_LAUNCH(energy_kernel, blocks, kThreads, 0, stream)(g, n, hist, energy.as<float>());
  PI_CUDA_CHECK_LAUNCH("energy_kernel");
  const float texture_scale = 1.0f / std::sqrt(18.0f);  // VLFeat's 1.0f/sqrtf(18.0f), as the reference
  PI_LAUNCH(normalise_forward_kernel, blocks, kThreads, 0, stream)(g, n, texture_scale, hist, energy.as<float>(),
                                                                   out);
  PI_CUDA_CHECK_LAUNCH("normalise_forward_kernel");
}

void hog_normalise_backward(int64_t n, int64_t hog_h, int64_t hog_w, int num_orientations, HogVariant v,
                            const float* hist, const float* d_out, float* d_hist, cudaStream_t stream) {
  const int64_t cells = n * hog_h * hog_w;
  if (cells <= 0 || !d_hist) return;
  const NormGeometry g{hog_h, hog_w, num_orientations, v == HogVariant::uoctti};
  Scratch energy(static_cast<size_t>(cells) * sizeof(float), stream);       // [n, hogH, hogW]
  Scratch d_block(static_cast<size_t>(cells) * 4 * sizeof(double), stream);  // [n, hogH, hogW, 4]
  const unsigned blocks = grid_stride_blocks(cells, kThreads);
  PI_LAUNCH(energy_kernel, blocks, kThreads, 0, stream)(g, n, hist, energy.as<float>());
  PI_CUDA_CHECK_LAUNCH("energy_kernel");
  const double texture_scale = static_cast<double>(1.0f / std::sqrt(18.0f));
  PI_LAUNCH(normalise_backward_cells_kernel, blocks, kThreads, 0, stream)(g, n, texture_scale, hist,
                                                                          energy.as<float>(), d_out, d_hist,
                                                                          d_block.as<double>());
  PI_CUDA_CHECK_LAUNCH("normalise_backward_cells_kernel");
  PI_LAUNCH(normalise_backward_energy_kernel, blocks, kThreads, 0, stream)(g, n, hist, d_block.as<double>(), d_hist);
  PI_CUDA_CHECK_LAUNCH("normalise_backward_energy_kernel");
}

}  // namespace preimage::kernels::cuda
