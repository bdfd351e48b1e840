// CUDA kernels for kernels/dsift.h (design: docs/cuda_kernels_features.md). The three stages of the CPU reference
// (kernels/cpu/dsift.cpp) as seven element-parallel kernels per sample, each output element computed by one thread
// with the reference's expression in its order (round-to-nearest intrinsics: nvcc cannot contract them into FMAs):
//   orient:     one thread per pixel writes its 8 orientation planes (two bins, six zeros: no memset pass).
//   pool:       separable like the reference: one thread per (orientation, bin row, frame row, x) sums the y taps,
//               then one thread per output (dimension, frame) sums the x taps; the window kernels are the
//               reference's (computed on the host by ref::dsift_bin_kernel, passed as a kernel parameter).
//   normalise:  one thread per frame (consecutive frames are consecutive addresses in [128, F]).
// The backward gathers where the reference scatters (pooling transposes, the central-difference transpose),
// visiting the sources in the reference's loop order, so each sum adds the same terms in the same order:
// deterministic, no atomics. Intermediates live in one device scratch buffer per call.
#include "kernels/cuda/dsift.h"

#include <cfloat>
#include <cmath>

#include "engine/error.h"
#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;
constexpr double kPi = 3.141592653589793;  // VL_PI, as the reference
constexpr int kOri = DsiftGeometry::kOrientations, kBins = DsiftGeometry::kBins, kDims = DsiftGeometry::kDims;
constexpr int kMaxTaps = 2 * kDsiftMaxBinSize - 1;

// The 4 window kernels of one axis, [4][2 bs - 1] indexed by offset d + bs - 1 (the reference's bin_kernels).
struct DsiftTaps {
  float k[kBins][kMaxTaps];
};

__device__ __forceinline__ int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }
// floor of a fractional orientation bin in [0, 8]; 0 for a NaN bin (as the reference: the NaN reaches the values, not
// the indices).
__device__ __forceinline__ int64_t bin_floor(float nt) {
  return nt >= 0.0f && nt <= 8.0f ? static_cast<int64_t>(floorf(nt)) : 0;
}
__device__ __forceinline__ int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Central differences inside, one-sided on the border (the reference's grad_x / grad_y). image: [H, W].
__device__ __forceinline__ float grad_x(const float* image, int64_t x, int64_t y, int64_t W) {
  const float* row = image + y * W;
  if (x == 0) return __fsub_rn(row[1], row[0]);
  if (x == W - 1) return __fsub_rn(row[W - 1], row[W - 2]);
  return __fmul_rn(0.5f, __fsub_rn(row[x + 1], row[x - 1]));
}
__device__ __forceinline__ float grad_y(const float* image, int64_t x, int64_t y, int64_t H, int64_t W) {
  if (y == 0) return __fsub_rn(image[W + x], image[x]);
  if (y == H - 1) return __fsub_rn(image[y * W + x], image[(y - 1) * W + x]);
  return __fmul_rn(0.5f, __fsub_rn(image[(y + 1) * W + x], image[(y - 1) * W + x]));
}

// vl_fast_atan2_f, as the reference's vl_atan2_approx.
__device__ __forceinline__ float vl_atan2_approx(float y, float x) {
  const float c3 = 0.1821f, c1 = 0.9675f;
  const float abs_y = __fadd_rn(fabsf(y), FLT_EPSILON);
  float r, angle;
  if (x >= 0) {
    r = __fdiv_rn(__fsub_rn(x, abs_y), __fadd_rn(x, abs_y));
    angle = static_cast<float>(kPi / 4);
  } else {
    r = __fdiv_rn(__fadd_rn(x, abs_y), __fsub_rn(abs_y, x));
    angle = static_cast<float>(3 * kPi / 4);
  }
  angle = __fadd_rn(angle, __fmul_rn(__fsub_rn(__fmul_rn(__fmul_rn(c3, r), r), c1), r));
  return y < 0 ? -angle : angle;
}

// vl_fast_sqrt_f: two Newton steps from the 0x5f3759df guess, as the reference's vl_sqrt_approx.
__device__ __forceinline__ float vl_sqrt_approx(float x) {
  if (static_cast<double>(x) < 1e-8) return 0.0f;
  const float half_x = __fmul_rn(0.5f, x);
  float y = __int_as_float(0x5f3759df - (__float_as_int(x) >> 1));
  y = __fmul_rn(y, __fsub_rn(1.5f, __fmul_rn(__fmul_rn(half_x, y), y)));
  y = __fmul_rn(y, __fsub_rn(1.5f, __fmul_rn(__fmul_rn(half_x, y), y)));
  return __fmul_rn(x, y);
}

__device__ __forceinline__ float vl_orientation_bin(float angle) {
  const float two_pi = static_cast<float>(2 * kPi);
  while (angle > two_pi) angle = __fsub_rn(angle, two_pi);
  while (angle < 0.0f) angle = __fadd_rn(angle, two_pi);
  return static_cast<float>(__dmul_rn(static_cast<double>(angle), kOri / (2 * kPi)));
}

__device__ __forceinline__ float exact_orientation_bin(float gy, float gx) {
  float a = atan2f(gy, gx);
  if (a < 0.0f) a = __fadd_rn(a, static_cast<float>(2 * kPi));
  return __fmul_rn(a, static_cast<float>(kOri / (2 * kPi)));
}

// ---- stage 1: orientation binning ----

// binned [8, H, W]: one thread per pixel.
__global__ void orient_forward_kernel(int64_t H, int64_t W, bool vlfeat, const float* image, float* binned) {
  const int64_t plane = H * W;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < plane; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t y = i / W, x = i % W;
    const float gx = grad_x(image, x, y, W), gy = grad_y(image, x, y, H, W);
    const float m2 = __fadd_rn(__fmul_rn(gx, gx), __fmul_rn(gy, gy));
    float nt, mod;
    if (vlfeat) {
      nt = vl_orientation_bin(vl_atan2_approx(gy, gx));
      mod = vl_sqrt_approx(m2);
    } else {
      nt = exact_orientation_bin(gy, gx);
      mod = __fsqrt_rn(m2);
    }
    const int64_t b = bin_floor(nt);
    const float r = __fsub_rn(nt, static_cast<float>(b));
    const int64_t b0 = b % kOri, b1 = (b + 1) % kOri;
    const float v0 = __fmul_rn(__fsub_rn(1.0f, r), mod), v1 = __fmul_rn(r, mod);
    for (int t = 0; t < kOri; ++t) binned[t * plane + i] = t == b0 ? v0 : (t == b1 ? v1 : 0.0f);
  }
}

