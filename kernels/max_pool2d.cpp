// Output geometry and launchers for kernels/max_pool2d.h.
#include "kernels/max_pool2d.h"

#include "kernels/cuda/max_pool2d.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
// Output length along one axis (PyTorch pooling_output_shape_pad_lr, aten/src/ATen/native/Pool.h).
int64_t pooled_size(int64_t in, int k, int s, int pad_lo, int pad_hi, bool ceil_mode) {
  const int64_t span = in + pad_lo + pad_hi - k;  // >= 0, checked by the caller
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // In ceil mode the extra window may start in the trailing padding only; PyTorch drops it (Caffe does the same,
  // but only when pad != 0, and otherwise pools an empty window to -FLT_MAX).
  if (ceil_mode && (out - 1) * s >= in + pad_lo) --out;
  return out;
}
}  // namespace

MaxPool2dGeometry max_pool2d_geometry(const char* op, const Shape& x, const MaxPool2dParams& p) {
  PI_CHECK(x.ndim() == 4, op, ": input must be 4-d [N, C, H, W], got shape ", x.str());
  PI_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1, op, ": kernel must be at least 1x1, got ", p.kernel_h, "x",
           p.kernel_w);
  PI_CHECK(p.stride_h >= 1 && p.stride_w >= 1, op, ": stride must be at least 1, got ", p.stride_h, "x",
           p.stride_w);
  PI_CHECK(p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 && p.pad_right >= 0, op,
           ": padding must be >= 0, got top/bottom/left/right ", p.pad_top, "/", p.pad_bottom, "/", p.pad_left, "/",
           p.pad_right);
  // A pad as wide as the kernel would make a window see only -inf padding (an output with no input behind it).
  PI_CHECK(p.pad_top < p.kernel_h && p.pad_bottom < p.kernel_h && p.pad_left < p.kernel_w &&
               p.pad_right < p.kernel_w,
           op, ": each padding must be smaller than the kernel (", p.kernel_h, "x", p.kernel_w,
           "), got top/bottom/left/right ", p.pad_top, "/", p.pad_bottom, "/", p.pad_left, "/", p.pad_right);
  MaxPool2dGeometry g{x[0], x[1], x[2], x[3], 0, 0, p};
  const int64_t span_h = g.h + p.pad_top + p.pad_bottom, span_w = g.w + p.pad_left + p.pad_right;
  PI_CHECK(span_h >= p.kernel_h && span_w >= p.kernel_w, op, ": output size would be <= 0: padded input ", span_h,
           "x", span_w, " (from ", x.str(), ") is smaller than the kernel ", p.kernel_h, "x", p.kernel_w,
           "; use a smaller kernel or more padding");
  g.ho = pooled_size(g.h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, p.ceil_mode);
  g.wo = pooled_size(g.w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right, p.ceil_mode);
  return g;
}

void max_pool2d_forward(const View& x, const View& y, const MaxPool2dParams& p) {
  const char* op = "max_pool2d";
  check_same_device(op, {&x, &y});
  const MaxPool2dGeometry g = max_pool2d_geometry(op, x.shape, p);
  check_shape(op, "output", y, Shape{g.n, g.c, g.ho, g.wo});
  check_contiguous(op, "input", x);
  check_contiguous(op, "output", y);
  if (x.device == Device::cuda) return cuda::max_pool2d_forward(g, x.data, y.data);
  ref::max_pool2d_forward(g, x.data, y.data);
}

void max_pool2d_backward(const View& x, const View& d_y, const View& d_x, const MaxPool2dParams& p) {
  const char* op = "max_pool2d backward";
  check_same_device(op, {&x, &d_y, &d_x});
  const MaxPool2dGeometry g = max_pool2d_geometry(op, x.shape, p);
  check_shape(op, "d_y", d_y, Shape{g.n, g.c, g.ho, g.wo});
  check_shape(op, "d_x", d_x, x.shape);
  check_contiguous(op, "input", x);
  check_contiguous(op, "d_y", d_y);
  check_contiguous(op, "d_x", d_x);
  if (x.device == Device::cuda) return cuda::max_pool2d_backward(g, x.data, d_y.data, d_x.data);
  ref::max_pool2d_backward(g, x.data, d_y.data, d_x.data);
}

}  // namespace preimage::kernels
