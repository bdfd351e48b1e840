// Tape ops for relu and leaky relu (kernels/activation.h). Dropout and softmax: engine/ops/dropout.cpp,
// engine/ops/softmax.cpp.
#include "engine/ops.h"

namespace preimage::ops {

Var leaky_relu(Tape& t, Var x, float slope) {
  View xv = t.value(x);
  Tensor y = Tensor::empty(xv.shape, xv.device);
  kernels::leaky_relu_forward(xv, y, slope);
  const Op op = slope == 0.0f ? Op::relu : Op::leaky_relu;
  return t.record(op, std::move(y), {x}, [x, slope](Tape& tp, const View& d_y) {
    if (tp.requires_grad(x)) kernels::leaky_relu_backward(tp.value(x), d_y, tp.grad_of(x), slope);
  });
}

Var relu(Tape& t, Var x) { return leaky_relu(t, x, 0.0f); }

}  // namespace preimage::ops