// dg [2, H, W]: d/d(gx, gy) of pixel i's two bins (exact math); 0 where |g| = 0 (a kink, the reference skips it).
__global__ void orient_backward_grad_kernel(int64_t H, int64_t W, const float* image, const float* d_binned,
                                            float* dg) {
  const int64_t plane = H * W;
  const float k = static_cast<float>(kOri / (2 * kPi));  // d nt / d angle
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < plane; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t y = i / W, x = i % W;
    const float gx = grad_x(image, x, y, W), gy = grad_y(image, x, y, H, W);
    const float m = __fsqrt_rn(__fadd_rn(__fmul_rn(gx, gx), __fmul_rn(gy, gy)));
    float d_gx = 0, d_gy = 0;
    if (m != 0.0f) {
      const float nt = exact_orientation_bin(gy, gx);
      const int64_t b = bin_floor(nt);
      const float r = __fsub_rn(nt, static_cast<float>(b)), one_r = __fsub_rn(1.0f, r);
      const float d0 = d_binned[(b % kOri) * plane + i], d1 = d_binned[((b + 1) % kOri) * plane + i];
      const float rgx = __fdiv_rn(__fmul_rn(r, gx), m), rgy = __fdiv_rn(__fmul_rn(r, gy), m);
      const float qgx = __fdiv_rn(__fmul_rn(one_r, gx), m), qgy = __fdiv_rn(__fmul_rn(one_r, gy), m);
      const float kgx = __fdiv_rn(__fmul_rn(k, gx), m), kgy = __fdiv_rn(__fmul_rn(k, gy), m);
      d_gx = __fadd_rn(__fmul_rn(d0, __fadd_rn(qgx, kgy)), __fmul_rn(d1, __fsub_rn(rgx, kgy)));
      d_gy = __fadd_rn(__fmul_rn(d0, __fsub_rn(qgy, kgx)), __fmul_rn(d1, __fadd_rn(rgy, kgx)));
    }
    dg[i] = d_gx;
    dg[plane + i] = d_gy;
  }
}

