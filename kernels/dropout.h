#pragma once
// Inverted dropout (Srivastava et al. 2014; PyTorch nn.Dropout): in training, element i is kept iff
//   u_i = philox_uniform(seed, i) >= p          (engine/rng.h; i is the flat element index, stream 0)
// and y_i = keep_i ? x_i / (1 - p) : 0, so E[y] = x. p = 0 is the identity (no draws); p = 1 zeroes everything.
// No mask is stored: backward redraws it from (seed, i), so d_x_i += keep_i ? d_y_i / (1 - p) : 0, and a CUDA kernel
// indexing the same counters makes the same mask. Eval mode is the identity (the tape op passes p = 0).
// Backward accumulates into d_x.
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

namespace ref {
// mask[n] = keep_i ? 1 / (1 - p) : 0 -- the factor forward and backward multiply by.
template <typename T> void dropout_mask(T* mask, int64_t n, float p, uint64_t seed);
template <typename T> void dropout_forward(const T* x, T* y, int64_t n, float p, uint64_t seed);
template <typename T> void dropout_backward(const T* d_y, T* d_x, int64_t n, float p, uint64_t seed);
}  // namespace ref

void dropout_forward(const View& x, const View& y, float p, uint64_t seed);
void dropout_backward(const View& d_y, const View& d_x, float p, uint64_t seed);

}  // namespace preimage::kernels
