#pragma once
// LBP glyphs: each cell shows the 3x3 neighbourhood of its dominant uniform pattern - the neighbours brighter than
// the centre lit in a colour whose hue encodes the pattern's rotation (where the bright run starts), brightness the
// bin's (sqrt-normalised) weight. Bin 56 (flat: all or no neighbours brighter) lights all 8 neighbours in gray;
// bin 57 (non-uniform) lights only the centre, white.
#include "engine/tensor.h"

namespace preimage::features {

// features [1, 58, CH, CW] of an H x W image with cell size `cell` -> RGB [1, 3, H, W], 0..255 (pixels beyond the
// last full cell stay black).
Tensor render_lbp(const View& features, int64_t height, int64_t width, int cell);

}  // namespace preimage::features
