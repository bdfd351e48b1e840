// CUDA kernels for kernels/lrn.h. One thread per element (n, c, pixel), pixels fastest so a warp reads consecutive
// addresses. The forward recomputes its channel window's scale s_c; the backward needs r_i = d_y_i x_i s_i^(-beta-1)
// for every channel i whose window holds c, so it recomputes those scales too (size^2 multiply-adds per element,
// cheap for size 5) instead of keeping a per-pixel channel array. Float arithmetic in the reference's order
// (kernels/cpu/lrn.cpp); powf on the GPU is within a few ulps, not correctly rounded.
#include "kernels/cuda/lrn.h"

#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

// Channels [c - before, c + after] feed output channel c (Caffe's pre_pad = (size - 1) / 2).
struct Window {
  int64_t before, after;
};

// s = k + (alpha / size) sum_{q in window(ch)} x[q]^2 at one pixel; xp: [C] strided by hw.
__device__ float lrn_scale(const float* xp, int64_t c, int64_t hw, int64_t ch, Window w, float a, float k) {
  const int64_t lo = ch - w.before < 0 ? 0 : ch - w.before;
  const int64_t hi = ch + w.after > c - 1 ? c - 1 : ch + w.after;
  float sum = 0;
  for (int64_t q = lo; q <= hi; ++q) sum += xp[q * hw] * xp[q * hw];
  return k + a * sum;
}

__global__ void lrn_forward_kernel(int64_t n, int64_t c, int64_t hw, Window w, float a, float k, float beta,
                                   const float* x, float* y) {
  const int64_t total = n * c * hw;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = e / (c * hw), ch = (e / hw) % c, i = e % hw;
    const float* xp = x + b * c * hw + i;  // [C] strided by hw
    y[e] = xp[ch * hw] * powf(lrn_scale(xp, c, hw, ch, w, a, k), -beta);
  }
}

__global__ void lrn_backward_kernel(int64_t n, int64_t c, int64_t hw, Window w, float a, float k, float beta,
                                    const float* x, const float* d_y, float* d_x) {
  const int64_t total = n * c * hw;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = e / (c * hw), j = (e / hw) % c, i = e % hw;
    const float* xp = x + b * c * hw + i;    // [C] strided by hw
    const float* gp = d_y + b * c * hw + i;  // [C] strided by hw
    // Output channels q whose window holds j: q in [j - after, j + before].
    const int64_t lo = j - w.after < 0 ? 0 : j - w.after;
    const int64_t hi = j + w.before > c - 1 ? c - 1 : j + w.before;
    float acc = 0;
    for (int64_t q = lo; q <= hi; ++q)
      acc += gp[q * hw] * xp[q * hw] * powf(lrn_scale(xp, c, hw, q, w, a, k), -beta - 1.0f);
    const float s_j = lrn_scale(xp, c, hw, j, w, a, k);
    d_x[e] += gp[j * hw] * powf(s_j, -beta) - 2.0f * a * beta * xp[j * hw] * acc;
  }
}
}  // namespace

void lrn_forward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const float* x, float* y,
                 cudaStream_t stream) {
  const int64_t total = n * c * hw;
  if (total <= 0) return;
  const Window w{(p.size - 1) / 2, p.size - 1 - (p.size - 1) / 2};
  const float a = p.alpha / float(p.size);
  PI_LAUNCH(lrn_forward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(n, c, hw, w, a, p.k,
                                                                                          p.beta, x, y);
  PI_CUDA_CHECK_LAUNCH("lrn_forward_kernel");
}

void lrn_backward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const float* x, const float* d_y, float* d_x,
                  cudaStream_t stream) {
  const int64_t total = n * c * hw;
  if (total <= 0 || !d_x) return;
  const Window w{(p.size - 1) / 2, p.size - 1 - (p.size - 1) / 2};
  const float a = p.alpha / float(p.size);
  PI_LAUNCH(lrn_backward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(n, c, hw, w, a, p.k,
                                                                                           p.beta, x, d_y, d_x);
  PI_CUDA_CHECK_LAUNCH("lrn_backward_kernel");
}

}  // namespace preimage::kernels::cuda
