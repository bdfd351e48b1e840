// Probe kernels for tests/gpu/test_simt.cpp (declarations and expected results in simt_probes.h).
#include "simt_probes.h"

#include "kernels/cuda/launch.h"

namespace preimage::test::simt {

namespace {

__global__ void barrier_rotate_kernel(int* out, int rounds) {
  __shared__ int buf[1024];
  const unsigned t = threadIdx.x, n = blockDim.x;
  int v = static_cast<int>(t);
  for (int r = 0; r < rounds; ++r) {
    buf[t] = v;
    __syncthreads();
    v = buf[(t + 1) % n] + 1;
    __syncthreads();  // nobody overwrites buf before everyone has read it
  }
  out[t] = v;
}

__global__ void block_tree_sum_kernel(const float* x, float* sums) {
  __shared__ float s[1024];
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned t = threadIdx.x;
  s[t] = x[block * blockDim.x + t];
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half >>= 1) {
    if (t < half) s[t] += s[t + half];
    __syncthreads();
  }
  if (t == 0) sums[block] = s[0];
}

__global__ void shuffles_kernel(int* out) {
  const unsigned full = 0xffffffffu;
  const int lane = static_cast<int>(threadIdx.x % 32);
  int* o = out + threadIdx.x * kShuffleProbes;
  o[0] = __shfl_sync(full, lane * 10, 3);               // broadcast from lane 3
  o[1] = __shfl_sync(full, lane, lane + 1, 8);          // rotate within segments of 8
  o[2] = __shfl_up_sync(full, lane, 2);                 // lanes 0, 1 keep their own
  o[3] = __shfl_down_sync(full, lane, 5, 16);           // within segments of 16
  o[4] = __shfl_xor_sync(full, lane, 1);
  int v = lane;
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(full, v, m);
  o[5] = v;                                             // butterfly: every lane gets the total, 496
  o[6] = static_cast<int>(__ballot_sync(full, lane & 1));
  o[7] = __any_sync(full, lane == 7);
  o[8] = __all_sync(full, lane < 31);
  double d = 0.5 * lane;
  for (int off = 16; off > 0; off >>= 1) d += __shfl_down_sync(full, d, off);
  o[9] = static_cast<int>(d * 2);                       // lane 0: 496
  __syncwarp();
  o[10] = __reduce_add_sync(full, lane);
  o[11] = __reduce_max_sync(full, lane * (lane % 2 ? -1 : 1));
}

__global__ void dynamic_reverse_kernel(const float* x, float* y, unsigned shared_floats) {
  PI_DYNAMIC_SHARED(float, s);
  const unsigned t = threadIdx.x, n = blockDim.x, base = blockIdx.x * n;
  for (unsigned i = t; i < shared_floats; i += n) s[i] = -1.0f;  // touch all of it: the limit is real
  __syncthreads();
  s[t] = x[base + t];
  __syncthreads();
  y[base + t] = s[n - 1 - t];
}

__global__ void atomics_kernel(float* fsum, int* isum, int* imax, unsigned* count, int* cas_sum) {
  const int g = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(fsum, 1.0f);
  atomicAdd(isum, g);
  atomicMax(imax, (37 * g) % 1001);
  atomicInc(count, 1u << 30);
  int old = *cas_sum, assumed;
  do {
    assumed = old;
    old = atomicCAS(cas_sum, assumed, assumed + g);
  } while (old != assumed);
}

__global__ void indices_3d_kernel(int* out) {
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  const unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int leader = __shfl_sync(__activemask(), static_cast<int>(t), 0);  // warps are formed x-fastest
  int* o = out + 4 * (b * threads + t);
  o[0] = static_cast<int>(threadIdx.x + 10 * threadIdx.y + 100 * threadIdx.z);
  o[1] = static_cast<int>(blockIdx.x + 10 * blockIdx.y + 100 * blockIdx.z);
  o[2] = static_cast<int>(blockDim.x + 10 * blockDim.y + 100 * blockDim.z + 1000 * gridDim.x +
                          10000 * gridDim.y + 100000 * gridDim.z);
  o[3] = leader;
}

__global__ void barrier_votes_kernel(int* out) {
  const unsigned t = threadIdx.x, n = blockDim.x;
  const int count = __syncthreads_count(t % 3 == 0);
  const int all = __syncthreads_and(t < n);
  const int any = __syncthreads_or(t == n - 1);
  const int not_all = __syncthreads_and(t + 1 < n);
  if (t == 0) {
    out[0] = count;
    out[1] = all;
    out[2] = any;
    out[3] = not_all;
  }
}

__global__ void write_one_kernel(int* out) { out[threadIdx.x] = 1; }

__global__ void divergent_deadlock_kernel(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncwarp();
  }
  out[threadIdx.x] = 1;
}

