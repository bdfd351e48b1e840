#pragma once
// Block-wide reductions shared by kernels/cuda/*.cu (include after kernels/cuda/launch.h). Like every reusable
// device function here they take the thread's index instead of reading threadIdx themselves.
#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

// Sum over the 32 lanes of a full warp, by halving shuffles; the total ends up in lane 0.
template <typename T> __device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Sum of v over the block (tid in [0, threads), threads a multiple of 32, at most 1024); the total is returned to
// thread 0. warp_sums: shared memory for 32 values. Every thread of the block must call it (it has barriers).
template <typename T>
__device__ __forceinline__ T block_sum(T v, unsigned tid, unsigned threads, T* warp_sums) {
  v = warp_sum(v);
  if (tid % 32 == 0) warp_sums[tid / 32] = v;
  __syncthreads();
  if (tid < 32) {
    v = tid < threads / 32 ? warp_sums[tid] : T(0);
    v = warp_sum(v);
  }
  __syncthreads();  // warp_sums may be reused by the caller's next reduction
  return v;
}

}  // namespace preimage::kernels::cuda
