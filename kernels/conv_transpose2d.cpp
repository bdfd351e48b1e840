// Geometry checks and launchers for kernels/conv_transpose2d.h.
#include "kernels/conv_transpose2d.h"
#include "kernels/cpu_isa.h"

#include "engine/error.h"
#include "kernels/cuda/conv_transpose2d.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {

ConvTranspose2dGeometry conv_transpose2d_geometry(const char* op, const Shape& x, const Shape& w,
                                                  const ConvTranspose2dParams& p) {
  PI_CHECK(x.ndim() == 4, op, ": input must be 4-d [N, C, H, W], got shape ", x.str());
  PI_CHECK(w.ndim() == 4, op, ": weight must be 4-d [C, K/groups, kh, kw], got shape ", w.str());
  PI_CHECK(p.groups >= 1, op, ": groups must be >= 1, got ", p.groups);
  PI_CHECK(p.stride_h >= 1 && p.stride_w >= 1, op, ": stride must be >= 1, got ", p.stride_h, "x", p.stride_w);
  PI_CHECK(p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 && p.pad_right >= 0, op,
           ": padding must be >= 0, got top/bottom/left/right ", p.pad_top, "/", p.pad_bottom, "/", p.pad_left, "/",
           p.pad_right);
  // As PyTorch (dilation 1): output padding only picks among the input sizes a strided conv maps to the same size.
  PI_CHECK(p.out_pad_h >= 0 && p.out_pad_w >= 0 && p.out_pad_h < p.stride_h && p.out_pad_w < p.stride_w, op,
           ": output padding ", p.out_pad_h, "x", p.out_pad_w, " must be >= 0 and smaller than the stride ",
           p.stride_h, "x", p.stride_w);
  ConvTranspose2dGeometry g{};
  g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
  g.kh = w[2], g.kw = w[3];
  g.p = p;
  PI_CHECK(g.c % p.groups == 0, op, ": input has ", g.c, " channels, which groups = ", p.groups,
           " does not divide; use a group count that divides the channels");
  PI_CHECK(w[0] == g.c, op, ": weight ", w.str(), " expects ", w[0], " input channels but the input ", x.str(),
           " has ", g.c, "; the weight layout is [C, K/groups, kh, kw]");
  PI_CHECK(w[1] >= 1 && g.kh >= 1 && g.kw >= 1, op, ": weight ", w.str(), " has an empty dimension");
  g.k = w[1] * p.groups;
  PI_CHECK(g.n >= 1 && g.h >= 1 && g.w >= 1, op, ": input ", x.str(), " is empty");
  g.ho = (g.h - 1) * p.stride_h - p.pad_top - p.pad_bottom + g.kh + p.out_pad_h;
  g.wo = (g.w - 1) * p.stride_w - p.pad_left - p.pad_right + g.kw + p.out_pad_w;
  PI_CHECK(g.ho >= 1 && g.wo >= 1, op, ": output size ", g.ho, "x", g.wo, " for input ", x.str(), ", kernel ",
           g.kh, "x", g.kw, " and padding top/bottom/left/right ", p.pad_top, "/", p.pad_bottom, "/", p.pad_left,
           "/", p.pad_right, " is not positive; reduce the padding");
  return g;
}

namespace {
// Optional operands (bias, gradients not wanted) are empty views: checked only when present.
void check_optional(const char* op, const char* what, const View& v, const Shape& expected) {
  if (!v.data) return;
  check_shape(op, what, v, expected);
  check_contiguous(op, what, v);
}
}  // namespace

void conv_transpose2d_forward(const View& x, const View& w, const View& b, const View& y,
                              const ConvTranspose2dParams& p) {
  const char* op = "conv_transpose2d";
  check_same_device(op, {&x, &w, &b, &y});
  const ConvTranspose2dGeometry g = conv_transpose2d_geometry(op, x.shape, w.shape, p);
  check_contiguous(op, "input", x);
  check_contiguous(op, "weight", w);
  check_optional(op, "bias", b, Shape{g.k});
  check_shape(op, "output", y, Shape{g.n, g.k, g.ho, g.wo});
  check_contiguous(op, "output", y);
  if (x.device == Device::cuda) return cuda::conv_transpose2d_forward(g, x.data, w.data, b.data, y.data);
  if (cpu_path() == CpuPath::reference)
    ref::conv_transpose2d_forward<float>(g, x.data, w.data, b.data, y.data);
  else
    cpu_kernels().im2col_conv_transpose2d_forward(g, x.data, w.data, b.data, y.data);
}

void conv_transpose2d_backward(const View& x, const View& w, const View& d_y, const View& d_x, const View& d_w,
                               const View& d_b, const ConvTranspose2dParams& p) {
  const char* op = "conv_transpose2d backward";
  check_same_device(op, {&x, &w, &d_y, &d_x, &d_w, &d_b});
  const ConvTranspose2dGeometry g = conv_transpose2d_geometry(op, x.shape, w.shape, p);
  check_contiguous(op, "input", x);
  check_contiguous(op, "weight", w);
  check_shape(op, "output gradient", d_y, Shape{g.n, g.k, g.ho, g.wo});
  check_contiguous(op, "output gradient", d_y);
  check_optional(op, "input gradient", d_x, x.shape);
  check_optional(op, "weight gradient", d_w, w.shape);
  check_optional(op, "bias gradient", d_b, Shape{g.k});
  if (x.device == Device::cuda)
    return cuda::conv_transpose2d_backward(g, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
  if (cpu_path() == CpuPath::reference)
    ref::conv_transpose2d_backward<float>(g, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
  else
    cpu_kernels().im2col_conv_transpose2d_backward(g, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
}

}  // namespace preimage::kernels
