// Implicit-GEMM convolution for kernels/cuda/conv2d.h. Each pass is one tiled SGEMM (kernels/cuda/gemm_mainloop.cuh)
// whose operands are read straight from the NCHW tensors through an im2col index map, so no im2col buffer is
// built; groups (and residue classes, split-K slices) are grid.z slices. With P = N*Ho*Wo, R = C/groups*kh*kw:
//   fprop  y[K, P]  = w[K, R] . im2col(x)[R, P]                        (per group)
//   dgrad  d_x[C, N*H*W] = w^T . d_y, split by stride residue class (below)
//   wgrad  d_w[K, R] += d_y[K, P] . im2col(x)^T[P, R]                  (per group, split-K over P)
// dgrad's stride decomposition: an input pixel h receives from output row (h + pad - u) / stride only for taps u
// with u = (h + pad) mod stride (mod stride), so the input pixels of one residue class (rh, rw) form a dense
// sub-grid whose GEMM uses only the taps u = rh + t*stride: no multiply by inserted zeros (the same idea as
// cuDNN's strided dgrad). Design notes: docs/cuda_kernels.md.
#include "kernels/cuda/conv2d.h"

#include "engine/error.h"
#include "engine/tensor.h"
#include "kernels/cuda/gemm_mainloop.cuh"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.cuh"

namespace preimage::kernels::cuda {

namespace {

constexpr int64_t kIntMax = 2147483647;

// Geometry copied into the kernels as plain ints (all extents are checked to fit).
struct ConvDims {
  int n, c, h, w, k, kh, kw, ho, wo;
  int sh, sw, pt, pl, groups, cg, kg;
};

ConvDims conv_dims(const char* op, const Conv2dGeometry& g) {
  // The GEMM extents (N*Ho*Wo, N*H*W, C/groups*kh*kw) are ints in the tile loop; offsets are 64-bit.
  PI_CHECK(g.n * g.ho * g.wo <= kIntMax && g.n * g.h * g.w <= kIntMax && g.c * g.kh * g.kw <= kIntMax &&
               g.k * g.kh * g.kw <= kIntMax,
           op, ": tensor extents (batch ", g.n, ", ", g.c, "x", g.h, "x", g.w, " -> ", g.k, "x", g.ho, "x", g.wo,
           ") exceed 2^31 - 1 elements per GEMM dimension; split the batch");
  const Conv2dParams& p = g.p;
  return ConvDims{int(g.n), int(g.c), int(g.h), int(g.w), int(g.k), int(g.kh), int(g.kw), int(g.ho), int(g.wo),
                  p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.groups, int(g.c / p.groups),
                  int(g.k / p.groups)};
}

// ---- forward: GEMM rows = output channels of the group, columns = (n, oh, ow), k = (c, u, v) ----
struct FpropArgs {
  ConvDims d;
  const float* x;     // [N, C, H, W]
  const float* w;     // [K, Cg, kh, kw]
  const float* bias;  // [K] or null
  float* y;           // [N, K, Ho, Wo]
  bool accumulate;
};

struct FpropProblem {
  FpropArgs q;

