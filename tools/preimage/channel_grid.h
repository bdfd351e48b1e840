#pragma once
// A picture of a layer's activations: its C channels as tiles of a grid.
#include "engine/tensor.h"

namespace preimage::tools {

// activations [1, C, h, w] (host) -> gray image [1, 1, H, W], 0..255: the channels in row-major order on a
// ceil(sqrt(C))-column grid with 1-pixel white gaps, all channels mapped by one display stretch
// (stretch_for_display, so strong and weak channels stay comparable), each tile enlarged by an integer factor
// (nearest neighbour) until the grid's shorter side reaches `min_side`. A fully connected layer (h = w = 1) is a
// grid of single-pixel tiles: one cell per unit.
Tensor channel_grid(const View& activations, int64_t min_side = 256);

}  // namespace preimage::tools
