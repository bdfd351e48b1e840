#pragma once
// Elementwise ops and reductions over whole tensors.
//   add:        y = a + b                        (same shapes)
//   mul:        y = a * b                        (same shapes)
//   scale:      y = s * a
//   masked_mul: y = a * m, m a fixed (non-differentiated) mask of a's shape
//   sum / mean: scalar y = sum_i a_i (or / n)
// Backward functions ACCUMULATE into their d_* outputs (+=), like every backward in the engine.
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

namespace ref {  // CPU reference: the spec, plain loops, instantiated for float and double
template <typename T> void add_into(T* y, const T* x, int64_t n);             // y[n] += x[n]
template <typename T> void axpy_into(T* y, T s, const T* x, int64_t n);       // y[n] += s * x[n]
template <typename T> void add_forward(const T* a, const T* b, T* y, int64_t n);
template <typename T> void mul_forward(const T* a, const T* b, T* y, int64_t n);
template <typename T> void mul_backward(const T* a, const T* b, const T* d_y, T* d_a, T* d_b, int64_t n);  // nullable d_*
template <typename T> void scale_forward(const T* a, T s, T* y, int64_t n);
template <typename T> T sum(const T* a, int64_t n);                          // pairwise-free, double accumulator
}  // namespace ref

// Launchers (check operands, dispatch on device).
void add_into(const View& y, const View& x);                 // y += x
void axpy_into(const View& y, float s, const View& x);       // y += s x
void add_forward(const View& a, const View& b, const View& y);
void mul_forward(const View& a, const View& b, const View& y);
void mul_backward(const View& a, const View& b, const View& d_y, const View& d_a, const View& d_b);
void scale_forward(const View& a, float s, const View& y);
void sum_forward(const View& a, const View& y);              // y: one element
void broadcast_add_into(const View& d_a, const View& d_y, float s);  // d_a[i] += s * d_y[0] (sum/mean backward)

}  // namespace preimage::kernels
