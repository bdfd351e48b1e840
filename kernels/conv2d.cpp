// Geometry checks and launchers for kernels/conv2d.h.
#include "kernels/conv2d.h"
#include "kernels/cpu_isa.h"

#include <algorithm>

#include "engine/error.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {

Conv2dGeometry conv2d_geometry(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  PI_CHECK(x.ndim() == 4, op, ": input must be 4-d [N, C, H, W], got shape ", x.str());
  PI_CHECK(w.ndim() == 4, op, ": weight must be 4-d [K, C/groups, kh, kw], got shape ", w.str());
  PI_CHECK(p.groups >= 1, op, ": groups must be >= 1, got ", p.groups);
  PI_CHECK(p.stride_h >= 1 && p.stride_w >= 1, op, ": stride must be >= 1, got ", p.stride_h, "x", p.stride_w);
  PI_CHECK(p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 && p.pad_right >= 0, op,
           ": padding must be >= 0, got top/bottom/left/right ", p.pad_top, "/", p.pad_bottom, "/", p.pad_left, "/",
           p.pad_right);
  Conv2dGeometry g{};
  g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
  g.k = w[0], g.kh = w[2], g.kw = w[3];
  g.p = p;
  PI_CHECK(g.c % p.groups == 0, op, ": input has ", g.c, " channels, which groups = ", p.groups,
           " does not divide; use a group count that divides the channels");
  PI_CHECK(g.k % p.groups == 0, op, ": weight has ", g.k, " filters, which groups = ", p.groups,
           " does not divide; use a group count that divides the filters");
  PI_CHECK(w[1] == g.c / p.groups, op, ": weight ", w.str(), " expects ", w[1] * p.groups,
           " input channels (C/groups = ", w[1], " with groups = ", p.groups, ") but the input ", x.str(), " has ",
           g.c, "; the weight layout is [K, C/groups, kh, kw]");
  PI_CHECK(g.kh >= 1 && g.kw >= 1, op, ": kernel size must be >= 1, got ", g.kh, "x", g.kw);
  const int64_t span_h = g.h + p.pad_top + p.pad_bottom, span_w = g.w + p.pad_left + p.pad_right;
  PI_CHECK(g.n >= 1 && g.h >= 1 && g.w >= 1 && span_h >= g.kh && span_w >= g.kw, op, ": input ", x.str(),
           " padded to ", span_h, "x", span_w, " is smaller than the ", g.kh, "x", g.kw,
           " kernel, so the output would be empty; use a larger input or more padding");
  g.ho = (span_h - g.kh) / p.stride_h + 1;
  g.wo = (span_w - g.kw) / p.stride_w + 1;
  return g;
}

namespace {
// Winograd F(2x2, 3x3) beats im2col + GEMM once its GEMMs are deep enough (depth: input channels forward,
// filters for the input gradient, a convolution of d_y) that the transforms (O(C + K) per tile) are small next to
// the products (O(C K) per tile), and the map large enough that the per-call filter transform (16 K C floats
// written, then read by every tile block) is amortised. Measured single-threaded (docs/benchmarks.md): VGG-16's
// 224..28 maps gain, its 14x14 conv5 (49 tiles) loses to im2col; conv1_1 (3 -> 64) loses forward (depth 3) but
// its input gradient (depth 64, 3 rows) takes about half im2col's time.
constexpr int64_t kWinogradMinChannels = 16;
constexpr int64_t kWinogradMinPixels = 400;
bool winograd_pays(const Conv2dGeometry& g, int64_t depth) {
  return winograd::applies(g) && depth >= kWinogradMinChannels &&
         std::min(g.h * g.w, g.ho * g.wo) >= kWinogradMinPixels;
}
bool use_winograd_forward(const Conv2dGeometry& g) { return winograd_pays(g, g.c) && g.k >= kWinogradMinChannels; }
bool use_winograd_input_gradient(const Conv2dGeometry& g) { return winograd_pays(g, g.k); }
// Optional operands (bias, gradients not wanted) are empty views: checked only when present.
void check_optional(const char* op, const char* what, const View& v, const Shape& expected) {
  if (!v.data) return;
  check_shape(op, what, v, expected);
  check_contiguous(op, what, v);
}
void check_operands(const char* op, const View& x, const View& w, const Conv2dGeometry& g, const View& b) {
  check_contiguous(op, "input", x);
  check_contiguous(op, "weight", w);
  check_optional(op, "bias", b, Shape{g.k});
}
}  // namespace

void conv2d_forward(const View& x, const View& w, const View& b, const View& y, const Conv2dParams& p) {
  const char* op = "conv2d";
  check_same_device(op, {&x, &w, &b, &y});
  const Conv2dGeometry g = conv2d_geometry(op, x.shape, w.shape, p);
  check_operands(op, x, w, g, b);
  check_shape(op, "output", y, Shape{g.n, g.k, g.ho, g.wo});
  check_contiguous(op, "output", y);
  if (x.device == Device::cuda) return cuda::conv2d_forward(g, x.data, w.data, b.data, y.data);
  if (cpu_path() == CpuPath::reference)
    ref::conv2d_forward<float>(g, x.data, w.data, b.data, y.data);
  else if (use_winograd_forward(g))
    cpu_kernels().winograd_conv2d_forward(g, x.data, w.data, b.data, y.data);
  else
    cpu_kernels().im2col_conv2d_forward(g, x.data, w.data, b.data, y.data);
}

void conv2d_backward(const View& x, const View& w, const View& d_y, const View& d_x, const View& d_w,
                     const View& d_b, const Conv2dParams& p) {
  const char* op = "conv2d backward";
  check_same_device(op, {&x, &w, &d_y, &d_x, &d_w, &d_b});
  const Conv2dGeometry g = conv2d_geometry(op, x.shape, w.shape, p);
  check_operands(op, x, w, g, View());
  check_shape(op, "output gradient", d_y, Shape{g.n, g.k, g.ho, g.wo});
  check_contiguous(op, "output gradient", d_y);
  check_optional(op, "input gradient", d_x, x.shape);
  check_optional(op, "weight gradient", d_w, w.shape);
  check_optional(op, "bias gradient", d_b, Shape{g.k});
  if (x.device == Device::cuda) return cuda::conv2d_backward(g, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
  if (cpu_path() == CpuPath::reference) {
    ref::conv2d_backward<float>(g, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
  } else if (use_winograd_input_gradient(g) && d_x.data) {
    cpu_kernels().winograd_conv2d_backward_input(g, w.data, d_y.data, d_x.data);
    if (d_w.data || d_b.data) cpu_kernels().im2col_conv2d_backward(g, x.data, w.data, d_y.data, nullptr, d_w.data, d_b.data);
  } else {
    cpu_kernels().im2col_conv2d_backward(g, x.data, w.data, d_y.data, d_x.data, d_w.data, d_b.data);
  }
}

}  // namespace preimage::kernels
