// Tape ops for max pooling and LRN (kernels/max_pool2d.h, kernels/lrn.h). Both backward passes need only the
// input: max pooling recomputes its argmax, LRN its normaliser.
#include "engine/ops.h"

namespace preimage::ops {

Var max_pool2d(Tape& t, Var x, const kernels::MaxPool2dParams& p) {
  View xv = t.value(x);
  const kernels::MaxPool2dGeometry g = kernels::max_pool2d_geometry("max_pool2d", xv.shape, p);
  Tensor y = Tensor::empty(Shape{g.n, g.c, g.ho, g.wo}, xv.device);
  kernels::max_pool2d_forward(xv, y, p);
  return t.record(Op::max_pool2d, std::move(y), {x}, [x, p](Tape& tp, const View& d_y) {
    if (tp.requires_grad(x)) kernels::max_pool2d_backward(tp.value(x), d_y, tp.grad_of(x), p);
  });
}

Var lrn(Tape& t, Var x, const kernels::LrnParams& p) {
  View xv = t.value(x);
  Tensor y = Tensor::empty(xv.shape, xv.device);
  kernels::lrn_forward(xv, y, p);
  return t.record(Op::lrn, std::move(y), {x}, [x, p](Tape& tp, const View& d_y) {
    if (tp.requires_grad(x)) kernels::lrn_backward(tp.value(x), d_y, tp.grad_of(x), p);
  });
}

}  // namespace preimage::ops
