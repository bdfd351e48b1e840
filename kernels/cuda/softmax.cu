// CUDA kernels for kernels/softmax.h. Two layouts of the C entries of a distribution:
//  * inner > 1 (per-pixel softmax over channels) or few classes: one thread per distribution (n, i), its entries
//    strided by inner, so a warp reads 32 consecutive pixels of each channel; the reference's loops verbatim
//    (max, exp and sum, divide), hence the reference's values up to expf's rounding.
//  * inner == 1 with many classes ([N, C] logits): one warp per row; each lane takes every 32nd class, the max and
//    the sum are combined by shuffles (a different summation order from the reference: ~1e-7 relative).
// Backward the same way: dot = sum_c d_y y, then d_x += y (d_y - dot).
#include "kernels/cuda/softmax.h"

#include <cmath>

#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;
constexpr unsigned kFull = 0xffffffffu;
constexpr int64_t kWarpRowMinClasses = 32;  // below this a warp per row leaves lanes idle

__global__ void softmax_forward_strided_kernel(int64_t n, int64_t c, int64_t inner, const float* x, float* y) {
  const int64_t total = n * inner;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = e / inner, i = e % inner;
    const float* xp = x + b * c * inner + i;  // [C] strided by inner
    float* yp = y + b * c * inner + i;
    float m = xp[0];
    for (int64_t ch = 1; ch < c; ++ch) m = xp[ch * inner] > m ? xp[ch * inner] : m;
    float total_exp = 0;
    for (int64_t ch = 0; ch < c; ++ch) {
      const float v = expf(xp[ch * inner] - m);
      yp[ch * inner] = v;
      total_exp += v;
    }
    for (int64_t ch = 0; ch < c; ++ch) yp[ch * inner] = yp[ch * inner] / total_exp;
  }
}

__global__ void softmax_backward_strided_kernel(int64_t n, int64_t c, int64_t inner, const float* y,
                                                const float* d_y, float* d_x) {
  const int64_t total = n * inner;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = (e / inner) * c * inner + e % inner;
    float dot = 0;
    for (int64_t ch = 0; ch < c; ++ch) dot += d_y[base + ch * inner] * y[base + ch * inner];
    for (int64_t ch = 0; ch < c; ++ch)
      d_x[base + ch * inner] += y[base + ch * inner] * (d_y[base + ch * inner] - dot);
  }
}

__device__ __forceinline__ float warp_all_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float o = __shfl_xor_sync(kFull, v, offset);
    v = o > v ? o : v;
  }
  return v;
}
__device__ __forceinline__ float warp_all_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFull, v, offset);
  return v;
}

// One warp per row of [rows, c]; grid-stride over rows (the whole warp takes the same row, so shuffles are uniform).
__global__ void softmax_forward_rows_kernel(int64_t rows, int64_t c, const float* x, float* y) {
  const unsigned lane = threadIdx.x % 32;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t r = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps) {
    const float* xr = x + r * c;  // [c]
    float* yr = y + r * c;
    float m = xr[0];
    for (int64_t ch = lane; ch < c; ch += 32) m = xr[ch] > m ? xr[ch] : m;
    m = warp_all_max(m);
    float total_exp = 0;
    for (int64_t ch = lane; ch < c; ch += 32) {
      const float v = expf(xr[ch] - m);
      yr[ch] = v;
      total_exp += v;
    }
    total_exp = warp_all_sum(total_exp);
    for (int64_t ch = lane; ch < c; ch += 32) yr[ch] = yr[ch] / total_exp;
  }
}

__global__ void softmax_backward_rows_kernel(int64_t rows, int64_t c, const float* y, const float* d_y, float* d_x) {
  const unsigned lane = threadIdx.x % 32;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t r = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps) {
    const int64_t base = r * c;
    float dot = 0;
    for (int64_t ch = lane; ch < c; ch += 32) dot += d_y[base + ch] * y[base + ch];
    dot = warp_all_sum(dot);
    for (int64_t ch = lane; ch < c; ch += 32) d_x[base + ch] += y[base + ch] * (d_y[base + ch] - dot);
  }
}

bool warp_rows(int64_t c, int64_t inner) { return inner == 1 && c >= kWarpRowMinClasses; }
}  // namespace

void softmax_forward(int64_t n, int64_t c, int64_t inner, const float* x, float* y, cudaStream_t stream) {
  if (n * c * inner <= 0) return;
  if (warp_rows(c, inner)) {
    PI_LAUNCH(softmax_forward_rows_kernel, grid_stride_blocks(n * 32, kThreads), kThreads, 0, stream)(n, c, x, y);
    PI_CUDA_CHECK_LAUNCH("softmax_forward_rows_kernel");
    return;
  }
  PI_LAUNCH(softmax_forward_strided_kernel, grid_stride_blocks(n * inner, kThreads), kThreads, 0, stream)(n, c, inner,
                                                                                                        x, y);
  PI_CUDA_CHECK_LAUNCH("softmax_forward_strided_kernel");
}

void softmax_backward(int64_t n, int64_t c, int64_t inner, const float* y, const float* d_y, float* d_x,
                      cudaStream_t stream) {
  if (n * c * inner <= 0 || !d_x) return;
  if (warp_rows(c, inner)) {
    PI_LAUNCH(softmax_backward_rows_kernel, grid_stride_blocks(n * 32, kThreads), kThreads, 0, stream)(n, c, y, d_y,
                                                                                                      d_x);
    PI_CUDA_CHECK_LAUNCH("softmax_backward_rows_kernel");
    return;
  }
  PI_LAUNCH(softmax_backward_strided_kernel, grid_stride_blocks(n * inner, kThreads), kThreads, 0, stream)(
      n, c, inner, y, d_y, d_x);
  PI_CUDA_CHECK_LAUNCH("softmax_backward_strided_kernel");
}

}  // namespace preimage::kernels::cuda
