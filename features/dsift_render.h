#pragma once
// DSIFT glyphs: each descriptor drawn as its 4x4 grid of 8-direction stars (ray t points along the gradient
// direction t * 45 degrees, x right, y down, as VLFeat measures it; length proportional to the bin value), placed at
// the frame's position in the image. Frames overlap when step < 4 * bin_size, so only every s-th frame along each
// axis is drawn, s = ceil(4 * bin_size / step), which tiles the image without overlap.
#include "engine/tensor.h"
#include "kernels/dsift.h"

namespace preimage::features {

struct DsiftRenderOptions {
  int zoom = 1;            // output pixels per image pixel
  float full_scale = 0.25f;  // a bin value drawn with a full-length ray (normalised values rarely exceed 0.2-0.3)
  bool grid = true;        // faint bin boundaries
};

// descriptors [1, 128, FY, FX] of an H x W image computed with p -> [1, 1, H * zoom, W * zoom], 0..255.
Tensor render_dsift(const View& descriptors, int64_t height, int64_t width, const kernels::DsiftParams& p,
                    const DsiftRenderOptions& o = {});

}  // namespace preimage::features
