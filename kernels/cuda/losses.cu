// CUDA kernels for kernels/losses.h. normalised_l2 is three reductions in double: (1) grid (chunks, n): each block
// sums its grid-stride slice of sample n's ||phi0 . M||^2 and ||(phi - phi0) . M||^2 into partials; (2) one block
// per sample sums that sample's partials into energies[n] and ratios[n] = err / energy; (3) forward only, one block
// sums the ratios into y. The backward is elementwise once the energies are known. inner_product is a two-pass
// dot product like sum_forward (kernels/cuda/elementwise.cu). Partial counts depend only on the sizes, so every
// value is deterministic.
#include "kernels/cuda/losses.h"

#include <vector>

#include "engine/error.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce.cuh"

namespace preimage::kernels::cuda {

namespace {
constexpr unsigned kThreads = 256;

__device__ __forceinline__ double mask_at(const float* mask, int64_t i) { return mask ? double(mask[i]) : 1.0; }

// partials [n, chunks] of ||phi0_b . M_b||^2 (energy) and ||(phi_b - phi0_b) . M_b||^2 (err, when err != null).
__global__ void l2_partials_kernel(const float* phi, const float* phi0, const float* mask, int64_t d,
                                   double* energy, double* err) {
  __shared__ double warp_sums[32];
  const int64_t b = blockIdx.y;
  const unsigned chunks = gridDim.x;
  const float* p = phi + b * d;                      // [d]
  const float* p0 = phi0 + b * d;                    // [d]
  const float* m = mask ? mask + b * d : nullptr;    // [d]
  double e = 0, r2 = 0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < d; i += int64_t(chunks) * blockDim.x) {
    const double mi = mask_at(m, i);
    const double v = p0[i] * mi;
    e += v * v;
    if (err) {
      const double r = (double(p[i]) - p0[i]) * mi;
      r2 += r * r;
    }
  }
  e = block_sum(e, threadIdx.x, blockDim.x, warp_sums);
  if (err) r2 = block_sum(r2, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) {
    energy[b * chunks + blockIdx.x] = e;
    if (err) err[b * chunks + blockIdx.x] = r2;
  }
}

// One block per sample b: energies[b] = sum of its energy partials; ratios[b] = err / energy (when err != null).
__global__ void l2_per_sample_kernel(const double* energy, const double* err, unsigned chunks, double* energies,
                                     double* ratios) {
  __shared__ double warp_sums[32];
  const int64_t b = blockIdx.x;
  double e = 0, r2 = 0;
  for (unsigned i = threadIdx.x; i < chunks; i += blockDim.x) {
    e += energy[b * chunks + i];
    if (err) r2 += err[b * chunks + i];
  }
  e = block_sum(e, threadIdx.x, blockDim.x, warp_sums);
  if (err) r2 = block_sum(r2, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) {
    energies[b] = e;
    if (err) ratios[b] = r2 / e;
  }
}

// y[0] = (sum of values[0..count)) / divisor, one block.
__global__ void sum_divided_kernel(const double* values, unsigned count, double divisor, float* y) {
  __shared__ double warp_sums[32];
  double acc = 0;
  for (unsigned i = threadIdx.x; i < count; i += blockDim.x) acc += values[i];
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) y[0] = float(acc / divisor);
}

__global__ void l2_backward_kernel(const float* phi, const float* phi0, const float* mask, const float* d_y,
                                   const double* energies, float* d_phi, int64_t n, int64_t d) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n * d; i += int64_t(gridDim.x) * blockDim.x) {
    const double scale = 2.0 * double(d_y[0]) / energies[i / d];
    const double mi = mask_at(mask, i);
    d_phi[i] += float(scale * (double(phi[i]) - phi0[i]) * mi * mi);
  }
}