#ifdef PREIMAGE_CUDA_EMULATION
__global__ void stack_overflow_kernel(int* out) {
  volatile int big[64 * 1024];
  for (int i = 0; i < 64 * 1024; ++i) big[i] = i;
  out[threadIdx.x] = big[12345];
}
#endif

}  // namespace

void barrier_rotate(int* out, unsigned threads, int rounds) {
  PI_LAUNCH(barrier_rotate_kernel, 1, threads, 0, nullptr)(out, rounds);
  PI_CUDA_CHECK_LAUNCH("barrier_rotate_kernel");
}

void block_tree_sum(const float* x, float* sums, unsigned gx, unsigned gy, unsigned gz, unsigned threads) {
  PI_LAUNCH(block_tree_sum_kernel, dim3(gx, gy, gz), threads, 0, nullptr)(x, sums);
  PI_CUDA_CHECK_LAUNCH("block_tree_sum_kernel");
}

void shuffles(int* out, unsigned threads) {
  PI_LAUNCH(shuffles_kernel, 1, threads, 0, nullptr)(out);
  PI_CUDA_CHECK_LAUNCH("shuffles_kernel");
}

void dynamic_reverse(const float* x, float* y, unsigned blocks, unsigned threads, unsigned shared_floats,
                     bool raise_limit) {
  const size_t bytes = shared_floats * sizeof(float);
  if (raise_limit)
    PI_CUDA_CHECK(cudaFuncSetAttribute(dynamic_reverse_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(bytes)));
  PI_LAUNCH(dynamic_reverse_kernel, blocks, threads, bytes, nullptr)(x, y, shared_floats);
  PI_CUDA_CHECK_LAUNCH("dynamic_reverse_kernel");
}

void atomics(float* fsum, int* isum, int* imax, unsigned* count, int* cas_sum, unsigned blocks, unsigned threads) {
  PI_LAUNCH(atomics_kernel, blocks, threads, 0, nullptr)(fsum, isum, imax, count, cas_sum);
  PI_CUDA_CHECK_LAUNCH("atomics_kernel");
}

void indices_3d(int* out, unsigned bx, unsigned by, unsigned bz, unsigned gx, unsigned gy, unsigned gz) {
  PI_LAUNCH(indices_3d_kernel, dim3(gx, gy, gz), dim3(bx, by, bz), 0, nullptr)(out);
  PI_CUDA_CHECK_LAUNCH("indices_3d_kernel");
}

void barrier_votes(int* out, unsigned threads) {
  PI_LAUNCH(barrier_votes_kernel, 1, threads, 0, nullptr)(out);
  PI_CUDA_CHECK_LAUNCH("barrier_votes_kernel");
}

void launch_too_many_threads(int* out) {
  PI_LAUNCH(write_one_kernel, 1, 1025, 0, nullptr)(out);
  PI_CUDA_CHECK_LAUNCH("write_one_kernel");
}

void divergent_deadlock(int* out) {
  PI_LAUNCH(divergent_deadlock_kernel, 1, 32, 0, nullptr)(out);
  PI_CUDA_CHECK_LAUNCH("divergent_deadlock_kernel");
}

#ifdef PREIMAGE_CUDA_EMULATION
void stack_overflow(int* out) {
  PI_LAUNCH(stack_overflow_kernel, 1, 1, 0, nullptr)(out);
  PI_CUDA_CHECK_LAUNCH("stack_overflow_kernel");
}
#endif

}  // namespace preimage::test::simt
