// Launchers for kernels/shape_ops.h.
#include "kernels/shape_ops.h"

#include "kernels/cuda/shape_ops.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {

Shape concat_channels_shape(const std::vector<Shape>& shapes) {
  PI_CHECK(!shapes.empty(), "concat_channels: no inputs; pass at least one tensor");
  const Shape& first = shapes[0];
  PI_CHECK(first.ndim() >= 2, "concat_channels: inputs must have at least 2 dims (N, C, ...), input 0 has shape ",
           first.str());
  Shape out = first;
  for (size_t i = 1; i < shapes.size(); ++i) {
    const Shape& s = shapes[i];
    bool same = s.ndim() == first.ndim();
    for (int d = 0; same && d < s.ndim(); ++d) same = d == 1 || s[d] == first[d];
    PI_CHECK(same, "concat_channels: input ", i, " has shape ", s.str(), " but input 0 has shape ", first.str(),
             "; all inputs must agree in every dim except dim 1 (channels)");
    out[1] += s[1];
  }
  return out;
}

Shape crop_shape(const Shape& x, int64_t top, int64_t left, int64_t height, int64_t width) {
  PI_CHECK(x.ndim() == 4, "crop: input must be 4-d [N, C, H, W], got shape ", x.str());
  PI_CHECK(height > 0 && width > 0, "crop: window size ", height, "x", width, " must be positive");
  PI_CHECK(top >= 0 && left >= 0 && top + height <= x.h() && left + width <= x.w(), "crop: window rows [", top,
           ", ", top + height, ") x columns [", left, ", ", left + width, ") is outside the ", x.h(), "x", x.w(),
           " input; keep top + height <= H and left + width <= W (jitter: T <= min(H, W))");
  return Shape{x.n(), x.c(), height, width};
}

namespace {
int64_t inner_size(const Shape& s) {
  int64_t inner = 1;
  for (int d = 2; d < s.ndim(); ++d) inner *= s[d];
  return inner;
}
}  // namespace

void concat_channels_forward(const std::vector<View>& xs, const View& y) {
  std::vector<Shape> shapes;
  std::vector<const float*> ptrs;
  std::vector<int64_t> channels;
  for (const View& x : xs) {
    check_same_device("concat_channels", {&x, &y});
    check_contiguous("concat_channels", "input", x);
    shapes.push_back(x.shape);
    ptrs.push_back(x.data);
    channels.push_back(x.shape[1]);
  }
  check_shape("concat_channels", "output", y, concat_channels_shape(shapes));
  check_contiguous("concat_channels", "output", y);
  if (y.device == Device::cuda) return cuda::concat_dim1_forward(ptrs, channels, y.shape[0], inner_size(y.shape), y.data);
  ref::concat_dim1_forward(ptrs, channels, y.shape[0], inner_size(y.shape), y.data);
}

void concat_channels_backward(const View& d_y, const std::vector<View>& d_xs) {
  std::vector<Shape> shapes;
  std::vector<float*> ptrs;
  std::vector<int64_t> channels;
  for (const View& d_x : d_xs) {
    check_same_device("concat_channels backward", {&d_x, &d_y});
    if (d_x.data) check_contiguous("concat_channels backward", "d_x", d_x);
    shapes.push_back(d_x.shape);
    ptrs.push_back(d_x.data);
    channels.push_back(d_x.shape[1]);
  }
  check_shape("concat_channels backward", "d_y", d_y, concat_channels_shape(shapes));
  check_contiguous("concat_channels backward", "d_y", d_y);
  if (d_y.device == Device::cuda)
    return cuda::concat_dim1_backward(d_y.data, channels, d_y.shape[0], inner_size(d_y.shape), ptrs);
  ref::concat_dim1_backward(d_y.data, channels, d_y.shape[0], inner_size(d_y.shape), ptrs);
}

void crop_forward(const View& x, const View& y, int64_t top, int64_t left) {
  check_same_device("crop", {&x, &y});
  check_ndim("crop", "output", y, 4);
  check_shape("crop", "output", y, crop_shape(x.shape, top, left, y.shape.h(), y.shape.w()));
  check_contiguous("crop", "input", x);
  check_contiguous("crop", "output", y);
  const Shape& s = x.shape;
  if (x.device == Device::cuda)
    return cuda::crop_forward(x.data, y.data, s.n() * s.c(), s.h(), s.w(), top, left, y.shape.h(), y.shape.w());
  ref::crop_forward(x.data, y.data, s.n() * s.c(), s.h(), s.w(), top, left, y.shape.h(), y.shape.w());
}

void crop_backward(const View& d_y, const View& d_x, int64_t top, int64_t left) {
  check_same_device("crop backward", {&d_x, &d_y});
  check_ndim("crop backward", "d_y", d_y, 4);
  check_shape("crop backward", "d_y", d_y, crop_shape(d_x.shape, top, left, d_y.shape.h(), d_y.shape.w()));
  check_contiguous("crop backward", "d_x", d_x);
  check_contiguous("crop backward", "d_y", d_y);
  const Shape& s = d_x.shape;
  if (d_x.device == Device::cuda)
    return cuda::crop_backward(d_y.data, d_x.data, s.n() * s.c(), s.h(), s.w(), top, left, d_y.shape.h(),
                               d_y.shape.w());
  ref::crop_backward(d_y.data, d_x.data, s.n() * s.c(), s.h(), s.w(), top, left, d_y.shape.h(), d_y.shape.w());
}

}  // namespace preimage::kernels
