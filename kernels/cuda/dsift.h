#pragma once
// Device launchers for kernels/dsift.h (kernels/cuda/dsift.cu): raw device pointers, contiguous floats, batch n,
// geometry from dsift_geometry. The CPU reference's expressions in its order (no FMA contraction), so DsiftMath::vlfeat
// is the reference bit for bit; DsiftMath::exact and the backward go through the device's atan2f/sqrtf
// (docs/cuda_kernels_features.md). Backward ACCUMULATES into d_image, deterministically (gathers, no atomics).
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/dsift.h"

namespace preimage::kernels::cuda {

// The 1-d window kernels travel as a kernel parameter: bin sizes up to this on the device.
constexpr int kDsiftMaxBinSize = 64;

// image [n, 1, H, W] -> out [n, 128, FY, FX]
void dsift_forward(int64_t n, const DsiftGeometry& g, DsiftMath math, const float* image, float* out,
                   cudaStream_t stream = nullptr);
// image, d_image [n, 1, H, W], d_out [n, 128, FY, FX]: d_image += J^T d_out of the exact-math forward.
void dsift_backward(int64_t n, const DsiftGeometry& g, const float* image, const float* d_out, float* d_image,
                    cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