// d_image [H, W] (+=): the transpose of the differences, gathered in the reference's raster order of the source
// pixels (x, y-1), (x-1, y), (x, y), (x+1, y), (x, y+1); a source adds its x-term before its y-term.
__global__ void orient_backward_image_kernel(int64_t H, int64_t W, const float* dg, float* d_image) {
  const int64_t plane = H * W;
  const float* dgx = dg;          // [H, W]
  const float* dgy = dg + plane;  // [H, W]
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < plane; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t y = i / W, x = i % W;
    float acc = d_image[i];
    if (y >= 1) {  // source (x, y-1): row 0 is one-sided (+d), an interior row central (+d/2)
      const float d = dgy[i - W];
      acc = __fadd_rn(acc, y - 1 == 0 ? d : __fmul_rn(0.5f, d));
    }
    if (x >= 1) {  // source (x-1, y)
      const float d = dgx[i - 1];
      acc = __fadd_rn(acc, x - 1 == 0 ? d : __fmul_rn(0.5f, d));
    }
    if (x == 0) acc = __fsub_rn(acc, dgx[i]);  // the source itself, on a one-sided border
    if (x == W - 1) acc = __fadd_rn(acc, dgx[i]);
    if (y == 0) acc = __fsub_rn(acc, dgy[i]);
    if (y == H - 1) acc = __fadd_rn(acc, dgy[i]);
    if (x + 1 <= W - 1) {  // source (x+1, y)
      const float d = dgx[i + 1];
      acc = __fsub_rn(acc, x + 1 == W - 1 ? d : __fmul_rn(0.5f, d));
    }
    if (y + 1 <= H - 1) {  // source (x, y+1)
      const float d = dgy[i + W];
      acc = __fsub_rn(acc, y + 1 == H - 1 ? d : __fmul_rn(0.5f, d));
    }
    d_image[i] = acc;
  }
}

// ---- stage 2: spatial pooling ----

// col [8, 4, FY, W]: the y taps of bin row `by` around frame row fy, for every x.
__global__ void pool_y_kernel(DsiftGeometry g, DsiftTaps taps, const float* binned, float* col) {
  const int64_t H = g.height, W = g.width, FY = g.frames_y, bs = g.bin_size;
  const int64_t total = int64_t(kOri) * kBins * FY * W;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t x = e % W, fy = (e / W) % FY, by = (e / (W * FY)) % kBins, t = e / (W * FY * kBins);
    const float* plane = binned + t * H * W;  // [H, W]
    const float* ky = taps.k[by];
    const int64_t cy = fy * g.step + by * bs;
    float acc = 0;
    for (int64_t d = -bs + 1; d <= bs - 1; ++d)
      acc = __fadd_rn(acc, __fmul_rn(ky[d + bs - 1], plane[clamp_index(cy + d, H) * W + x]));
    col[e] = acc;
  }
}

// raw [128, FY, FX]: the x taps of bin column bx over col.
__global__ void pool_x_kernel(DsiftGeometry g, DsiftTaps taps, const float* col, float* raw) {
  const int64_t W = g.width, FY = g.frames_y, FX = g.frames_x, bs = g.bin_size;
  const int64_t total = int64_t(kDims) * FY * FX;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t fx = e % FX, fy = (e / FX) % FY, dim = e / (FX * FY);
    const int64_t t = dim % kOri, bx = (dim / kOri) % kBins, by = dim / (kOri * kBins);
    const float* c = col + ((t * kBins + by) * FY + fy) * W;  // [W]
    const float* kx = taps.k[bx];
    const int64_t cx = fx * g.step + bx * bs;
    float acc = 0;
    for (int64_t d = -bs + 1; d <= bs - 1; ++d) acc = __fadd_rn(acc, __fmul_rn(kx[d + bs - 1], c[clamp_index(cx + d, W)]));
    raw[e] = acc;
  }
}

