#pragma once
// Kernels that probe the SIMT semantics the emulator must reproduce (tests/gpu/simt_probes.cu), run by
// tests/gpu/test_simt.cpp on the emulated device in CI and on a real GPU when one is present, so the emulator is
// checked against the hardware itself. Pointers are device pointers; each launcher checks its launch.
#include <cstddef>

namespace preimage::test::simt {

// block (threads): `rounds` times, every thread publishes a value in __shared__ memory, then reads its right
// neighbour's after a barrier. out[t] = (t + rounds) % threads + rounds.
void barrier_rotate(int* out, unsigned threads, int rounds);
// grid (gx, gy, gz) of blocks of `threads` (a power of 2): tree reduction in static shared memory;
// sums[linear block] = sum of x[linear block * threads + t].
void block_tree_sum(const float* x, float* sums, unsigned gx, unsigned gy, unsigned gz, unsigned threads);
constexpr int kShuffleProbes = 12;
// out[t * kShuffleProbes + k]: probe k of thread t (see simt_probes.cu), blocks of `threads`.
void shuffles(int* out, unsigned threads);
// Reverses each block's slice of x through dynamic shared memory of `shared_floats` floats (>= threads);
// shared_floats * 4 above 48 KiB needs raise_limit (cudaFuncSetAttribute).
void dynamic_reverse(const float* x, float* y, unsigned blocks, unsigned threads, unsigned shared_floats,
                     bool raise_limit);
// Every thread of blocks x threads: atomicAdd(fsum, 1), atomicAdd(isum, g), atomicMax(imax, (37 g) % 1001),
// atomicInc(count, big), a CAS loop adding g to cas_sum (g = global thread index).
void atomics(float* fsum, int* isum, int* imax, unsigned* count, int* cas_sum, unsigned blocks, unsigned threads);
// 3-D blocks and grids: out[global linear thread] = packed (threadIdx, blockIdx, blockDim, warp leader).
void indices_3d(int* out, unsigned bx, unsigned by, unsigned bz, unsigned gx, unsigned gy, unsigned gz);
// out[0..3] = __syncthreads_count(t % 3 == 0), _and(t < threads), _or(t == threads - 1), _and(t + 1 < threads).
void barrier_votes(int* out, unsigned threads);
// A launch with an invalid block size (must fail in PI_CUDA_CHECK_LAUNCH).
void launch_too_many_threads(int* out);
// Lanes 0-15 of the only warp wait at __syncthreads while lanes 16-31 wait in __syncwarp(full mask): a deadlock
// (undefined on a GPU; the emulator must report it). Emulated build only.
void divergent_deadlock(int* out);
#ifdef PREIMAGE_CUDA_EMULATION
// One thread with a 256 KiB local array: overflows its emulated fiber stack (64 KiB by default).
void stack_overflow(int* out);
#endif

}  // namespace preimage::test::simt
