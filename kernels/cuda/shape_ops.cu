// CUDA kernels for the crop of kernels/shape_ops.h: one thread per cell of the crop window (grid-stride), columns
// fastest so a warp reads and writes consecutive addresses. Pure copies / single additions: exact.
#include "kernels/cuda/shape_ops.h"

#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

__global__ void crop_forward_kernel(const float* x, float* y, int64_t nc, int64_t H, int64_t W, int64_t top,
                                    int64_t left, int64_t h, int64_t w) {
  const int64_t total = nc * h * w;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = o / (h * w), i = (o / w) % h, j = o % w;
    y[o] = x[(p * H + top + i) * W + left + j];
  }
}

__global__ void crop_backward_kernel(const float* d_y, float* d_x, int64_t nc, int64_t H, int64_t W, int64_t top,
                                     int64_t left, int64_t h, int64_t w) {
  const int64_t total = nc * h * w;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = o / (h * w), i = (o / w) % h, j = o % w;
    d_x[(p * H + top + i) * W + left + j] += d_y[o];
  }
}
}  // namespace

void crop_forward(const float* x, float* y, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left, int64_t h,
                  int64_t w, cudaStream_t stream) {
  const int64_t total = nc * h * w;
  if (total <= 0) return;
  PI_LAUNCH(crop_forward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(x, y, nc, H, W, top, left,
                                                                                           h, w);
  PI_CUDA_CHECK_LAUNCH("crop_forward_kernel");
}

void crop_backward(const float* d_y, float* d_x, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left,
                   int64_t h, int64_t w, cudaStream_t stream) {
  const int64_t total = nc * h * w;
  if (total <= 0 || !d_x) return;
  PI_LAUNCH(crop_backward_kernel, grid_stride_blocks(total, kThreads), kThreads, 0, stream)(d_y, d_x, nc, H, W, top,
                                                                                            left, h, w);
  PI_CUDA_CHECK_LAUNCH("crop_backward_kernel");
}

}  // namespace preimage::kernels::cuda
