#pragma once
// HOG glyph images (the picture vl_hog_render draws): each cell becomes a glyph_size x glyph_size square holding,
// for every undirected orientation k, a bar perpendicular to the gradient direction k*pi/NO (an edge), weighted
// by the cell's total response for k; each cell's pixels are then clamped to [min(0, weights), max(0, weights)].
#include "engine/tensor.h"
#include "features/hog.h"

namespace preimage::features {

constexpr int kHogGlyphSize = 21;  // VLFeat's glyph size

// features [1, D, hogH, hogW] (D of p) -> [1, 1, hogH*gs, hogW*gs], the raw weights (what vl_hog_render writes).
Tensor hog_render_raw(const View& features, const HogParams& p, int glyph_size = kHogGlyphSize);
// The same, scaled so that the largest value is 255 and negative values are 0: ready for write_png.
Tensor hog_render(const View& features, const HogParams& p, int glyph_size = kHogGlyphSize);

}  // namespace preimage::features