// The transpose of one separable pooling pass at pixel p of an axis of n pixels: the sum over (bin b, frame f,
// tap d) of k_b(d) src(b, f) over the triples whose sample clamp(c + d, n) is p, c = f step + b bs, in the
// reference's scatter order (b, f, d ascending). src(b, f) = src[b * b_stride + f * f_stride].
__device__ __forceinline__ float pool_transpose(const DsiftGeometry& g, const DsiftTaps& taps, int64_t p, int64_t n,
                                                int64_t frames, const float* src, int64_t b_stride,
                                                int64_t f_stride) {
  const int64_t bs = g.bin_size;
  float acc = 0;
  for (int b = 0; b < kBins; ++b) {
    const int64_t base = b * bs;
    // frames whose window [c - bs + 1, c + bs - 1] covers p (every frame centre lies in [0, n - 1], so this range
    // also holds the frames whose clamped taps land on the border pixels 0 and n - 1)
    int64_t f_lo = -floor_div(-(p - bs + 1 - base), g.step), f_hi = floor_div(p + bs - 1 - base, g.step);
    f_lo = f_lo < 0 ? 0 : f_lo;
    f_hi = f_hi > frames - 1 ? frames - 1 : f_hi;
    for (int64_t f = f_lo; f <= f_hi; ++f) {
      const int64_t c = f * g.step + base;
      const int64_t d_lo = p == 0 ? -bs + 1 : (p - c > -bs + 1 ? p - c : -bs + 1);
      const int64_t d_hi = p == n - 1 ? bs - 1 : (p - c < bs - 1 ? p - c : bs - 1);
      const float v = src[b * b_stride + f * f_stride];
      for (int64_t d = d_lo; d <= d_hi; ++d)
        if (clamp_index(c + d, n) == p) acc = __fadd_rn(acc, __fmul_rn(taps.k[b][d + bs - 1], v));
    }
  }
  return acc;
}

// d_col [8, 4, FY, W] from d_raw [128, FY, FX]: transpose of pool_x (sum over bx, fx, d).
__global__ void pool_x_backward_kernel(DsiftGeometry g, DsiftTaps taps, const float* d_raw, float* d_col) {
  const int64_t W = g.width, FY = g.frames_y, FX = g.frames_x;
  const int64_t total = int64_t(kOri) * kBins * FY * W;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t x = e % W, fy = (e / W) % FY, by = (e / (W * FY)) % kBins, t = e / (W * FY * kBins);
    // d_raw of dimension t + 8 (bx + 4 by) at frame row fy: bx strides 8 dimensions, fx strides 1
    const float* src = d_raw + (t + kOri * kBins * by) * FY * FX + fy * FX;
    d_col[e] = pool_transpose(g, taps, x, W, FX, src, int64_t(kOri) * FY * FX, 1);
  }
}

// d_binned [8, H, W] (overwritten) from d_col: transpose of pool_y (sum over by, fy, d).
__global__ void pool_y_backward_kernel(DsiftGeometry g, DsiftTaps taps, const float* d_col, float* d_binned) {
  const int64_t H = g.height, W = g.width, FY = g.frames_y;
  const int64_t total = int64_t(kOri) * H * W;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t x = e % W, y = (e / W) % H, t = e / (W * H);
    // d_col[t][by][fy][x]: by strides FY W, fy strides W
    d_binned[e] = pool_transpose(g, taps, y, H, FY, d_col + t * kBins * FY * W + x, FY * W, W);
  }
}

// ---- stage 3: normalisation ----

__device__ __forceinline__ float norm_of(float sum_sq, bool vlfeat) {
  return __fadd_rn(vlfeat ? vl_sqrt_approx(sum_sq) : __fsqrt_rn(sum_sq), FLT_EPSILON);
}

// out [128, F] from raw [128, F]: one thread per frame.
__global__ void normalise_forward_kernel(int64_t frames, bool vlfeat, const float* raw, float* out) {
  for (int64_t f = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; f < frames; f += int64_t(gridDim.x) * blockDim.x) {
    float sum = 0;
    for (int d = 0; d < kDims; ++d) sum = __fadd_rn(sum, __fmul_rn(raw[d * frames + f], raw[d * frames + f]));
    const float n1 = norm_of(sum, vlfeat);
    sum = 0;
    for (int d = 0; d < kDims; ++d) {
      float u = __fdiv_rn(raw[d * frames + f], n1);
      if (u > 0.2f) u = 0.2f;
      out[d * frames + f] = u;
      sum = __fadd_rn(sum, __fmul_rn(u, u));
    }
    const float n2 = norm_of(sum, vlfeat);
    for (int d = 0; d < kDims; ++d) out[d * frames + f] = __fdiv_rn(out[d * frames + f], n2);
  }
}

