#pragma once
// What every kernels/cuda/*.cu file includes: the CUDA runtime and language (nvcc's own, or the emulator's in the
// PREIMAGE_CUDA_EMULATION build, docs/cuda_emulation.md), the launch macro, launch checking and grid sizing.
//
//   PI_LAUNCH(kernel, grid, block, shared_bytes, stream)(args...);   then PI_CUDA_CHECK_LAUNCH("kernel");
//
// expands to kernel<<<grid, block, shared_bytes, stream>>>(args...) under nvcc and to preimage::emu::launch, which
// g++ can compile, in the emulated build. A template kernel whose arguments contain commas goes in parentheses:
// PI_LAUNCH((tile_kernel<float, 4>), ...). Dynamic shared memory is declared with PI_DYNAMIC_SHARED(float, tile)
// instead of `extern __shared__ float tile[]` (it also avoids nvcc's clash between differently typed declarations).
#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

#include "engine/cuda_check.h"

#ifdef PREIMAGE_CUDA_EMULATION
#define PI_LAUNCH(kernel, grid, block, shared_bytes, stream) \
  ::preimage::emu::launch(kernel, #kernel, (grid), (block), (shared_bytes), (stream))
#define PI_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::preimage::emu::dynamic_shared_memory())
#else
#define PI_LAUNCH(kernel, grid, block, shared_bytes, stream) kernel<<<(grid), (block), (shared_bytes), (stream)>>>
#define PI_DYNAMIC_SHARED(type, name)                                \
  extern __shared__ __align__(16) unsigned char pi_dynamic_shared_[]; \
  type* name = reinterpret_cast<type*>(pi_dynamic_shared_)
#endif

namespace preimage::kernels::cuda {

// Blocks for a grid-stride loop over n items with `threads` per block: one item per thread up to max_blocks
// (enough to fill an H100 several times over), then each thread loops.
inline unsigned grid_stride_blocks(int64_t n, unsigned threads, unsigned max_blocks = 4096) {
  if (n <= 0) return 1;
  const int64_t blocks = (n + threads - 1) / threads;
  return blocks < max_blocks ? static_cast<unsigned>(blocks) : max_blocks;
}

}  // namespace preimage::kernels::cuda
