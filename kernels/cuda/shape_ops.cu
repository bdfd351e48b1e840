// CUDA kernels for kernels/shape_ops.h: one thread per cell of the crop window, or per element of a concatenated
// input (grid-stride), fastest index innermost so a warp reads and writes consecutive addresses. Pure copies /
// single additions: exact.
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

// Concatenation moves rows: sample b of input i is the contiguous row x[b, 0:row], and its slot in y is
// y[b, offset:offset+row] of rows of y_row elements.
__global__ void concat_place_kernel(const float* x, float* y, int64_t n, int64_t row, int64_t y_row, int64_t offset) {
  const int64_t total = n * row;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x)
    y[(o / row) * y_row + offset + o % row] = x[o];
}

__global__ void concat_gather_add_kernel(const float* d_y, float* d_x, int64_t n, int64_t row, int64_t y_row,
                                         int64_t offset) {
  const int64_t total = n * row;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x)
    d_x[o] += d_y[(o / row) * y_row + offset + o % row];
}
}  // namespace

void concat_dim1_forward(const std::vector<const float*>& xs, const std::vector<int64_t>& channels, int64_t n,
                         int64_t inner, float* y, cudaStream_t stream) {
  int64_t total = 0;
  for (int64_t c : channels) total += c;
  int64_t offset = 0;  // first output channel of input i
  for (size_t i = 0; i < xs.size(); ++i) {
    const int64_t row = channels[i] * inner;
    if (n * row > 0) {
      PI_LAUNCH(concat_place_kernel, grid_stride_blocks(n * row, kThreads), kThreads, 0, stream)(
          xs[i], y, n, row, total * inner, offset * inner);
      PI_CUDA_CHECK_LAUNCH("concat_place_kernel");
    }
    offset += channels[i];
  }
}

void concat_dim1_backward(const float* d_y, const std::vector<int64_t>& channels, int64_t n, int64_t inner,
                          const std::vector<float*>& d_xs, cudaStream_t stream) {
  int64_t total = 0;
  for (int64_t c : channels) total += c;
  int64_t offset = 0;
  for (size_t i = 0; i < d_xs.size(); ++i) {
    const int64_t row = channels[i] * inner;
    if (d_xs[i] && n * row > 0) {
      PI_LAUNCH(concat_gather_add_kernel, grid_stride_blocks(n * row, kThreads), kThreads, 0, stream)(
          d_y, d_xs[i], n, row, total * inner, offset * inner);
      PI_CUDA_CHECK_LAUNCH("concat_gather_add_kernel");
    }
    offset += channels[i];
  }
}

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