// partials[block] = sum of phi[i] phi0[i] over this block's grid-stride slice.
__global__ void dot_partials_kernel(const float* phi, const float* phi0, int64_t count, double* partials) {
  __shared__ double warp_sums[32];
  double acc = 0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    acc += double(phi[i]) * phi0[i];
  acc = block_sum(acc, threadIdx.x, blockDim.x, warp_sums);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

__global__ void inner_product_backward_kernel(const float* phi0, const float* d_y, float* d_phi, int64_t count,
                                              double Z) {
  const double scale = -double(d_y[0]) / Z;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    d_phi[i] += float(scale * phi0[i]);
}

// Device scratch of `count` doubles, freed (stream-ordered) when it goes out of scope.
struct Scratch {
  double* data = nullptr;
  cudaStream_t stream;
  Scratch(size_t count, cudaStream_t s) : stream(s) {
    void* p = nullptr;
    PI_CUDA_CHECK(cudaMallocAsync(&p, count * sizeof(double), stream));
    data = static_cast<double*>(p);
  }
  ~Scratch() { cudaFreeAsync(data, stream); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// energies[0..n) (and ratios when wanted) for normalised_l2. No zero-energy check here: it would need a
// device->host copy per call; the caller checks the target once (kernels::check_normalised_l2_target).
void l2_energies(const float* phi, const float* phi0, const float* mask, int64_t n, int64_t d, double* energies,
                 double* ratios, cudaStream_t stream) {
  PI_CHECK(n <= 65535, "normalised_l2 (cuda): batch of ", n, " samples exceeds the grid's 65535; split the batch");
  const unsigned chunks = grid_stride_blocks(d, kThreads * 4, 256);
  Scratch partials(size_t(n) * chunks * (ratios ? 2 : 1), stream);
  double* energy = partials.data;
  double* err = ratios ? partials.data + n * chunks : nullptr;
  PI_LAUNCH(l2_partials_kernel, dim3(chunks, unsigned(n)), kThreads, 0, stream)(phi, phi0, mask, d, energy, err);
  PI_CUDA_CHECK_LAUNCH("l2_partials_kernel");
  PI_LAUNCH(l2_per_sample_kernel, unsigned(n), kThreads, 0, stream)(energy, err, chunks, energies, ratios);
  PI_CUDA_CHECK_LAUNCH("l2_per_sample_kernel");
}
}  // namespace

void normalised_l2_forward(const float* phi, const float* phi0, const float* mask, int64_t n, int64_t d, float* y,
                           cudaStream_t stream) {
  Scratch per_sample(size_t(2 * n), stream);
  double* energies = per_sample.data;
  double* ratios = per_sample.data + n;
  l2_energies(phi, phi0, mask, n, d, energies, ratios, stream);
  PI_LAUNCH(sum_divided_kernel, 1, kThreads, 0, stream)(ratios, unsigned(n), 1.0, y);
  PI_CUDA_CHECK_LAUNCH("sum_divided_kernel");
}

void normalised_l2_backward(const float* phi, const float* phi0, const float* mask, const float* d_y, float* d_phi,
                            int64_t n, int64_t d, cudaStream_t stream) {
  if (!d_phi) return;
  Scratch energies(size_t(n), stream);
  l2_energies(phi, phi0, mask, n, d, energies.data, nullptr, stream);
  PI_LAUNCH(l2_backward_kernel, grid_stride_blocks(n * d, kThreads), kThreads, 0, stream)(phi, phi0, mask, d_y,
                                                                                          energies.data, d_phi, n, d);
  PI_CUDA_CHECK_LAUNCH("l2_backward_kernel");
}

void inner_product_forward(const float* phi, const float* phi0, int64_t count, float Z, float* y,
                           cudaStream_t stream) {
  const unsigned blocks = grid_stride_blocks(count, kThreads * 4, 1024);
  Scratch partials(blocks, stream);
  PI_LAUNCH(dot_partials_kernel, blocks, kThreads, 0, stream)(phi, phi0, count, partials.data);
  PI_CUDA_CHECK_LAUNCH("dot_partials_kernel");
  // -dot / Z as the reference (dot / -Z is the same correctly rounded quotient).
  PI_LAUNCH(sum_divided_kernel, 1, kThreads, 0, stream)(partials.data, blocks, -double(Z), y);
  PI_CUDA_CHECK_LAUNCH("sum_divided_kernel");
}

void inner_product_backward(const float* phi0, const float* d_y, float* d_phi, int64_t count, float Z,
                            cudaStream_t stream) {
  if (count <= 0 || !d_phi) return;
  PI_LAUNCH(inner_product_backward_kernel, grid_stride_blocks(count, kThreads), kThreads, 0, stream)(
      phi0, d_y, d_phi, count, double(Z));
  PI_CUDA_CHECK_LAUNCH("inner_product_backward_kernel");
}

}  // namespace preimage::kernels::cuda
