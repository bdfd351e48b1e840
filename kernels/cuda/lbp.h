#pragma once
// Device launcher for kernels/lbp.h (kernels/cuda/lbp.cu): raw device pointers, contiguous floats, batch n. Bit for
// bit the CPU reference (same float expressions in the same order, no FMA contraction, cells summing their pixels in
// the reference's raster order).
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/lbp.h"

namespace preimage::kernels::cuda {

// image [n, 1, h, w] -> out [n, 58, h / cell, w / cell]
void lbp_forward(int64_t n, int64_t h, int64_t w, int cell, const float* image, float* out,
                 cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
