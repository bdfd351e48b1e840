// Launchers for kernels/dropout.h.
#include "kernels/dropout.h"

#include "kernels/cuda/dropout.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
void check_dropout(const char* op, const View& a, const View& b, float p) {
  PI_CHECK(p >= 0.0f && p <= 1.0f, op, ": drop probability must be in [0, 1], got ", p);
  check_same_device(op, {&a, &b});
  check_same_shape(op, a, b);
  check_contiguous(op, "input", a);
  check_contiguous(op, "output", b);
}
}  // namespace

void dropout_forward(const View& x, const View& y, float p, uint64_t seed) {
  check_dropout("dropout", x, y, p);
  if (x.device == Device::cuda) return cuda::dropout_forward(x.numel(), p, seed, x.data, y.data);
  ref::dropout_forward(x.data, y.data, x.numel(), p, seed);
}

void dropout_backward(const View& d_y, const View& d_x, float p, uint64_t seed) {
  check_dropout("dropout backward", d_y, d_x, p);
  if (d_y.device == Device::cuda) return cuda::dropout_backward(d_y.numel(), p, seed, d_y.data, d_x.data);
  ref::dropout_backward(d_y.data, d_x.data, d_y.numel(), p, seed);
}

}  // namespace preimage::kernels
