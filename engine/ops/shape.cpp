// Tape ops that change shape: concat_channels and crop (kernels/shape_ops.h), reshape and flatten (same elements,
// new shape). Conventions: docs/ops/shape_ops.md.
#include "kernels/elementwise.h"
#include "kernels/shape_ops.h"

#include "engine/error.h"
#include "engine/ops.h"

namespace preimage::ops {

Var concat_channels(Tape& t, const std::vector<Var>& xs) {
  std::vector<View> values;
  std::vector<Shape> shapes;
  for (Var x : xs) {
    values.push_back(t.value(x));
    shapes.push_back(values.back().shape);
  }
  Tensor y = Tensor::empty(kernels::concat_channels_shape(shapes), t.device());
  kernels::concat_channels_forward(values, y);
  return t.record(Op::concat_channels, std::move(y), xs, [xs](Tape& tp, const View& d_y) {
    std::vector<View> d_xs;
    for (Var x : xs) {
      // Inputs without a gradient keep their shape (it fixes the channel split) but get no buffer.
      d_xs.push_back(tp.requires_grad(x) ? tp.grad_of(x) : View(nullptr, tp.shape(x), tp.device()));
    }
    kernels::concat_channels_backward(d_y, d_xs);
  });
}

// The output is a copy: a node owns its value, and the copy costs less than the ops around it.
Var reshape(Tape& t, Var a, const Shape& s) {
  View av = t.value(a);
  PI_CHECK(av.numel() == s.numel(), "reshape: cannot reshape ", av.shape.str(), " (", av.numel(), " elements) to ",
           s.str(), " (", s.numel(), " elements)");
  Tensor y = Tensor::copy_of(av.reshape(s));
  const Shape in_shape = av.shape;
  return t.record(Op::reshape, std::move(y), {a}, [a, in_shape](Tape& tp, const View& d_y) {
    kernels::add_into(tp.grad_of(a), d_y.reshape(in_shape));
  });
}

Var flatten(Tape& t, Var a) {
  const Shape s = t.shape(a);
  PI_CHECK(s.ndim() >= 1, "flatten: needs a batch dimension, got a 0-d value");
  const int64_t n = s[0];
  return reshape(t, a, Shape{n, n == 0 ? 0 : s.numel() / n});
}

Var crop(Tape& t, Var x, int64_t top, int64_t left, int64_t height, int64_t width) {
  View xv = t.value(x);
  Tensor y = Tensor::empty(kernels::crop_shape(xv.shape, top, left, height, width), xv.device);
  kernels::crop_forward(xv, y, top, left);
  return t.record(Op::crop, std::move(y), {x}, [x, top, left](Tape& tp, const View& d_y) {
    kernels::crop_backward(d_y, tp.grad_of(x), top, left);
  });
}

Var crop_each(Tape& t, Var x, const std::vector<int64_t>& tops, const std::vector<int64_t>& lefts, int64_t height,
              int64_t width) {
  View xv = t.value(x);
  const int64_t n = xv.shape.ndim() == 4 ? xv.shape[0] : 0;
  PI_CHECK(static_cast<int64_t>(tops.size()) == n && static_cast<int64_t>(lefts.size()) == n,
           "crop_each: x ", xv.shape.str(), " needs one window per sample, got ", tops.size(), " tops and ",
           lefts.size(), " lefts");
  Shape ys = xv.shape;
  ys[2] = height;
  ys[3] = width;
  Tensor y = Tensor::empty(ys, xv.device);
  for (int64_t i = 0; i < n; ++i) {
    kernels::crop_shape(xv.batch(i).shape, tops[i], lefts[i], height, width);  // checks the window
    kernels::crop_forward(xv.batch(i), y.view().batch(i), tops[i], lefts[i]);
  }
  return t.record(Op::crop, std::move(y), {x}, [x, tops, lefts](Tape& tp, const View& d_y) {
    const View d_x = tp.grad_of(x);
    for (size_t i = 0; i < tops.size(); ++i)
      kernels::crop_backward(d_y.batch(static_cast<int64_t>(i)), d_x.batch(static_cast<int64_t>(i)), tops[i],
                             lefts[i]);
  });
}

}  // namespace preimage::ops