  struct Bound {
    FpropArgs q;
    int m, n, k_begin, k_end;
    int group;
    static constexpr bool a_along_k = true;   // a filter's weights are contiguous in (c, u, v)
    static constexpr bool b_along_k = false;  // neighbouring output pixels read neighbouring input pixels
    using ARow = int64_t;                     // offset of w[k, 0, 0, 0]
    struct BCol {
      int64_t base;  // offset of x[n, first channel of the group, 0, 0]
      int ih0, iw0;  // top-left input pixel of the receptive field (may be in the padding)
    };
    using CCol = int64_t;  // offset of y[n, 0, oh, ow]
    __device__ ARow a_row(int row) const { return int64_t(group * q.d.kg + row) * k_end; }
    __device__ float a(ARow base, int kk) const { return q.w[base + kk]; }
    __device__ BCol b_col(int col) const {
      const int hw = q.d.ho * q.d.wo, img = col / hw, pix = col % hw;
      return BCol{(int64_t(img) * q.d.c + int64_t(group) * q.d.cg) * q.d.h * q.d.w,
                  (pix / q.d.wo) * q.d.sh - q.d.pt, (pix % q.d.wo) * q.d.sw - q.d.pl};
    }
    __device__ float b(const BCol& col, int kk) const {
      const int taps = q.d.kh * q.d.kw, c = kk / taps, t = kk % taps;
      const int ih = col.ih0 + t / q.d.kw, iw = col.iw0 + t % q.d.kw;
      if (ih < 0 || ih >= q.d.h || iw < 0 || iw >= q.d.w) return 0.0f;  // zero padding
      return q.x[col.base + (int64_t(c) * q.d.h + ih) * q.d.w + iw];
    }
    __device__ CCol c_col(int col) const {
      const int hw = q.d.ho * q.d.wo;
      return int64_t(col / hw) * q.d.k * hw + col % hw;
    }
    __device__ void store(int row, CCol col, float acc) const {
      const int channel = group * q.d.kg + row;
      float* out = q.y + col + int64_t(channel) * q.d.ho * q.d.wo;
      if (q.bias) acc += q.bias[channel];
      if (q.accumulate) acc += *out;
      *out = acc;
    }
  };
  __device__ Bound bind(int z) const {
    return Bound{q, q.d.kg, q.d.n * q.d.ho * q.d.wo, 0, q.d.cg * q.d.kh * q.d.kw, z};
  }
};

// ---- backward data: GEMM rows = input channels of the group, columns = (n, th, tw) of one residue class,
// k = (output channel of the group, tu, tv) ----
struct DgradArgs {
  ConvDims d;
  const float* w;     // [K, Cg, kh, kw]
  const float* d_y;   // [N, K, Ho, Wo]
  const float* bias;  // [C] or null
  float* d_x;         // [N, C, H, W]
  bool accumulate;
};

struct DgradProblem {
  DgradArgs q;

  // One residue class (rh, rw) of input pixels: h = h0 + th*sh for th < count_h, fed by taps u = rh + tu*sh for
  // tu < taps_h, from output rows oh = oh0 + th - tu.
  struct Residue {
    int r, h0, count, taps, o0;
  };
  __device__ static Residue residue(int r, int stride, int pad, int in, int kernel) {
    Residue s{};
    s.r = r;
    s.h0 = ((r - pad) % stride + stride) % stride;
    s.count = s.h0 < in ? (in - s.h0 + stride - 1) / stride : 0;
    s.taps = r < kernel ? (kernel - r + stride - 1) / stride : 0;
    s.o0 = (s.h0 + pad - r) / stride;  // exact: h0 + pad = r (mod stride), and >= r
    return s;
  }

