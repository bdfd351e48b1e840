// CUDA kernels for kernels/dropout.h. One thread per group of 4 consecutive elements: element i keeps iff
// philox_uniform(seed, i) >= p, and the 4 uniforms of elements 4g .. 4g+3 are the 4 words of Philox block g
// (engine/rng.h), so one block function call serves the group - the same counters as the CPU reference, hence the
// same mask bit for bit. The survivor factor 1/(1 - p) is computed on the host as the reference computes it.
#include "kernels/cuda/dropout.h"

#include "engine/rng.h"
#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

// y = keep ? x * scale : 0 (forward, accumulate = false) or d_x += keep ? d_y * scale : nothing (backward).
template <bool Accumulate>
__global__ void dropout_kernel(int64_t n, float p, uint64_t seed, float scale, const float* in, float* out) {
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += int64_t(gridDim.x) * blockDim.x) {
    const Philox4x32 bits = philox_block(seed, static_cast<uint64_t>(g));
    for (int w = 0; w < 4; ++w) {
      const int64_t i = 4 * g + w;
      if (i >= n) break;
      const bool keep = philox_word_to_uniform(bits.v[w]) >= p;
      if (Accumulate) {
        if (keep) out[i] += in[i] * scale;
      } else {
        out[i] = keep ? in[i] * scale : 0.0f;
      }
    }
  }
}

// p = 0 is the identity (no draws), as the reference: y = x, or d_x += d_y.
template <bool Accumulate> __global__ void identity_kernel(int64_t n, const float* in, float* out) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    if (Accumulate)
      out[i] += in[i];
    else
      out[i] = in[i];
  }
}

float keep_scale(float p) { return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f; }  // the reference's keep_scale<float>

template <bool Accumulate> void run(int64_t n, float p, uint64_t seed, const float* in, float* out, cudaStream_t s) {
  if (n <= 0 || !out) return;
  if (p == 0.0f) {
    PI_LAUNCH(identity_kernel<Accumulate>, grid_stride_blocks(n, kThreads), kThreads, 0, s)(n, in, out);
    PI_CUDA_CHECK_LAUNCH("identity_kernel");
    return;
  }
  PI_LAUNCH(dropout_kernel<Accumulate>, grid_stride_blocks((n + 3) / 4, kThreads), kThreads, 0, s)(
      n, p, seed, keep_scale(p), in, out);
  PI_CUDA_CHECK_LAUNCH("dropout_kernel");
}
}  // namespace

void dropout_forward(int64_t n, float p, uint64_t seed, const float* x, float* y, cudaStream_t stream) {
  run<false>(n, p, seed, x, y, stream);
}

void dropout_backward(int64_t n, float p, uint64_t seed, const float* d_y, float* d_x, cudaStream_t stream) {
  run<true>(n, p, seed, d_y, d_x, stream);
}

}  // namespace preimage::kernels::cuda
