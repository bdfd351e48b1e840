#pragma once
// Fully connected layer, PyTorch layout: x: [N, I] (any trailing shape is flattened to I), w: [O, I], b: [O],
// y: [N, O], y = x w^T + b. Backward accumulates into d_x, d_w, d_b (nullable).
#include "engine/tensor.h"

namespace preimage::kernels {

namespace ref {
template <typename T>
void linear_forward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* b, T* y);
template <typename T>
void linear_backward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* d_y, T* d_x, T* d_w,
                     T* d_b);
}  // namespace ref

namespace gemm {  // Eigen GEMM, float
void linear_forward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* b, float* y);
void linear_backward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* d_y,
                     float* d_x, float* d_w, float* d_b);
}  // namespace gemm

void linear_forward(const View& x, const View& w, const View& b, const View& y);
void linear_backward(const View& x, const View& w, const View& d_y, const View& d_x, const View& d_w,
                     const View& d_b);

}  // namespace preimage::kernels