  struct Bound {
    DgradArgs q;
    int m, n, k_begin, k_end;
    int group;
    Residue rh, rw;
    static constexpr bool a_along_k = false;  // along c the weights are evenly strided (kh*kw)
    static constexpr bool b_along_k = false;  // neighbouring columns read neighbouring d_y pixels
    using ARow = int64_t;                     // offset of w[first filter of the group, c, 0, 0]
    struct BCol {
      int64_t base;  // offset of d_y[n, first filter of the group, 0, 0]
      int oh0, ow0;  // output pixel feeding this input pixel through tap (rh.r, rw.r)
    };
    using CCol = int64_t;  // offset of d_x[n, first channel of the group, h, w]
    __device__ ARow a_row(int row) const {
      return (int64_t(group) * q.d.kg * q.d.cg + row) * q.d.kh * q.d.kw + int64_t(rh.r) * q.d.kw + rw.r;
    }
    __device__ float a(ARow base, int kk) const {
      const int taps = rh.taps * rw.taps, f = kk / taps, t = kk % taps;
      const int tu = t / rw.taps, tv = t % rw.taps;
      return q.w[base + int64_t(f) * q.d.cg * q.d.kh * q.d.kw + (tu * q.d.sh) * q.d.kw + tv * q.d.sw];
    }
    __device__ BCol b_col(int col) const {
      const int hw = rh.count * rw.count, img = col / hw, pix = col % hw;
      return BCol{(int64_t(img) * q.d.k + int64_t(group) * q.d.kg) * q.d.ho * q.d.wo, rh.o0 + pix / rw.count,
                  rw.o0 + pix % rw.count};
    }
    __device__ float b(const BCol& col, int kk) const {
      const int taps = rh.taps * rw.taps, f = kk / taps, t = kk % taps;
      const int oh = col.oh0 - t / rw.taps, ow = col.ow0 - t % rw.taps;
      if (oh < 0 || oh >= q.d.ho || ow < 0 || ow >= q.d.wo) return 0.0f;  // tap lands outside the output
      return q.d_y[col.base + (int64_t(f) * q.d.ho + oh) * q.d.wo + ow];
    }
    __device__ CCol c_col(int col) const {
      const int hw = rh.count * rw.count, img = col / hw, pix = col % hw;
      const int h = rh.h0 + (pix / rw.count) * q.d.sh, w = rw.h0 + (pix % rw.count) * q.d.sw;
      return (int64_t(img) * q.d.c + int64_t(group) * q.d.cg) * q.d.h * q.d.w + int64_t(h) * q.d.w + w;
    }
    __device__ void store(int row, CCol col, float acc) const {
      const int channel = group * q.d.cg + row;
      float* out = q.d_x + col + int64_t(row) * q.d.h * q.d.w;
      if (q.bias) acc += q.bias[channel];
      if (q.accumulate) acc += *out;
      *out = acc;
    }
  };
  // z = group * (sh * sw) + residue class
  __device__ Bound bind(int z) const {
    const ConvDims& d = q.d;
    const int classes = d.sh * d.sw, group = z / classes, r = z % classes;
    const Residue rh = residue(r / d.sw, d.sh, d.pt, d.h, d.kh), rw = residue(r % d.sw, d.sw, d.pl, d.w, d.kw);
    return Bound{q, d.cg, d.n * rh.count * rw.count, 0, d.kg * rh.taps * rw.taps, group, rh, rw};
  }
};

// ---- backward filter: GEMM rows = filters of the group, columns = (c, u, v), k = (n, oh, ow) ----
struct WgradArgs {
  ConvDims d;
  const float* x;    // [N, C, H, W]
  const float* d_y;  // [N, K, Ho, Wo]
  float* out;        // d_w [K, Cg, kh, kw] (one split: accumulate) or workspace [splits, K * Cg*kh*kw]
  int splits, chunk;  // split-K: slice s covers k in [s*chunk, (s+1)*chunk)
};

struct WgradProblem {
  WgradArgs q;

