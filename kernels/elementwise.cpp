// Launchers for kernels/elementwise.h.
#include "kernels/elementwise.h"

#include "kernels/cuda/elementwise.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
void check_pair(const char* op, const View& a, const View& b) {
  check_same_device(op, {&a, &b});
  check_same_shape(op, a, b);
  check_contiguous(op, "first operand", a);
  check_contiguous(op, "second operand", b);
}
}  // namespace

void add_into(const View& y, const View& x) {
  check_pair("add_into", y, x);
  if (y.device == Device::cuda) return cuda::add_into(y.data, x.data, y.numel());
  ref::add_into(y.data, x.data, y.numel());
}

void axpy_into(const View& y, float s, const View& x) {
  check_pair("axpy_into", y, x);
  if (y.device == Device::cuda) return cuda::axpy_into(y.data, s, x.data, y.numel());
  ref::axpy_into(y.data, s, x.data, y.numel());
}

void add_forward(const View& a, const View& b, const View& y) {
  check_pair("add", a, b);
  check_pair("add", a, y);
  if (y.device == Device::cuda) return cuda::add_forward(a.data, b.data, y.data, y.numel());
  ref::add_forward(a.data, b.data, y.data, y.numel());
}

void mul_forward(const View& a, const View& b, const View& y) {
  check_pair("mul", a, b);
  check_pair("mul", a, y);
  if (y.device == Device::cuda) return cuda::mul_forward(a.data, b.data, y.data, y.numel());
  ref::mul_forward(a.data, b.data, y.data, y.numel());
}

void mul_backward(const View& a, const View& b, const View& d_y, const View& d_a, const View& d_b) {
  check_pair("mul backward", a, b);
  check_pair("mul backward", a, d_y);
  if (d_a.data) check_pair("mul backward", a, d_a);
  if (d_b.data) check_pair("mul backward", a, d_b);
  if (a.device == Device::cuda) return cuda::mul_backward(a.data, b.data, d_y.data, d_a.data, d_b.data, a.numel());
  ref::mul_backward(a.data, b.data, d_y.data, d_a.data, d_b.data, a.numel());
}

void scale_forward(const View& a, float s, const View& y) {
  check_pair("scale", a, y);
  if (y.device == Device::cuda) return cuda::scale_forward(a.data, s, y.data, y.numel());
  ref::scale_forward(a.data, s, y.data, y.numel());
}

void sum_forward(const View& a, const View& y) {
  check_same_device("sum", {&a, &y});
  check_contiguous("sum", "input", a);
  PI_CHECK(y.numel() == 1, "sum: output must have one element, got ", y.shape.str());
  if (a.device == Device::cuda) return cuda::sum_forward(a.data, a.numel(), y.data);
  y.data[0] = ref::sum(a.data, a.numel());
}

void broadcast_add_into(const View& d_a, const View& d_y, float s) {
  check_same_device("sum backward", {&d_a, &d_y});
  PI_CHECK(d_y.numel() == 1, "sum backward: d_y must have one element");
  check_contiguous("sum backward", "d_a", d_a);
  if (d_a.device == Device::cuda) return cuda::broadcast_add_into(d_a.data, d_y.data, s, d_a.numel());
  const float g = s * d_y.data[0];
  for (int64_t i = 0; i < d_a.numel(); ++i) d_a.data[i] += g;
}

}  // namespace preimage::kernels
