// CUDA kernels for kernels/elementwise.h. The pointwise ops are grid-stride loops (memory bound: one read or two
// and one write per element). sum is a two-pass tree reduction in double: pass 1 reduces a grid-stride slice per
// block (warp shuffles, then one value per warp through shared memory) into partials[block]; pass 2, one block,
// reduces the partials. The partial count depends only on n, so the result is deterministic.
#include "kernels/cuda/elementwise.h"

#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.cuh"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

__device__ __forceinline__ int64_t first_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

__global__ void add_into_kernel(float* y, const float* x, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] += x[i];
}
__global__ void axpy_into_kernel(float* y, float s, const float* x, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] += s * x[i];
}
__global__ void add_kernel(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = a[i] + b[i];
}
__global__ void mul_kernel(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = a[i] * b[i];
}
__global__ void mul_backward_kernel(const float* a, const float* b, const float* d_y, float* d_a, float* d_b,
                                    int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    if (d_a) d_a[i] += d_y[i] * b[i];
    if (d_b) d_b[i] += d_y[i] * a[i];
  }
}
__global__ void scale_kernel(const float* a, float s, float* y, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = s * a[i];
}
__global__ void broadcast_add_kernel(float* d_a, const float* d_y, float s, int64_t n) {
  const float g = s * d_y[0];
  for (int64_t i = first_index(); i < n; i += grid_stride()) d_a[i] += g;
}

// partials[blockIdx.x] = sum of a[i] over this block's grid-stride slice.
__global__ void sum_partials_kernel(const float* a, int64_t n, double* partials) {
  __shared__ double warp_sums[32];
  double acc = 0;
  for (int64_t i = first_index(); i < n; i += grid_stride()) acc += double(a[i]);
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// y[0] = sum of partials[0..count), one block.
__global__ void sum_finish_kernel(const double* partials, unsigned count, float* y) {
  __shared__ double warp_sums[32];
  double acc = 0;
  for (unsigned i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) y[0] = float(acc);
}
}  // namespace

void add_into(float* y, const float* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(add_into_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(y, x, n);
  PI_CUDA_CHECK_LAUNCH("add_into_kernel");
}

void axpy_into(float* y, float s, const float* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(axpy_into_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(y, s, x, n);
  PI_CUDA_CHECK_LAUNCH("axpy_into_kernel");
}

void add_forward(const float* a, const float* b, float* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(add_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(a, b, y, n);
  PI_CUDA_CHECK_LAUNCH("add_kernel");
}

void mul_forward(const float* a, const float* b, float* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(mul_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(a, b, y, n);
  PI_CUDA_CHECK_LAUNCH("mul_kernel");
}

void mul_backward(const float* a, const float* b, const float* d_y, float* d_a, float* d_b, int64_t n,
                  cudaStream_t stream) {
  if (n <= 0 || (!d_a && !d_b)) return;
  PI_LAUNCH(mul_backward_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(a, b, d_y, d_a, d_b, n);
  PI_CUDA_CHECK_LAUNCH("mul_backward_kernel");
}

void scale_forward(const float* a, float s, float* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(scale_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(a, s, y, n);
  PI_CUDA_CHECK_LAUNCH("scale_kernel");
}

void broadcast_add_into(float* d_a, const float* d_y, float s, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(broadcast_add_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(d_a, d_y, s, n);
  PI_CUDA_CHECK_LAUNCH("broadcast_add_kernel");
}

void sum_forward(const float* a, int64_t n, float* y, cudaStream_t stream) {
  // Four elements per thread before the tree; at most 1024 partials so pass 2 is one block.
  const unsigned blocks = grid_stride_blocks(n, kThreads * 4, 1024);
  void* scratch = nullptr;
  PI_CUDA_CHECK(cudaMallocAsync(&scratch, blocks * sizeof(double), stream));
  double* partials = static_cast<double*>(scratch);
  PI_LAUNCH(sum_partials_kernel, blocks, kThreads, 0, stream)(a, n, partials);
  PI_CUDA_CHECK_LAUNCH("sum_partials_kernel");
  PI_LAUNCH(sum_finish_kernel, 1, kThreads, 0, stream)(partials, blocks, y);
  PI_CUDA_CHECK_LAUNCH("sum_finish_kernel");
  PI_CUDA_CHECK(cudaFreeAsync(scratch, stream));
}

}  // namespace preimage::kernels::cuda
