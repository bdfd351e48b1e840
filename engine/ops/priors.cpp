// Tape ops for the image priors (kernels/regularisers.h) and the losses (kernels/losses.h); each returns a scalar.
// Formulas: docs/ops/priors_and_losses.md.
#include "kernels/losses.h"
#include "kernels/regularisers.h"

#include "engine/ops.h"

namespace preimage::ops {

Var alpha_norm(Tape& t, Var x, float alpha) {
  View xv = t.value(x);
  Tensor y = Tensor::empty(Shape{}, xv.device);
  kernels::alpha_norm_forward(xv, alpha, y);
  return t.record(Op::alpha_norm, std::move(y), {x}, [x, alpha](Tape& tp, const View& d_y) {
    kernels::alpha_norm_backward(tp.value(x), d_y, tp.grad_of(x), alpha);
  });
}

Var isotropic_alpha_norm(Tape& t, Var x, float alpha, float B) {
  View xv = t.value(x);
  Tensor y = Tensor::empty(Shape{}, xv.device);
  kernels::isotropic_alpha_norm_forward(xv, alpha, B, y);
  return t.record(Op::isotropic_alpha_norm, std::move(y), {x}, [x, alpha, B](Tape& tp, const View& d_y) {
    kernels::isotropic_alpha_norm_backward(tp.value(x), d_y, tp.grad_of(x), alpha, B);
  });
}

Var tv_beta(Tape& t, Var x, float beta, float V) {
  View xv = t.value(x);
  Tensor y = Tensor::empty(Shape{}, xv.device);
  kernels::tv_beta_forward(xv, beta, V, y);
  return t.record(Op::tv_beta, std::move(y), {x}, [x, beta, V](Tape& tp, const View& d_y) {
    kernels::tv_beta_backward(tp.value(x), d_y, tp.grad_of(x), beta, V);
  });
}

// phi0 and the mask are data, not variables: only phi is an input of the node, so no gradient reaches them even
// when they were computed on this tape.
Var normalised_l2(Tape& t, Var phi, Var phi0, Var mask) {
  View pv = t.value(phi);
  View mv = mask.valid() ? t.value(mask) : View();
  Tensor y = Tensor::empty(Shape{}, pv.device);
  kernels::normalised_l2_forward(pv, t.value(phi0), mv, y);
  return t.record(Op::normalised_l2, std::move(y), {phi}, [phi, phi0, mask](Tape& tp, const View& d_y) {
    View m = mask.valid() ? tp.value(mask) : View();
    kernels::normalised_l2_backward(tp.value(phi), tp.value(phi0), m, d_y, tp.grad_of(phi));
  });
}

Var inner_product(Tape& t, Var phi, Var phi0, float Z) {
  View pv = t.value(phi);
  Tensor y = Tensor::empty(Shape{}, pv.device);
  kernels::inner_product_forward(pv, t.value(phi0), Z, y);
  return t.record(Op::inner_product, std::move(y), {phi}, [phi0, phi, Z](Tape& tp, const View& d_y) {
    kernels::inner_product_backward(tp.value(phi0), d_y, tp.grad_of(phi), Z);
  });
}

}  // namespace preimage::ops
