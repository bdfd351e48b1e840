// Tape ops for the convolution family (kernels/conv2d.h, conv_transpose2d.h, linear.h); formulas and layouts in
// docs/ops/convolution.md. The backward closures capture the input Vars (not copies): the tape keeps their values.
#include "engine/error.h"
#include "engine/ops.h"
#include "kernels/linear.h"

namespace preimage::ops {
namespace {
// Inputs recorded on the tape: the bias only when present, so an absent bias never asks for a gradient.
std::vector<Var> inputs_of(Var x, Var w, Var b) {
  if (b.valid()) return {x, w, b};
  return {x, w};
}
View grad_if_needed(Tape& tp, Var v) { return v.valid() && tp.requires_grad(v) ? tp.grad_of(v) : View(); }
View value_or_empty(const Tape& t, Var v) { return v.valid() ? t.value(v) : View(); }
}  // namespace

Var conv2d(Tape& t, Var x, Var w, Var b, const kernels::Conv2dParams& p) {
  View xv = t.value(x), wv = t.value(w);
  const kernels::Conv2dGeometry g = kernels::conv2d_geometry("conv2d", xv.shape, wv.shape, p);
  Tensor y = Tensor::empty(Shape{g.n, g.k, g.ho, g.wo}, xv.device);
  kernels::conv2d_forward(xv, wv, value_or_empty(t, b), y, p);
  return t.record(Op::conv2d, std::move(y), inputs_of(x, w, b), [x, w, b, p](Tape& tp, const View& d_y) {
    kernels::conv2d_backward(tp.value(x), tp.value(w), d_y, grad_if_needed(tp, x), grad_if_needed(tp, w),
                             grad_if_needed(tp, b), p);
  });
}

Var conv_transpose2d(Tape& t, Var x, Var w, Var b, const kernels::ConvTranspose2dParams& p) {
  View xv = t.value(x), wv = t.value(w);
  const kernels::ConvTranspose2dGeometry g = kernels::conv_transpose2d_geometry("conv_transpose2d", xv.shape,
                                                                                wv.shape, p);
  Tensor y = Tensor::empty(Shape{g.n, g.k, g.ho, g.wo}, xv.device);
  kernels::conv_transpose2d_forward(xv, wv, value_or_empty(t, b), y, p);
  return t.record(Op::conv_transpose2d, std::move(y), inputs_of(x, w, b), [x, w, b, p](Tape& tp, const View& d_y) {
    kernels::conv_transpose2d_backward(tp.value(x), tp.value(w), d_y, grad_if_needed(tp, x), grad_if_needed(tp, w),
                                       grad_if_needed(tp, b), p);
  });
}

Var linear(Tape& t, Var x, Var w, Var b) {
  View xv = t.value(x), wv = t.value(w);
  PI_CHECK(xv.shape.ndim() >= 2 && wv.shape.ndim() == 2, "linear: input must be [N, ...] and weight [O, I], got ",
           xv.shape.str(), " and ", wv.shape.str());
  Tensor y = Tensor::empty(Shape{xv.shape[0], wv.shape[0]}, xv.device);
  kernels::linear_forward(xv, wv, value_or_empty(t, b), y);
  return t.record(Op::linear, std::move(y), inputs_of(x, w, b), [x, w, b](Tape& tp, const View& d_y) {
    kernels::linear_backward(tp.value(x), tp.value(w), d_y, grad_if_needed(tp, x), grad_if_needed(tp, w),
                             grad_if_needed(tp, b));
  });
}

}  // namespace preimage::ops
