#pragma once
// Softmax over dim 1 of [N, C, ...] (classes of [N, C]; channels of each pixel of NCHW), as PyTorch
// F.softmax(x, dim=1):  y[n,c,i] = exp(x[n,c,i] - m[n,i]) / sum_c' exp(x[n,c',i] - m[n,i]),  m = max_c x[n,c,i]
// (subtracting the max changes nothing mathematically and keeps exp from overflowing).
// Backward from the output: d_x[n,c,i] += y[n,c,i] * (d_y[n,c,i] - sum_c' d_y[n,c',i] y[n,c',i]).
// Backward accumulates into d_x.
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

namespace ref {
template <typename T> void softmax_forward(int64_t n, int64_t c, int64_t inner, const T* x, T* y);
template <typename T>
void softmax_backward(int64_t n, int64_t c, int64_t inner, const T* y, const T* d_y, T* d_x);
}  // namespace ref

void softmax_forward(const View& x, const View& y);
// y is softmax_forward's output (not x).
void softmax_backward(const View& y, const View& d_y, const View& d_x);

}  // namespace preimage::kernels
