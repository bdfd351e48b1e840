#pragma once
// Pointwise activations. relu: y = max(x, 0), derivative 0 at x = 0 (as PyTorch). leaky_relu: y = x if x > 0 else
// slope * x (slope 0.2 in seed 002). Backward accumulates into d_x.
#include "engine/tensor.h"

namespace preimage::kernels {

namespace ref {
template <typename T> void leaky_relu_forward(const T* x, T* y, int64_t n, T slope);   // slope 0 = relu
template <typename T> void leaky_relu_backward(const T* x, const T* d_y, T* d_x, int64_t n, T slope);
}  // namespace ref

namespace simd {  // branch-free select, float; bit for bit the reference (kernels/cpu/activation_simd.cpp)
void leaky_relu_forward(const float* x, float* y, int64_t n, float slope);
void leaky_relu_backward(const float* x, const float* d_y, float* d_x, int64_t n, float slope);
}  // namespace simd

void relu_forward(const View& x, const View& y);
void relu_backward(const View& x, const View& d_y, const View& d_x);
void leaky_relu_forward(const View& x, const View& y, float slope);
void leaky_relu_backward(const View& x, const View& d_y, const View& d_x, float slope);

}  // namespace preimage::kernels
