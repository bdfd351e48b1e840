// CUDA kernels for kernels/optimisers.h: elementwise grid-stride loops (memory bound: the state is read and written
// once per step). The float expressions are the reference's (kernels/cpu/optimisers.cpp) in the same order; nvcc
// may contract a * b + c into one FMA, so results can differ from the CPU by an ulp per operation.
#include "kernels/cuda/optimisers.h"

#include <cmath>

#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

__device__ __forceinline__ int64_t first_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

__global__ void adagrad_rho_kernel(float* x, float* G, float* mu, const float* g, int64_t n, float rho, float eta0) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float gi = g[i];
    const float Gi = rho * G[i] + gi * gi;
    const float eta = 1.0f / (1.0f / eta0 + sqrtf(Gi));
    const float mui = rho * mu[i] - eta * gi;
    G[i] = Gi;
    mu[i] = mui;
    x[i] += mui;
  }
}

__global__ void momentum_kernel(float* x, float* mu, const float* g, int64_t n, float m, float eta) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float mui = m * mu[i] - eta * g[i];
    mu[i] = mui;
    x[i] += mui;
  }
}

__global__ void adam_kernel(float* x, float* m, float* v, const float* g, int64_t n, float b1, float b2, float lr,
                            float eps, float c1, float c2) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float gi = g[i];
    const float mi = b1 * m[i] + (1.0f - b1) * gi;
    const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    x[i] -= lr * (mi / c1) / (sqrtf(vi / c2) + eps);
  }
}
}  // namespace

void adagrad_rho_step(float* x, float* G, float* mu, const float* g, int64_t n, float rho, float eta0,
                      cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(adagrad_rho_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(x, G, mu, g, n, rho, eta0);
  PI_CUDA_CHECK_LAUNCH("adagrad_rho_kernel");
}

void momentum_step(float* x, float* mu, const float* g, int64_t n, float m, float eta, cudaStream_t stream) {
  if (n <= 0) return;
  PI_LAUNCH(momentum_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(x, mu, g, n, m, eta);
  PI_CUDA_CHECK_LAUNCH("momentum_kernel");
}

void adam_step(float* x, float* m, float* v, const float* g, int64_t n, const AdamParams& p, int64_t t,
               cudaStream_t stream) {
  if (n <= 0) return;
  const float c1 = 1.0f - std::pow(p.beta1, static_cast<float>(t));
  const float c2 = 1.0f - std::pow(p.beta2, static_cast<float>(t));
  PI_LAUNCH(adam_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(x, m, v, g, n, p.beta1, p.beta2, p.lr,
                                                                              p.eps, c1, c2);
  PI_CUDA_CHECK_LAUNCH("adam_kernel");
}

}  // namespace preimage::kernels::cuda
