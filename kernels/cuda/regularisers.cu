// CUDA kernels for kernels/regularisers.h. The CVPR alpha-norm works per plane (one block each: its mean, then the
// sum or the update); every other op is one thread per pixel (grid-stride), the pixel's arithmetic
// in double exactly as the reference's (kernels/cpu/regularisers.cpp). The two forward sums are two-pass tree
// reductions in double like sum_forward (kernels/cuda/elementwise.cu): per-block partials of a grid-stride slice,
// then one block sums the partials and writes the scaled float result; the partial count depends only on the
// size, so the value is deterministic. TV^beta's backward is a gather (pixel (v, u) collects the terms of (v-1, u),
// (v, u-1) and itself, in the reference's scatter order), so it needs no atomics and is deterministic too.
#include "kernels/cuda/regularisers.h"

#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.cuh"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

__device__ __forceinline__ int64_t first_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

// z^e for z >= 0, as the reference's `power`: integer and half-integer exponents by multiplications (and one sqrt),
// others by pow.
__device__ double power(double z, double e) {
  const double twice = 2 * e;
  if (twice == floor(twice) && fabs(twice) <= 32) {
    const int k = static_cast<int>(twice);
    const int whole = (k >= 0 ? k : -k) / 2;
    double r = 1;
    for (int i = 0; i < whole; ++i) r *= z;
    if (k % 2 != 0) r *= sqrt(z);
    return k >= 0 ? r : 1 / r;
  }
  return pow(z, e);
}
// p z^(p/2 - 1), 0 at z = 0 (the reference's half_pow_weight).
__device__ __forceinline__ double half_pow_weight(double z, double p) { return z > 0 ? p * power(z, p / 2 - 1) : 0.0; }

// Squared norm of pixel i's channel vector. img: [c, hw].
__device__ __forceinline__ double squared_norm(const float* img, int64_t c, int64_t hw, int64_t i) {
  double s = 0;
  for (int64_t k = 0; k < c; ++k) s += double(img[k * hw + i]) * img[k * hw + i];
  return s;
}

// Forward differences at (v, u) of plane [h, w], 0 past the last column / row (replicated border).
struct Diffs {
  double du, dv;
};
__device__ __forceinline__ Diffs diffs_at(const float* plane, int64_t h, int64_t w, int64_t v, int64_t u) {
  const double here = plane[v * w + u];
  return {u + 1 < w ? plane[v * w + u + 1] - here : 0.0, v + 1 < h ? plane[(v + 1) * w + u] - here : 0.0};
}

