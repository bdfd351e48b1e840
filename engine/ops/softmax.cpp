// Tape op for softmax over dim 1 (kernels/softmax.h).
#include "engine/ops.h"
#include "kernels/softmax.h"

namespace preimage::ops {

Var softmax(Tape& t, Var x) {
  View xv = t.value(x);
  Tensor y = Tensor::empty(xv.shape, xv.device);
  kernels::softmax_forward(xv, y);
  // Backward needs y, which the closure cannot reach (it sees only d_y and the inputs); recomputing it from x costs
  // one more forward (O(N C HW), bitwise the same values) instead of holding a second copy of y on the tape.
  return t.record(Op::softmax, std::move(y), {x}, [x](Tape& tp, const View& d_y) {
    if (!tp.requires_grad(x)) return;
    View xs = tp.value(x);
    Tensor y_again = Tensor::empty(xs.shape, xs.device);
    kernels::softmax_forward(xs, y_again);
    kernels::softmax_backward(y_again, d_y, tp.grad_of(x));
  });
}

}  // namespace preimage::ops
