// CUDA kernel for kernels/lbp.h. One thread per cell: it visits the pixels of its bilinear support (the pixels
// whose lower cell is this one or the one before, along each axis) in the reference's raster order, computes each
// one's uniform pattern (8 comparisons, cheaper than a pattern map in memory) and adds the bilinear weight to a
// 58-bin histogram in registers/local memory, then normalises it (kernels/cpu/lbp.cpp): the same float sums in the
// same order, so the result is the reference's bit for bit. Products and sums use the round-to-nearest intrinsics
// so nvcc cannot contract them into FMAs.
#include "kernels/cuda/lbp.h"

#include <cmath>

#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 128;

// The reference's uniform-pattern table as a function: a circular run of j ones from bit i -> 7 i + j - 1,
// 0x00 / 0xFF -> 56, other patterns -> 57.
__device__ __forceinline__ int uniform_bin(unsigned pattern) {
  if (pattern == 0x00u || pattern == 0xffu) return 56;
  for (int i = 0; i < 8; ++i) {
    const unsigned start = ((pattern >> i) | (pattern << (8 - i))) & 0xffu;  // rotate bit i to bit 0
    // a run of j ones starting at bit 0 is start = 2^j - 1 (j <= 7 here, so bit i - 1 of the pattern is 0 and
    // the run starts at bit i: the same unique i as the reference's search)
    if ((start & 1u) && (start & (start + 1u)) == 0u) return 7 * i + __popc(start) - 1;
  }
  return 57;
}

// Lower cell and upper-cell weight of pixel p (the reference's cell_split, float arithmetic).
__device__ __forceinline__ void cell_split(int64_t p, int cell, int64_t& c1, float& w2) {
  const float w = __fsub_rn(__fdiv_rn(__fadd_rn(static_cast<float>(p), 0.5f), static_cast<float>(cell)), 0.5f);
  const float c = floorf(w);
  c1 = static_cast<int64_t>(c);
  w2 = __fsub_rn(w, c);
}

// Weight of pixel p for cell `target` along one axis, or -1 when p does not reach it.
__device__ __forceinline__ float axis_weight(int64_t p, int cell, int64_t target) {
  int64_t c1;
  float w2;
  cell_split(p, cell, c1, w2);
  if (c1 == target) return __fsub_rn(1.0f, w2);
  if (c1 + 1 == target) return w2;
  return -1.0f;
}

// out [n, 58, CH, CW]: one thread per cell.
__global__ void lbp_forward_kernel(int64_t n, int64_t h, int64_t w, int cell, const float* image, float* out) {
  const int64_t ch = h / cell, cw = w / cell, cells = ch * cw, total = n * cells;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / cells, i = e % cells, cy = i / cw, cx = i % cw;
    const float* im = image + s * h * w;  // [h, w]
    float hist[kLbpBins];
    for (int k = 0; k < kLbpBins; ++k) hist[k] = 0.0f;
    // support: lower cell cy - 1 or cy, i.e. pixel centres within one cell of this one's (plus a pixel of margin;
    // axis_weight decides), interior pixels only
    const int64_t y_lo = (cy - 1) * cell - 1, y_hi = (cy + 2) * cell + 1;
    const int64_t x_lo = (cx - 1) * cell - 1, x_hi = (cx + 2) * cell + 1;
    for (int64_t y = y_lo < 1 ? 1 : y_lo; y <= y_hi && y < h - 1; ++y) {
      const float wy = axis_weight(y, cell, cy);
      if (wy < 0.0f) continue;
      for (int64_t x = x_lo < 1 ? 1 : x_lo; x <= x_hi && x < w - 1; ++x) {
        const float wx = axis_weight(x, cell, cx);
        if (wx < 0.0f) continue;
        const float* p = im + y * w + x;
        const float c = p[0];
        const unsigned pattern = (p[1] > c ? 1u : 0u) | (p[w + 1] > c ? 2u : 0u) | (p[w] > c ? 4u : 0u) |
                                 (p[w - 1] > c ? 8u : 0u) | (p[-1] > c ? 16u : 0u) | (p[-w - 1] > c ? 32u : 0u) |
                                 (p[-w] > c ? 64u : 0u) | (p[-w + 1] > c ? 128u : 0u);
        const int bin = uniform_bin(pattern);
        hist[bin] = __fadd_rn(hist[bin], __fmul_rn(wx, wy));
      }
    }
    float sum = 0;
    for (int k = 0; k < kLbpBins; ++k) sum = __fadd_rn(sum, hist[k]);
    const float norm = __fadd_rn(__fsqrt_rn(sum), 1e-10f);
    float* o = out + s * kLbpBins * cells + i;  // [58] strided by cells
    for (int k = 0; k < kLbpBins; ++k) o[k * cells] = __fdiv_rn(__fsqrt_rn(hist[k]), norm);
  }
}
}  // namespace

void lbp_forward(int64_t n, int64_t h, int64_t w, int cell, const float* image, float* out, cudaStream_t stream) {
  const int64_t total = n * (h / cell) * (w / cell);
  if (total <= 0) return;
  PI_LAUNCH(lbp_forward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(n, h, w, cell, image, out);
  PI_CUDA_CHECK_LAUNCH("lbp_forward_kernel");
}

}  // namespace preimage::kernels::cuda
