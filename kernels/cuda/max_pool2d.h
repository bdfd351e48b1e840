#pragma once
// Device launchers for kernels/max_pool2d.h (kernels/cuda/max_pool2d.cu): raw device pointers, contiguous NCHW
// floats, geometry from max_pool2d_geometry. Same tie rule as the reference (first maximum in row-major window
// order, NaN wins). Backward ACCUMULATES into d_x, deterministically (a gather, no atomics).
#include <cuda_runtime_api.h>

#include "kernels/max_pool2d.h"

namespace preimage::kernels::cuda {

// x [N, C, H, W], y [N, C, Ho, Wo]
void max_pool2d_forward(const MaxPool2dGeometry& g, const float* x, float* y, cudaStream_t stream = nullptr);
// x, d_x [N, C, H, W], d_y [N, C, Ho, Wo]
void max_pool2d_backward(const MaxPool2dGeometry& g, const float* x, const float* d_y, float* d_x,
                         cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
