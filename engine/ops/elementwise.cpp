// Tape ops for kernels/elementwise.h: add, mul, scale, masked_mul, sum, mean.
#include "kernels/elementwise.h"

#include "engine/error.h"
#include "engine/ops.h"

namespace preimage::ops {

Var add(Tape& t, Var a, Var b) {
  View av = t.value(a), bv = t.value(b);
  Tensor y = Tensor::empty(av.shape, av.device);
  kernels::add_forward(av, bv, y);
  return t.record(Op::add, std::move(y), {a, b}, [a, b](Tape& tp, const View& d_y) {
    if (tp.requires_grad(a)) kernels::add_into(tp.grad_of(a), d_y);
    if (tp.requires_grad(b)) kernels::add_into(tp.grad_of(b), d_y);
  });
}

Var mul(Tape& t, Var a, Var b) {
  View av = t.value(a), bv = t.value(b);
  Tensor y = Tensor::empty(av.shape, av.device);
  kernels::mul_forward(av, bv, y);
  return t.record(Op::mul, std::move(y), {a, b}, [a, b](Tape& tp, const View& d_y) {
    View d_a = tp.requires_grad(a) ? tp.grad_of(a) : View();
    View d_b = tp.requires_grad(b) ? tp.grad_of(b) : View();
    kernels::mul_backward(tp.value(a), tp.value(b), d_y, d_a, d_b);
  });
}

Var masked_mul(Tape& t, Var a, Var mask) {
  View av = t.value(a), mv = t.value(mask);
  Tensor y = Tensor::empty(av.shape, av.device);
  kernels::mul_forward(av, mv, y);
  // The mask is data, not a variable: no gradient flows to it even if it was built from one.
  return t.record(Op::masked_mul, std::move(y), {a}, [a, mask](Tape& tp, const View& d_y) {
    kernels::mul_backward(tp.value(a), tp.value(mask), d_y, tp.grad_of(a), View());
  });
}

Var scale(Tape& t, Var a, float s) {
  View av = t.value(a);
  Tensor y = Tensor::empty(av.shape, av.device);
  kernels::scale_forward(av, s, y);
  return t.record(Op::scale, std::move(y), {a}, [a, s](Tape& tp, const View& d_y) {
    kernels::axpy_into(tp.grad_of(a), s, d_y);
  });
}

namespace {
Var reduce(Tape& t, Var a, Op op, float factor) {
  View av = t.value(a);
  Tensor y = Tensor::empty(Shape{}, av.device);
  kernels::sum_forward(av, y);
  if (factor != 1.0f) kernels::scale_forward(y, factor, y);
  return t.record(op, std::move(y), {a}, [a, factor](Tape& tp, const View& d_y) {
    kernels::broadcast_add_into(tp.grad_of(a), d_y, factor);
  });
}
}  // namespace

Var sum(Tape& t, Var a) { return reduce(t, a, Op::sum, 1.0f); }
Var mean(Tape& t, Var a) {
  const int64_t n = t.value(a).numel();
  PI_CHECK(n > 0, "mean of an empty tensor");
  return reduce(t, a, Op::mean, 1.0f / static_cast<float>(n));
}

}  // namespace preimage::ops