// partials[block] = sum over this block's pixels of (|x_pixel|^2 / B^2)^(alpha/2). x: [n, c, hw].
__global__ void iso_alpha_partials_kernel(const float* x, int64_t n, int64_t c, int64_t hw, double alpha,
                                          double inv_b2, double* partials) {
  __shared__ double warp_sums[32];
  double acc = 0;
  for (int64_t p = first_index(); p < n * hw; p += grid_stride()) {
    const int64_t b = p / hw, i = p % hw;
    acc += power(squared_norm(x + b * c * hw, c, hw, i) * inv_b2, alpha / 2.0);
  }
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// partials[block] = sum over this block's pixels of (q / V^2)^(beta/2). x: [nc, h, w].
__global__ void tv_beta_partials_kernel(const float* x, int64_t nc, int64_t h, int64_t w, double beta, double inv_v2,
                                        double* partials) {
  __shared__ double warp_sums[32];
  double acc = 0;
  const int64_t hw = h * w;
  for (int64_t p = first_index(); p < nc * hw; p += grid_stride()) {
    const int64_t i = p % hw;
    const Diffs d = diffs_at(x + (p / hw) * hw, h, w, i / w, i % w);
    acc += power((d.du * d.du + d.dv * d.dv) * inv_v2, beta / 2.0);
  }
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// y[0] = (sum of partials[0..count)) / divisor, one block.
__global__ void finish_kernel(const double* partials, unsigned count, double divisor, float* y) {
  __shared__ double warp_sums[32];
  double acc = 0;
  for (unsigned i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) y[0] = float(acc / divisor);
}

__global__ void iso_alpha_backward_kernel(const float* x, const float* d_y, float* d_x, int64_t n, int64_t c,
                                          int64_t hw, double alpha, double inv_b2) {
  const double scale = double(d_y[0]) * inv_b2 / double(hw);
  for (int64_t p = first_index(); p < n * hw; p += grid_stride()) {
    const int64_t b = p / hw, i = p % hw;
    const float* img = x + b * c * hw;  // [c, hw]
    float* d_img = d_x + b * c * hw;    // [c, hw]
    const double wgt = scale * half_pow_weight(squared_norm(img, c, hw, i) * inv_b2, alpha);
    for (int64_t k = 0; k < c; ++k) d_img[k * hw + i] += float(wgt * img[k * hw + i]);
  }
}

// wgt(v, u) = scale * beta (q/V^2)^(beta/2 - 1), with the differences it multiplies.
struct TvTerm {
  double wgt, du, dv;
};
__device__ __forceinline__ TvTerm tv_term(const float* plane, int64_t h, int64_t w, int64_t v, int64_t u, double beta,
                                          double inv_v2, double scale) {
  const Diffs d = diffs_at(plane, h, w, v, u);
  return {scale * half_pow_weight((d.du * d.du + d.dv * d.dv) * inv_v2, beta), d.du, d.dv};
}

__global__ void tv_beta_backward_kernel(const float* x, const float* d_y, float* d_x, int64_t nc, int64_t h,
                                        int64_t w, double beta, double inv_v2) {
  const int64_t hw = h * w;
  const double scale = double(d_y[0]) * inv_v2 / double(hw);
  for (int64_t p = first_index(); p < nc * hw; p += grid_stride()) {
    const float* plane = x + (p / hw) * hw;  // [h, w]
    const int64_t i = p % hw, v = i / w, u = i % w;
    // Reference order of the scattered += into this pixel: from (v-1, u), from (v, u-1), then its own term.
    float g = d_x[p];
    if (v > 0) {
      const TvTerm t = tv_term(plane, h, w, v - 1, u, beta, inv_v2, scale);
      if (t.wgt != 0) g += float(t.wgt * t.dv);
    }
    if (u > 0) {
      const TvTerm t = tv_term(plane, h, w, v, u - 1, beta, inv_v2, scale);
      if (t.wgt != 0) g += float(t.wgt * t.du);
    }
    const TvTerm t = tv_term(plane, h, w, v, u, beta, inv_v2, scale);
    if (t.wgt != 0) g -= float(t.wgt * (t.du + t.dv));
    d_x[p] = g;
  }
}

__global__ void project_ball_kernel(float* x, int64_t n, int64_t c, int64_t hw, double radius) {
  for (int64_t p = first_index(); p < n * hw; p += grid_stride()) {
    const int64_t b = p / hw, i = p % hw;
    float* img = x + b * c * hw;  // [c, hw]
    const double r = sqrt(squared_norm(img, c, hw, i));
    if (r <= radius) continue;
    const double f = radius / r;
    for (int64_t k = 0; k < c; ++k) img[k * hw + i] = float(img[k * hw + i] * f);
  }
}

// d/dd |d|^alpha, 0 at d = 0 (the reference's abs_pow_derivative).
__device__ __forceinline__ double abs_pow_derivative(double d, double alpha) {
  if (d == 0) return 0;
  const double g = alpha * power(fabs(d), alpha - 1);
  return d > 0 ? g : -g;
}

// Mean of one plane, returned to every thread (tid of threads) of the block; result: a shared slot. plane: [hw].
__device__ double plane_mean(const float* plane, int64_t hw, unsigned tid, unsigned threads, double* warp_sums,
                             double* result) {
  double acc = 0;
  for (int64_t i = tid; i < hw; i += threads) acc += plane[i];
  acc = block_sum(acc, tid, threads, warp_sums);
  if (tid == 0) *result = acc / double(hw);
  __syncthreads();
  return *result;
}

// CVPR alpha-norm, one block per plane: partials[plane] = sum_i |x_i - mean|^alpha. x: [nc, hw].
__global__ void alpha_norm_partials_kernel(const float* x, int64_t hw, double alpha, double* partials) {
  __shared__ double warp_sums[32];
  __shared__ double mean_slot;
  const float* plane = x + int64_t(blockIdx.x) * hw;
  const double mean = plane_mean(plane, hw, threadIdx.x, blockDim.x, warp_sums, &mean_slot);
  double acc = 0;
  for (int64_t i = threadIdx.x; i < hw; i += blockDim.x) acc += power(fabs(plane[i] - mean), alpha);
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// One block per plane: d_x_j += d_y (f'(d_j) - mean_i f'(d_i)), the mean's own derivative included.
__global__ void alpha_norm_backward_kernel(const float* x, const float* d_y, float* d_x, int64_t hw, double alpha) {
  __shared__ double warp_sums[32];
  __shared__ double slot;
  const float* plane = x + int64_t(blockIdx.x) * hw;  // [hw]
  float* d_plane = d_x + int64_t(blockIdx.x) * hw;    // [hw]
  const double mean = plane_mean(plane, hw, threadIdx.x, blockDim.x, warp_sums, &slot);
  double acc = 0;
  for (int64_t i = threadIdx.x; i < hw; i += blockDim.x) acc += abs_pow_derivative(plane[i] - mean, alpha);
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) slot = acc / double(hw);
  __syncthreads();
  const double g_mean = slot, scale = d_y[0];
  for (int64_t i = threadIdx.x; i < hw; i += blockDim.x)
    d_plane[i] += float(scale * (abs_pow_derivative(plane[i] - mean, alpha) - g_mean));
}

// Partial-sum blocks for `items` terms: four per thread before the tree, at most 1024 so the finish is one block.
unsigned partial_blocks(int64_t items) { return grid_stride_blocks(items, kThreads * 4, 1024); }
}  // namespace

void alpha_norm_forward(const float* x, int64_t nc, int64_t hw, float alpha, float* y, cudaStream_t stream) {
  PI_CHECK(nc > 0 && nc <= 0x7fffffff, "alpha_norm (cuda): ", nc, " planes, need 1 to 2^31-1");
  void* scratch = nullptr;
  PI_CUDA_CHECK(cudaMallocAsync(&scratch, nc * sizeof(double), stream));
  double* partials = static_cast<double*>(scratch);
  PI_LAUNCH(alpha_norm_partials_kernel, unsigned(nc), kThreads, 0, stream)(x, hw, double(alpha), partials);
  PI_CUDA_CHECK_LAUNCH("alpha_norm_partials_kernel");
  PI_LAUNCH(finish_kernel, 1, kThreads, 0, stream)(partials, unsigned(nc), 1.0, y);
  PI_CUDA_CHECK_LAUNCH("finish_kernel");
  PI_CUDA_CHECK(cudaFreeAsync(scratch, stream));
}

void alpha_norm_backward(const float* x, const float* d_y, float* d_x, int64_t nc, int64_t hw, float alpha,
                         cudaStream_t stream) {
  if (nc * hw <= 0 || !d_x) return;
  PI_CHECK(nc <= 0x7fffffff, "alpha_norm backward (cuda): ", nc, " planes, need at most 2^31-1");
  PI_LAUNCH(alpha_norm_backward_kernel, unsigned(nc), kThreads, 0, stream)(x, d_y, d_x, hw, double(alpha));
  PI_CUDA_CHECK_LAUNCH("alpha_norm_backward_kernel");
}

void isotropic_alpha_norm_forward(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, float alpha, float B,
                                  float* y, cudaStream_t stream) {
  const int64_t hw = h * w;
  const double inv_b2 = 1.0 / (double(B) * B);
  const unsigned blocks = partial_blocks(n * hw);
  void* scratch = nullptr;
  PI_CUDA_CHECK(cudaMallocAsync(&scratch, blocks * sizeof(double), stream));
  double* partials = static_cast<double*>(scratch);
  PI_LAUNCH(iso_alpha_partials_kernel, blocks, kThreads, 0, stream)(x, n, c, hw, double(alpha), inv_b2, partials);
  PI_CUDA_CHECK_LAUNCH("iso_alpha_partials_kernel");
  PI_LAUNCH(finish_kernel, 1, kThreads, 0, stream)(partials, blocks, double(hw), y);
  PI_CUDA_CHECK_LAUNCH("finish_kernel");
  PI_CUDA_CHECK(cudaFreeAsync(scratch, stream));
}

void isotropic_alpha_norm_backward(const float* x, const float* d_y, float* d_x, int64_t n, int64_t c, int64_t h,
                                   int64_t w, float alpha, float B, cudaStream_t stream) {
  const int64_t hw = h * w;
  if (n * hw <= 0 || !d_x) return;
  const double inv_b2 = 1.0 / (double(B) * B);
  PI_LAUNCH(iso_alpha_backward_kernel, grid_stride_blocks(n * hw, kThreads), kThreads, 0, stream)(
      x, d_y, d_x, n, c, hw, double(alpha), inv_b2);
  PI_CUDA_CHECK_LAUNCH("iso_alpha_backward_kernel");
}

void tv_beta_forward(const float* x, int64_t nc, int64_t h, int64_t w, float beta, float V, float* y,
                     cudaStream_t stream) {
  const double inv_v2 = 1.0 / (double(V) * V);
  const unsigned blocks = partial_blocks(nc * h * w);
  void* scratch = nullptr;
  PI_CUDA_CHECK(cudaMallocAsync(&scratch, blocks * sizeof(double), stream));
  double* partials = static_cast<double*>(scratch);
  PI_LAUNCH(tv_beta_partials_kernel, blocks, kThreads, 0, stream)(x, nc, h, w, double(beta), inv_v2, partials);
  PI_CUDA_CHECK_LAUNCH("tv_beta_partials_kernel");
  PI_LAUNCH(finish_kernel, 1, kThreads, 0, stream)(partials, blocks, double(h * w), y);
  PI_CUDA_CHECK_LAUNCH("finish_kernel");
  PI_CUDA_CHECK(cudaFreeAsync(scratch, stream));
}

void tv_beta_backward(const float* x, const float* d_y, float* d_x, int64_t nc, int64_t h, int64_t w, float beta,
                      float V, cudaStream_t stream) {
  const int64_t items = nc * h * w;
  if (items <= 0 || !d_x) return;
  const double inv_v2 = 1.0 / (double(V) * V);
  PI_LAUNCH(tv_beta_backward_kernel, grid_stride_blocks(items, kThreads), kThreads, 0, stream)(
      x, d_y, d_x, nc, h, w, double(beta), inv_v2);
  PI_CUDA_CHECK_LAUNCH("tv_beta_backward_kernel");
}

void project_ball(float* x, int64_t n, int64_t c, int64_t hw, float radius, cudaStream_t stream) {
  if (n * hw <= 0) return;
  PI_LAUNCH(project_ball_kernel, grid_stride_blocks(n * hw, kThreads), kThreads, 0, stream)(x, n, c, hw,
                                                                                            double(radius));
  PI_CUDA_CHECK_LAUNCH("project_ball_kernel");
}

}  // namespace preimage::kernels::cuda