  struct Bound {
    WgradArgs q;
    int m, n, k_begin, k_end;
    int group, split;
    static constexpr bool a_along_k = true;  // d_y is contiguous over (oh, ow)
    static constexpr bool b_along_k = true;  // so is x, for stride 1
    using ARow = int64_t;                    // offset of d_y[0, k, 0, 0]
    struct BCol {
      int64_t base;  // offset of x[0, c, 0, 0]
      int u, v;
    };
    using CCol = int;
    __device__ ARow a_row(int row) const { return int64_t(group * q.d.kg + row) * q.d.ho * q.d.wo; }
    __device__ float a(ARow base, int kk) const {
      const int hw = q.d.ho * q.d.wo;
      return q.d_y[base + int64_t(kk / hw) * q.d.k * hw + kk % hw];
    }
    __device__ BCol b_col(int col) const {
      const int taps = q.d.kh * q.d.kw, c = col / taps, t = col % taps;
      return BCol{(int64_t(group) * q.d.cg + c) * q.d.h * q.d.w, t / q.d.kw, t % q.d.kw};
    }
    __device__ float b(const BCol& col, int kk) const {
      const int hw = q.d.ho * q.d.wo, img = kk / hw, pix = kk % hw;
      const int ih = (pix / q.d.wo) * q.d.sh - q.d.pt + col.u, iw = (pix % q.d.wo) * q.d.sw - q.d.pl + col.v;
      if (ih < 0 || ih >= q.d.h || iw < 0 || iw >= q.d.w) return 0.0f;
      return q.x[col.base + int64_t(img) * q.d.c * q.d.h * q.d.w + int64_t(ih) * q.d.w + iw];
    }
    __device__ CCol c_col(int col) const { return col; }
    __device__ void store(int row, CCol col, float acc) const {
      const int64_t i = int64_t(group * q.d.kg + row) * n + col;  // index into d_w [K, Cg*kh*kw]
      if (q.splits == 1)
        q.out[i] += acc;
      else
        q.out[int64_t(split) * q.d.k * n + i] = acc;
    }
  };
  // z = group * splits + split
  __device__ Bound bind(int z) const {
    const ConvDims& d = q.d;
    const int group = z / q.splits, split = z % q.splits;
    const int total = d.n * d.ho * d.wo;
    const int begin = split * q.chunk, end = total - begin < q.chunk ? total : begin + q.chunk;
    return Bound{q, d.kg, d.cg * d.kh * d.kw, begin, end, group, split};
  }
};

template <class Problem>
void launch_problem(const Problem& problem, bool tile128, int64_t max_m, int64_t max_n, int64_t slices,
                    cudaStream_t stream, const char* name) {
  PI_CHECK(slices <= 65535, name, ": ", slices, " groups x slices exceed the grid's z limit of 65535");
  if (tile128) {
    using Tile = GemmTile<128, 128>;
    PI_LAUNCH((tiled_gemm_kernel<Tile, Problem>), gemm_grid<Tile>(max_m, max_n, slices), Tile::threads, 0,
              stream)(problem);
  } else {
    using Tile = GemmTile<64, 64>;
    PI_LAUNCH((tiled_gemm_kernel<Tile, Problem>), gemm_grid<Tile>(max_m, max_n, slices), Tile::threads, 0,
              stream)(problem);
  }
  PI_CUDA_CHECK_LAUNCH(name);
}

// d_w[i] += sum_s partial[s][i], in split order (deterministic).
__global__ void split_sum_kernel(const float* partial, int64_t splits, int64_t count, float* d_w) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    float acc = d_w[i];
    for (int64_t s = 0; s < splits; ++s) acc += partial[s * count + i];
    d_w[i] = acc;
  }
}

constexpr unsigned kSumThreads = 256;

// One block per channel: a block-wide tree sum over (n, p), then one add into d_b (no atomics).
__global__ void channel_sum_kernel(int64_t n, int64_t k, int64_t p, const float* d_y, float* d_b) {
  __shared__ float warp_sums[32];
  const int64_t channel = blockIdx.x;
  float acc = 0.0f;
  for (int64_t i = threadIdx.x; i < n * p; i += blockDim.x) acc += d_y[((i / p) * k + channel) * p + i % p];
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) d_b[channel] += acc;
}

}  // namespace

void conv2d_fprop(const Conv2dGeometry& g, const float* x, const float* w, const float* bias, float* y,
                  bool accumulate, cudaStream_t stream, const ConvTuning& tuning) {
  const ConvDims d = conv_dims("conv2d forward (cuda)", g);
  const FpropProblem problem{{d, x, w, bias, y, accumulate}};
  const int64_t m = d.kg, n = int64_t(d.n) * d.ho * d.wo;
  launch_problem(problem, use_tile128(tuning.tile, m, n, d.groups), m, n, d.groups, stream,
                 "tiled_gemm_kernel (conv2d fprop)");
}

void conv2d_dgrad(const Conv2dGeometry& g, const float* w, const float* d_y, const float* bias, float* d_x,
                  bool accumulate, cudaStream_t stream, const ConvTuning& tuning) {
  const ConvDims d = conv_dims("conv2d backward data (cuda)", g);
  const DgradProblem problem{{d, w, d_y, bias, d_x, accumulate}};
  // The largest residue class is the first one: ceil(H / sh) x ceil(W / sw) pixels.
  const int64_t m = d.cg, n = int64_t(d.n) * ((d.h + d.sh - 1) / d.sh) * ((d.w + d.sw - 1) / d.sw);
  const int64_t slices = int64_t(d.groups) * d.sh * d.sw;
  launch_problem(problem, use_tile128(tuning.tile, m, n, slices), m, n, slices, stream,
                 "tiled_gemm_kernel (conv2d dgrad)");
}

