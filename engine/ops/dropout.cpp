// Tape op for inverted dropout (kernels/dropout.h). The mask is never stored: backward redraws it from the seed.
#include "engine/ops.h"
#include "kernels/dropout.h"

namespace preimage::ops {

Var dropout(Tape& t, Var x, float p, bool training, uint64_t seed) {
  View xv = t.value(x);
  // Eval mode is the identity; p = 0 makes the kernels copy / pass the gradient through without drawing.
  const float p_used = training ? p : 0.0f;
  Tensor y = Tensor::empty(xv.shape, xv.device);
  kernels::dropout_forward(xv, y, p_used, seed);
  return t.record(Op::dropout, std::move(y), {x}, [x, p_used, seed](Tape& tp, const View& d_y) {
    if (tp.requires_grad(x)) kernels::dropout_backward(d_y, tp.grad_of(x), p_used, seed);
  });
}

}  // namespace preimage::ops
