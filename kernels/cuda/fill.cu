// CUDA twin of fill_floats (engine/storage.h): y[i] = value. Grid-stride loop, one float per thread per step.
#include "kernels/cuda/fill.h"

#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
__global__ void fill_kernel(float* y, float value, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    y[i] = value;
}
}  // namespace

void fill(float* y, float value, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  const unsigned threads = 256;
  PI_LAUNCH(fill_kernel, grid_stride_blocks(static_cast<int64_t>(n), threads), threads, 0, stream)(y, value, n);
  PI_CUDA_CHECK_LAUNCH("fill_kernel");
}

}  // namespace preimage::kernels::cuda
