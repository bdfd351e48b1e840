#pragma once
// Dense SIFT (VLFeat 0.9.21 vl_dsift): gray image [N, 1, H, W] -> descriptors [N, 128, FY, FX], channel
// t + 8 * (bx + 4 * by) (orientation t, spatial bin bx, by). The stages and their kernels: kernels/dsift.h;
// formulas, geometry and the fast/exact math difference: docs/features/dsift.md.
#include "engine/tape.h"
#include "kernels/dsift.h"

namespace preimage::features {

using kernels::DsiftGeometry;
using kernels::DsiftMath;
using kernels::DsiftParams;

// Output grid for an image of this size (throws when the image is smaller than one frame, 3*bin_size + 1).
DsiftGeometry dsift_geometry(int64_t height, int64_t width, const DsiftParams& p = {});
// Centre (x, y) in pixels (0 = first pixel centre) of frame (fx, fy): VlDsiftKeypoint.x/.y.
double dsift_frame_center_x(const DsiftGeometry& g, int64_t fx);
double dsift_frame_center_y(const DsiftGeometry& g, int64_t fy);

// Forward only. DsiftMath::vlfeat (default) reproduces libvl's vl_dsift_process including its fast atan2/sqrt.
Tensor dsift(const View& image, const DsiftParams& p = {}, DsiftMath math = DsiftMath::vlfeat);

// Differentiable DSIFT on the tape (Op::dsift). Both forward and backward use exact atan2/sqrt (DsiftMath::exact)
// so the gradient is the derivative of the recorded value; it differs from libvl's output by the fast-math
// approximation error (measured in docs/features/dsift.md).
Var dsift(Tape& t, Var image, const DsiftParams& p = {});

}  // namespace preimage::features