// d_raw [128, F] (overwritten) from raw, d_out: one thread per frame. The reference keeps u and d_u in [128]
// arrays; here they are recomputed in each pass (the same expressions, so the same values) to stay in registers.
__global__ void normalise_backward_kernel(int64_t frames, const float* raw, const float* d_out, float* d_raw) {
  const float clamp = 0.2f;
  for (int64_t f = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; f < frames; f += int64_t(gridDim.x) * blockDim.x) {
    float sum = 0;
    for (int d = 0; d < kDims; ++d) sum = __fadd_rn(sum, __fmul_rn(raw[d * frames + f], raw[d * frames + f]));
    const float s1 = __fsqrt_rn(sum), n1 = __fadd_rn(s1, FLT_EPSILON);
    sum = 0;
    for (int d = 0; d < kDims; ++d) {
      const float u = __fdiv_rn(raw[d * frames + f], n1), c = u > clamp ? clamp : u;
      sum = __fadd_rn(sum, __fmul_rn(c, c));
    }
    const float s2 = __fsqrt_rn(sum), n2 = __fadd_rn(s2, FLT_EPSILON);
    float dot = 0;
    for (int d = 0; d < kDims; ++d) {
      const float u = __fdiv_rn(raw[d * frames + f], n1);
      dot = __fadd_rn(dot, __fmul_rn(d_out[d * frames + f], u > clamp ? clamp : u));
    }
    const float denom2 = __fmul_rn(__fmul_rn(n2, n2), s2);
    auto d_u_of = [&](int d) {
      const float u = __fdiv_rn(raw[d * frames + f], n1), c = u > clamp ? clamp : u;
      float d_c = __fdiv_rn(d_out[d * frames + f], n2);
      if (s2 > 0.0f) d_c = __fsub_rn(d_c, __fdiv_rn(__fmul_rn(c, dot), denom2));
      return u > clamp ? 0.0f : d_c;
    };
    float dot1 = 0;
    for (int d = 0; d < kDims; ++d) dot1 = __fadd_rn(dot1, __fmul_rn(d_u_of(d), raw[d * frames + f]));
    const float denom1 = __fmul_rn(__fmul_rn(n1, n1), s1);
    for (int d = 0; d < kDims; ++d) {
      float d_v = __fdiv_rn(d_u_of(d), n1);
      if (s1 > 0.0f) d_v = __fsub_rn(d_v, __fdiv_rn(__fmul_rn(raw[d * frames + f], dot1), denom1));
      d_raw[d * frames + f] = __fadd_rn(0.0f, d_v);  // the reference adds into a zeroed buffer
    }
  }
}

DsiftTaps make_taps(const DsiftGeometry& g) {
  PI_CHECK(g.bin_size <= kDsiftMaxBinSize, "dsift: the CUDA kernels take bin sizes up to ", kDsiftMaxBinSize,
           ", got ", g.bin_size, "; use a smaller bin size or --device cpu");
  DsiftTaps taps{};
  for (int b = 0; b < kBins; ++b) ref::dsift_bin_kernel(g.bin_size, b, g.flat_window, taps.k[b]);
  return taps;
}

