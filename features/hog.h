#pragma once
// HOG features (Dalal & Triggs; the UoCTTI variant of Felzenszwalb et al.; HOGb with bilinear orientation
// assignment, seed 000 sect. 3) as a network of three kernels (kernels/hog.h): image gradient -> orientation binning
// with bilinear spatial splat -> block normalisation. Matches VLFeat 0.9.21 vl_hog (non-transposed) numerically,
// channel order included; docs/features/hog.md has the equations.
#include "engine/tape.h"
#include "engine/tensor.h"
#include "kernels/hog.h"

namespace preimage::features {

using kernels::HogVariant;

struct HogParams {
  int cell_size = 8;
  int num_orientations = 9;
  HogVariant variant = HogVariant::uoctti;
  bool bilinear_orientations = false;  // HOGb
};

// Feature channels: 3*NO + 4 (UoCTTI: NO directed k, NO directed k+NO, NO undirected, 4 texture) or 4*NO
// (DalalTriggs: the undirected histogram under each of the 4 block normalisations UL, UR, LL, LR).
int64_t hog_dimension(const HogParams& p);
// The HOG grid of an H x W image: ((H + cs/2)/cs, (W + cs/2)/cs). Throws when it is smaller than 2x2 cells (one
// full normalisation block) or the image is smaller than 4x4 pixels.
void hog_check_image(const Shape& image, const HogParams& p);

// image [1,C,H,W] (C = 1 or 3, values 0..255) -> [1, D, hogH, hogW].
Tensor hog_forward(const View& image, const HogParams& p);

// The same network recorded on the tape (ops hog_gradient, hog_binning, hog_normalise) so that d/d image comes
// out. The gradient ignores the piecewise-constant parts (hard orientation bin, chosen colour channel).
Var hog(Tape& t, Var image, const HogParams& p);

}  // namespace preimage::features
