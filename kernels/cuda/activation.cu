// CUDA kernels for kernels/activation.h (PyTorch nn.LeakyReLU semantics; derivative at x = 0 is the slope branch,
// as in ref::leaky_relu_backward). Grid-stride loops, memory bound.
#include "kernels/cuda/activation.h"

#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

__global__ void leaky_relu_forward_kernel(const float* x, float* y, int64_t n, float slope) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = x[i];
    y[i] = v > 0.0f ? v : slope * v;
  }
}

__global__ void leaky_relu_backward_kernel(const float* x, const float* d_y, float* d_x, int64_t n, float slope) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    d_x[i] += x[i] > 0.0f ? d_y[i] : slope * d_y[i];
}
}  // namespace

void leaky_relu_forward(const float* x, float* y, int64_t n, float slope, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(leaky_relu_forward_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(x, y, n, slope);
  PI_CUDA_CHECK_LAUNCH("leaky_relu_forward_kernel");
}

void leaky_relu_backward(const float* x, const float* d_y, float* d_x, int64_t n, float slope, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(leaky_relu_backward_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(x, d_y, d_x, n, slope);
  PI_CUDA_CHECK_LAUNCH("leaky_relu_backward_kernel");
}

}  // namespace preimage::kernels::cuda
