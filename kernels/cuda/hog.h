#pragma once
// Device launchers for kernels/hog.h (kernels/cuda/hog.cu): raw device pointers, contiguous NCHW floats, batch n.
// Every value is the CPU reference's bit for bit (same float/double expressions, same summation order, no FMA
// contraction) except the HOGb angle weight, which goes through the device's acosf (docs/cuda_kernels_features.md).
// Backward functions ACCUMULATE (+=) into d_*, deterministically (gathers, no atomics).
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/hog.h"

namespace preimage::kernels::cuda {

// The orientation axes travel as a kernel parameter: at most this many orientations on the device.
constexpr int kHogMaxOrientations = 64;

// image [n, c, h, w] -> grad [n, 2, h, w], channel [n, 1, h, w]
void hog_gradient_forward(int64_t n, int64_t c, int64_t h, int64_t w, const float* image, float* grad,
                          float* channel, cudaStream_t stream = nullptr);
// channel [n, 1, h, w], d_grad [n, 2, h, w] -> d_image [n, c, h, w] (+=)
void hog_gradient_backward(int64_t n, int64_t c, int64_t h, int64_t w, const float* channel, const float* d_grad,
                           float* d_image, cudaStream_t stream = nullptr);
// grad [n, 2, h, w] -> hist [n, 2*NO, hogH, hogW]
void hog_binning_forward(int64_t n, int64_t h, int64_t w, const HogBinningParams& p, const float* grad, float* hist,
                         cudaStream_t stream = nullptr);
// grad [n, 2, h, w], d_hist [n, 2*NO, hogH, hogW] -> d_grad [n, 2, h, w] (+=)
void hog_binning_backward(int64_t n, int64_t h, int64_t w, const HogBinningParams& p, const float* grad,
                          const float* d_hist, float* d_grad, cudaStream_t stream = nullptr);
// hist [n, 2*NO, hogH, hogW] -> out [n, D, hogH, hogW]
void hog_normalise_forward(int64_t n, int64_t hog_h, int64_t hog_w, int num_orientations, HogVariant v,
                           const float* hist, float* out, cudaStream_t stream = nullptr);
// hist, d_out [n, D, hogH, hogW] -> d_hist [n, 2*NO, hogH, hogW] (+=)
void hog_normalise_backward(int64_t n, int64_t hog_h, int64_t hog_w, int num_orientations, HogVariant v,
                            const float* hist, const float* d_out, float* d_hist, cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