void conv2d_wgrad(const Conv2dGeometry& g, const float* x, const float* d_y, float* d_w, cudaStream_t stream,
                  const ConvTuning& tuning) {
  const ConvDims d = conv_dims("conv2d backward filter (cuda)", g);
  const int64_t m = d.kg, n = int64_t(d.cg) * d.kh * d.kw, total = int64_t(d.n) * d.ho * d.wo;
  const bool tile128 = use_tile128(tuning.tile, m, n, d.groups);
  int64_t splits = tuning.split_k;
  if (splits <= 0) {
    // Few filters x taps but a long reduction (batch x pixels): slice the reduction until the GPU has about two
    // blocks per SM (264 on an H100), keeping at least 32 k-steps per slice.
    const int64_t tile = tile128 ? 128 : 64;
    const int64_t blocks = ((m + tile - 1) / tile) * ((n + tile - 1) / tile) * d.groups;
    splits = (264 + blocks - 1) / blocks;
    const int64_t most = total / (32 * kGemmTileK);
    if (splits > most) splits = most;
    if (splits < 1) splits = 1;
  }
  // Slices of whole k-steps; recount so that none is empty.
  int64_t chunk = (total + splits - 1) / splits;
  chunk = (chunk + kGemmTileK - 1) / kGemmTileK * kGemmTileK;
  splits = (total + chunk - 1) / chunk;
  if (splits <= 1) {
    const WgradProblem problem{{d, x, d_y, d_w, 1, int(total)}};
    launch_problem(problem, tile128, m, n, d.groups, stream, "tiled_gemm_kernel (conv2d wgrad)");
    return;
  }
  const int64_t count = int64_t(d.k) * n;
  Tensor partial = Tensor::empty(Shape{splits, count}, Device::cuda);  // [splits, K * Cg*kh*kw]
  const WgradProblem problem{{d, x, d_y, partial.data(), int(splits), int(chunk)}};
  launch_problem(problem, tile128, m, n, d.groups * splits, stream, "tiled_gemm_kernel (conv2d wgrad split-K)");
  PI_LAUNCH(split_sum_kernel, grid_stride_blocks(count, 256), 256, 0, stream)(partial.data(), splits, count, d_w);
  PI_CUDA_CHECK_LAUNCH("split_sum_kernel");
  // `partial` is freed here; cudaFree waits for the device, so the kernels above have finished reading it.
}

void channel_sum_accumulate(int64_t n, int64_t k, int64_t p, const float* d_y, float* d_b, cudaStream_t stream) {
  if (n <= 0 || k <= 0 || p <= 0 || !d_b) return;
  PI_CHECK(k <= kIntMax, "channel sum (cuda): ", k, " channels exceed the grid's x limit");
  PI_LAUNCH(channel_sum_kernel, dim3(static_cast<unsigned>(k)), kSumThreads, 0, stream)(n, k, p, d_y, d_b);
  PI_CUDA_CHECK_LAUNCH("channel_sum_kernel");
}

void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y,
                    cudaStream_t stream, const ConvTuning& tuning) {
  conv2d_fprop(g, x, w, b, y, false, stream, tuning);
}

void conv2d_backward(const Conv2dGeometry& g, const float* x, const float* w, const float* d_y, float* d_x,
                     float* d_w, float* d_b, cudaStream_t stream, const ConvTuning& tuning) {
  if (d_x) conv2d_dgrad(g, w, d_y, nullptr, d_x, true, stream, tuning);
  if (d_w) conv2d_wgrad(g, x, d_y, d_w, stream, tuning);
  if (d_b) channel_sum_accumulate(g.n, g.k, g.ho * g.wo, d_y, d_b, stream);
}

}  // namespace preimage::kernels::cuda
