#pragma once
// Device launchers for kernels/regularisers.h (kernels/cuda/regularisers.cu): raw device pointers, x / d_x
// contiguous [n, c, h, w] floats, y / d_y one float on the device (the scalar never visits the host). Same formulas
// as the ref:: templates, evaluated per pixel in double; sums are deterministic (fixed reduction tree for a given
// size). Backward functions ACCUMULATE (+=) d_y[0] * dR/dx into d_x.
#include <cstdint>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {

// CVPR alpha-norm of the mean-subtracted planes. x, d_x: [nc, hw].
void alpha_norm_forward(const float* x, int64_t nc, int64_t hw, float alpha, float* y, cudaStream_t stream = nullptr);
void alpha_norm_backward(const float* x, const float* d_y, float* d_x, int64_t nc, int64_t hw, float alpha,
                         cudaStream_t stream = nullptr);
void isotropic_alpha_norm_forward(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, float alpha, float B,
                                  float* y, cudaStream_t stream = nullptr);
void isotropic_alpha_norm_backward(const float* x, const float* d_y, float* d_x, int64_t n, int64_t c, int64_t h,
                                   int64_t w, float alpha, float B, cudaStream_t stream = nullptr);
// x, d_x: [nc, h, w]
void tv_beta_forward(const float* x, int64_t nc, int64_t h, int64_t w, float beta, float V, float* y,
                     cudaStream_t stream = nullptr);
void tv_beta_backward(const float* x, const float* d_y, float* d_x, int64_t nc, int64_t h, int64_t w, float beta,
                      float V, cudaStream_t stream = nullptr);
// x: [n, c, hw], in place
void project_ball(float* x, int64_t n, int64_t c, int64_t hw, float radius, cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
