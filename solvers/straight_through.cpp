#include "solvers/straight_through.h"

#include "engine/error.h"
#include "kernels/elementwise.h"

namespace preimage::solvers {

Representation straight_through(Representation value_phi, Representation gradient_phi) {
  PI_CHECK(value_phi && gradient_phi, "straight_through: both representations are required");
  return [value_phi, gradient_phi](Tape& t, Var x) {
    Var soft = gradient_phi(t, x);
    // The hard value on a side tape (no gradient), then phi = soft + (hard - soft) with the bracket a constant.
    Tape side(t.device());
    const Var hard = value_phi(side, side.leaf(t.value(x), false));
    const View hv = side.value(hard), sv = t.value(soft);
    PI_CHECK(hv.shape == sv.shape, "straight_through: the value network gives ", hv.shape.str(),
             " but the gradient network ", sv.shape.str());
    Tensor delta = Tensor::copy_of(hv);  // on the tape's device: no host round trip
    kernels::axpy_into(delta.view(), -1.0f, sv);
    return ops::add(t, soft, t.constant(std::move(delta)));
  };
}

}  // namespace preimage::solvers
