// CUDA kernels for kernels/max_pool2d.h. Forward: one thread per output cell, scanning its window. Backward: one
// thread per input cell, which visits the (at most ceil(kh/sh) x ceil(kw/sw)) windows containing it, recomputes each
// window's argmax with the forward's tie rule, and adds d_y of the windows it wins. Visiting the windows in raster
// order adds the same float terms in the same order as the reference's scatter, so the gradient is bit for bit the
// reference's, and no atomics are needed (overlapping windows would otherwise race).
#include "kernels/cuda/max_pool2d.h"

#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

// Flat index into plane [H, W] of output (oh, ow)'s winner: first maximum in row-major order, NaN beats numbers.
__device__ int64_t window_argmax(const MaxPool2dGeometry& g, const float* plane, int64_t oh, int64_t ow) {
  const MaxPool2dParams& p = g.p;
  const int64_t h0 = oh * p.stride_h - p.pad_top, w0 = ow * p.stride_w - p.pad_left;
  const int64_t h_lo = h0 < 0 ? 0 : h0, w_lo = w0 < 0 ? 0 : w0;
  const int64_t h_hi = h0 + p.kernel_h < g.h ? h0 + p.kernel_h : g.h;
  const int64_t w_hi = w0 + p.kernel_w < g.w ? w0 + p.kernel_w : g.w;
  int64_t best = h_lo * g.w + w_lo;
  float b = plane[best];
  for (int64_t ih = h_lo; ih < h_hi; ++ih) {
    for (int64_t iw = w_lo; iw < w_hi; ++iw) {
      const int64_t i = ih * g.w + iw;
      const float v = plane[i];
      if (v > b || (v != v && b == b)) {  // v != v: NaN
        best = i;
        b = v;
      }
    }
  }
  return best;
}

__global__ void max_pool2d_forward_kernel(MaxPool2dGeometry g, const float* x, float* y) {
  const int64_t total = g.n * g.c * g.ho * g.wo;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int64_t plane_index = o / (g.ho * g.wo), cell = o % (g.ho * g.wo);
    const float* plane = x + plane_index * g.h * g.w;  // [H, W]
    y[o] = plane[window_argmax(g, plane, cell / g.wo, cell % g.wo)];
  }
}

// First and last output index along one axis whose window [o s - pad, o s - pad + k) contains input index i.
__device__ __forceinline__ void windows_containing(int64_t i, int k, int s, int pad, int64_t out, int64_t& lo,
                                                   int64_t& hi) {
  const int64_t first = i + pad - k + 1;  // o s >= first
  lo = first <= 0 ? 0 : (first + s - 1) / s;
  hi = (i + pad) / s;  // o s <= i + pad
  if (hi > out - 1) hi = out - 1;
}

__global__ void max_pool2d_backward_kernel(MaxPool2dGeometry g, const float* x, const float* d_y, float* d_x) {
  const int64_t total = g.n * g.c * g.h * g.w;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t plane_index = i / (g.h * g.w), cell = i % (g.h * g.w);
    const float* plane = x + plane_index * g.h * g.w;          // [H, W]
    const float* d_out = d_y + plane_index * g.ho * g.wo;      // [Ho, Wo]
    int64_t oh_lo, oh_hi, ow_lo, ow_hi;
    windows_containing(cell / g.w, g.p.kernel_h, g.p.stride_h, g.p.pad_top, g.ho, oh_lo, oh_hi);
    windows_containing(cell % g.w, g.p.kernel_w, g.p.stride_w, g.p.pad_left, g.wo, ow_lo, ow_hi);
    float acc = d_x[i];
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh)
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow)
        if (window_argmax(g, plane, oh, ow) == cell) acc += d_out[oh * g.wo + ow];
    d_x[i] = acc;
  }
}
}  // namespace

void max_pool2d_forward(const MaxPool2dGeometry& g, const float* x, float* y, cudaStream_t stream) {
  const int64_t total = g.n * g.c * g.ho * g.wo;
  if (total <= 0) return;
  PI_LAUNCH(max_pool2d_forward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(g, x, y);
  PI_CUDA_CHECK_LAUNCH("max_pool2d_forward_kernel");
}

void max_pool2d_backward(const MaxPool2dGeometry& g, const float* x, const float* d_y, float* d_x,
                         cudaStream_t stream) {
  const int64_t total = g.n * g.c * g.h * g.w;
  if (total <= 0 || !d_x) return;
  PI_LAUNCH(max_pool2d_backward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(g, x, d_y, d_x);
  PI_CUDA_CHECK_LAUNCH("max_pool2d_backward_kernel");
}

}  // namespace preimage::kernels::cuda