// Device scratch freed (stream-ordered) when it goes out of scope.
class Scratch {
 public:
  Scratch(size_t floats, cudaStream_t stream) : stream_(stream) {
    PI_CUDA_CHECK(cudaMallocAsync(&p_, floats * sizeof(float), stream));
  }
  ~Scratch() { cudaFreeAsync(p_, stream_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* get() const { return static_cast<float*>(p_); }

 private:
  void* p_ = nullptr;
  cudaStream_t stream_;
};

// Scratch layout of one sample: binned [8, H, W], col [8, 4, FY, W], raw [128, F].
struct ForwardBuffers {
  float *binned, *col, *raw;
};

void forward_stages(const DsiftGeometry& g, const DsiftTaps& taps, bool vlfeat, const float* image,
                    const ForwardBuffers& b, float* out, cudaStream_t stream) {
  const int64_t hw = g.height * g.width, frames = g.frames_y * g.frames_x;
  const int64_t cols = int64_t(kOri) * kBins * g.frames_y * g.width, dims = int64_t(kDims) * frames;
  PI_LAUNCH(orient_forward_kernel, grid_stride_blocks(hw, kThreads), kThreads, 0, stream)(g.height, g.width, vlfeat,
                                                                                          image, b.binned);
  PI_CUDA_CHECK_LAUNCH("orient_forward_kernel");
  PI_LAUNCH(pool_y_kernel, grid_stride_blocks(cols, kThreads), kThreads, 0, stream)(g, taps, b.binned, b.col);
  PI_CUDA_CHECK_LAUNCH("pool_y_kernel");
  PI_LAUNCH(pool_x_kernel, grid_stride_blocks(dims, kThreads), kThreads, 0, stream)(g, taps, b.col, b.raw);
  PI_CUDA_CHECK_LAUNCH("pool_x_kernel");
  if (out) {
    PI_LAUNCH(normalise_forward_kernel, grid_stride_blocks(frames, kThreads), kThreads, 0, stream)(frames, vlfeat,
                                                                                                   b.raw, out);
    PI_CUDA_CHECK_LAUNCH("normalise_forward_kernel");
  }
}

}  // namespace

void dsift_forward(int64_t n, const DsiftGeometry& g, DsiftMath math, const float* image, float* out,
                   cudaStream_t stream) {
  if (n <= 0) return;
  const DsiftTaps taps = make_taps(g);
  const int64_t hw = g.height * g.width, frames = g.frames_y * g.frames_x;
  const int64_t cols = int64_t(kOri) * kBins * g.frames_y * g.width, dims = int64_t(kDims) * frames;
  Scratch scratch(static_cast<size_t>(kOri * hw + cols + dims), stream);
  const ForwardBuffers b{scratch.get(), scratch.get() + kOri * hw, scratch.get() + kOri * hw + cols};
  for (int64_t s = 0; s < n; ++s)
    forward_stages(g, taps, math == DsiftMath::vlfeat, image + s * hw, b, out + s * dims, stream);
}

void dsift_backward(int64_t n, const DsiftGeometry& g, const float* image, const float* d_out, float* d_image,
                    cudaStream_t stream) {
  if (n <= 0 || !d_image) return;
  const DsiftTaps taps = make_taps(g);
  const int64_t hw = g.height * g.width, frames = g.frames_y * g.frames_x;
  const int64_t cols = int64_t(kOri) * kBins * g.frames_y * g.width, dims = int64_t(kDims) * frames;
  // forward intermediates, then d_raw [128, F], d_col [8, 4, FY, W], d_binned [8, H, W], dg [2, H, W]
  Scratch scratch(static_cast<size_t>(2 * (kOri * hw + cols + dims) + 2 * hw), stream);
  float* p = scratch.get();
  const ForwardBuffers b{p, p + kOri * hw, p + kOri * hw + cols};
  float* d_raw = b.raw + dims;
  float* d_col = d_raw + dims;
  float* d_binned = d_col + cols;
  float* dg = d_binned + kOri * hw;
  for (int64_t s = 0; s < n; ++s) {
    // recompute the exact-math intermediates rather than keep them alive on the tape (as the CPU launcher)
    forward_stages(g, taps, false, image + s * hw, b, nullptr, stream);
    PI_LAUNCH(normalise_backward_kernel, grid_stride_blocks(frames, kThreads), kThreads, 0, stream)(
        frames, b.raw, d_out + s * dims, d_raw);
    PI_CUDA_CHECK_LAUNCH("normalise_backward_kernel");
    PI_LAUNCH(pool_x_backward_kernel, grid_stride_blocks(cols, kThreads), kThreads, 0, stream)(g, taps, d_raw, d_col);
    PI_CUDA_CHECK_LAUNCH("pool_x_backward_kernel");
    PI_LAUNCH(pool_y_backward_kernel, grid_stride_blocks(kOri * hw, kThreads), kThreads, 0, stream)(g, taps, d_col,
                                                                                                    d_binned);
    PI_CUDA_CHECK_LAUNCH("pool_y_backward_kernel");
    PI_LAUNCH(orient_backward_grad_kernel, grid_stride_blocks(hw, kThreads), kThreads, 0, stream)(
        g.height, g.width, image + s * hw, d_binned, dg);
    PI_CUDA_CHECK_LAUNCH("orient_backward_grad_kernel");
    PI_LAUNCH(orient_backward_image_kernel, grid_stride_blocks(hw, kThreads), kThreads, 0, stream)(
        g.height, g.width, dg, d_image + s * hw);
    PI_CUDA_CHECK_LAUNCH("orient_backward_image_kernel");
  }
}

}  // namespace preimage::kernels::cuda
