// Launchers for kernels/softmax.h.
#include "kernels/softmax.h"

#include "kernels/cuda/softmax.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
struct SoftmaxDims {
  int64_t n, c, inner;
};
SoftmaxDims softmax_dims(const char* op, const View& x) {
  PI_CHECK(x.shape.ndim() >= 2, op, ": input must be [N, C, ...] with at least 2 dims (softmax runs over dim 1), ",
           "got shape ", x.shape.str());
  PI_CHECK(x.shape[1] >= 1, op, ": dim 1 is empty in shape ", x.shape.str());
  SoftmaxDims d{x.shape[0], x.shape[1], 1};
  for (int i = 2; i < x.shape.ndim(); ++i) d.inner *= x.shape[i];
  return d;
}
}  // namespace

void softmax_forward(const View& x, const View& y) {
  const char* op = "softmax";
  check_same_device(op, {&x, &y});
  const SoftmaxDims d = softmax_dims(op, x);
  check_same_shape(op, x, y);
  check_contiguous(op, "input", x);
  check_contiguous(op, "output", y);
  if (x.device == Device::cuda) return cuda::softmax_forward(d.n, d.c, d.inner, x.data, y.data);
  ref::softmax_forward(d.n, d.c, d.inner, x.data, y.data);
}

void softmax_backward(const View& y, const View& d_y, const View& d_x) {
  const char* op = "softmax backward";
  check_same_device(op, {&y, &d_y, &d_x});
  const SoftmaxDims d = softmax_dims(op, y);
  check_same_shape(op, y, d_y);
  check_same_shape(op, y, d_x);
  check_contiguous(op, "output", y);
  check_contiguous(op, "d_y", d_y);
  check_contiguous(op, "d_x", d_x);
  if (y.device == Device::cuda) return cuda::softmax_backward(d.n, d.c, d.inner, y.data, d_y.data, d_x.data);
  ref::softmax_backward(d.n, d.c, d.inner, y.data, d_y.data, d_x.data);
}

}  // namespace preimage::kernels
