#pragma once
// Uniform LBP features (VLFeat vl_lbp, VlLbpUniform): gray image [N, 1, H, W] -> [N, 58, H / cell, W / cell].
// Not differentiable (a step function of the pixels): the tape entry point refuses inputs that need a gradient.
// Definition and parameters: docs/features/lbp.md; kernel: kernels/lbp.h.
#include "engine/tape.h"
#include "kernels/lbp.h"

namespace preimage::features {

// cell_size 16: Dosovitskiy & Brox (seed 002 sect. 4, seed 003) - a 256x256 image gives 16x16x58 features.
struct LbpParams {
  int cell_size = 16;
};

Tensor lbp(const View& image, const LbpParams& p = {});
// Records the features as a constant (no backward). Throws preimage::Error when `image` requires a gradient.
Var lbp(Tape& t, Var image, const LbpParams& p = {});

}  // namespace preimage::features
