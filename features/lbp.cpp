// LBP entry points (features/lbp.h).
#include "features/lbp.h"

#include "engine/error.h"

namespace preimage::features {

Tensor lbp(const View& image, const LbpParams& p) {
  Tensor out = Tensor::empty(kernels::lbp_output_shape(image.shape, p.cell_size), image.device);
  kernels::lbp_forward(image, out, p.cell_size);
  return out;
}

Var lbp(Tape& t, Var image, const LbpParams& p) {
  PI_CHECK(!t.requires_grad(image),
           "lbp: LBP is not differentiable (its patterns are step functions of the pixels), so it cannot be used "
           "in a gradient-based objective; invert it with a trained decoder, or compute it on a constant image");
  return t.constant(lbp(t.value(image), p));
}

}  // namespace preimage::features
