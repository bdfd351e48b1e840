// Launchers for kernels/linear.h.
#include "kernels/linear.h"
#include "kernels/cpu_isa.h"

#include "engine/error.h"
#include "kernels/cuda/linear.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
struct LinearSizes {
  int64_t n, in, out;
};

// x: [N, ...] (flattened to [N, I])  w: [O, I]
LinearSizes linear_sizes(const char* op, const View& x, const View& w) {
  PI_CHECK(x.shape.ndim() >= 2, op, ": input must be [N, I] or [N, ...] (flattened), got shape ", x.shape.str());
  PI_CHECK(w.shape.ndim() == 2, op, ": weight must be 2-d [O, I], got shape ", w.shape.str());
  const int64_t n = x.shape[0];
  PI_CHECK(n >= 1, op, ": input ", x.shape.str(), " has an empty batch");
  const int64_t in = x.numel() / n;
  PI_CHECK(w.shape[1] == in, op, ": weight ", w.shape.str(), " expects ", w.shape[1],
           " input features but the input ", x.shape.str(), " has ", in, " per sample; the weight layout is [O, I]");
  PI_CHECK(w.shape[0] >= 1 && in >= 1, op, ": weight ", w.shape.str(), " has an empty dimension");
  check_contiguous(op, "input", x);
  check_contiguous(op, "weight", w);
  return LinearSizes{n, in, w.shape[0]};
}

void check_optional(const char* op, const char* what, const View& v, const Shape& expected) {
  if (!v.data) return;
  check_shape(op, what, v, expected);
  check_contiguous(op, what, v);
}
}  // namespace

void linear_forward(const View& x, const View& w, const View& b, const View& y) {
  const char* op = "linear";
  check_same_device(op, {&x, &w, &b, &y});
  const LinearSizes s = linear_sizes(op, x, w);
  check_optional(op, "bias", b, Shape{s.out});
  check_shape(op, "output", y, Shape{s.n, s.out});
  check_contiguous(op, "output", y);
  if (x.device == Device::cuda) return cuda::linear_forward(s.n, s.in, s.out, x.data, w.data, b.data, y.data);
  if (cpu_path() == CpuPath::reference)
    ref::linear_forward<float>(s.n, s.in, s.out, x.data, w.data, b.data, y.data);
  else
    cpu_kernels().gemm_linear_forward(s.n, s.in, s.out, x.data, w.data, b.data, y.data);
}

void linear_backward(const View& x, const View& w, const View& d_y, const View& d_x, const View& d_w,
                     const View& d_b) {
  const char* op = "linear backward";
  check_same_device(op, {&x, &w, &d_y, &d_x, &d_w, &d_b});
  const LinearSizes s = linear_sizes(op, x, w);
  check_shape(op, "output gradient", d_y, Shape{s.n, s.out});
  check_contiguous(op, "output gradient", d_y);
  check_optional(op, "input gradient", d_x, x.shape);
  check_optional(op, "weight gradient", d_w, w.shape);
  check_optional(op, "bias gradient", d_b, Shape{s.out});
  if (x.device == Device::cuda)
    return cuda::linear_backward(s.n, s.in, s.out, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
  if (cpu_path() == CpuPath::reference)
    ref::linear_backward<float>(s.n, s.in, s.out, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
  else
    cpu_kernels().gemm_linear_backward(s.n, s.in, s.out, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
}

}  // namespace preimage::kernels
