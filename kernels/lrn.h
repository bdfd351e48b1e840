#pragma once
// Cross-channel local response normalisation (Krizhevsky et al.; Caffe's LRN layer, ACROSS_CHANNELS):
//   y[n,c,h,w] = x[n,c,h,w] / (k + (alpha / size) * sum_{c' in window(c)} x[n,c',h,w]^2)^beta
// window(c) = [c - (size-1)/2, c + size/2] clipped to the channels (size odd in practice).
// Convention: `alpha` here is Caffe's (the sum is multiplied by alpha/size), as PyTorch's LocalResponseNorm.
// PyTorch's window is [c - size/2, c + (size-1)/2]: the same as Caffe's for odd sizes, one channel shifted for even.
// MatConvNet stores alpha already divided by size: convert with lrn_params_from_matconvnet().
// Backward accumulates into d_x.
#include "engine/tensor.h"

namespace preimage::kernels {

struct LrnParams {
  int size = 5;
  float alpha = 1e-4f;  // Caffe convention
  float beta = 0.75f;
  float k = 1.0f;
};
// MatConvNet's normalize layer stores [N, kappa, alpha', beta] with alpha' = alpha / N.
LrnParams lrn_params_from_matconvnet(int n, float kappa, float alpha_divided, float beta);

namespace ref {
template <typename T>
void lrn_forward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const T* x, T* y);
template <typename T>
void lrn_backward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const T* x, const T* d_y, T* d_x);
}  // namespace ref

namespace pixelblock {  // blocks of pixels through all channels, vectorised across pixels, float (kernels/cpu/lrn_pixelblock.cpp)
void lrn_forward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const float* x, float* y);
void lrn_backward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const float* x, const float* d_y, float* d_x);
}  // namespace pixelblock

void lrn_forward(const View& x, const View& y, const LrnParams& p);
void lrn_backward(const View& x, const View& d_y, const View& d_x, const LrnParams& p);

}  // namespace preimage::kernels
