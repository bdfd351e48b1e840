#pragma once
// Uniform local binary patterns (VLFeat 0.9.21 vl_lbp_process with VlLbpUniform, transposed = false; Ojala et al.
// as used by Dosovitskiy & Brox, seed 003 "Shallow features details"). Forward only: the pattern is a step
// function of the pixel values, so LBP has no useful derivative. Formulas: docs/features/lbp.md.
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

constexpr int kLbpBins = 58;

namespace ref {
// 8-bit pattern (bit 0 = E, 1 = SE, 2 = S, 3 = SW, 4 = W, 5 = NW, 6 = N, 7 = NE neighbour brighter than the centre;
// y points down) -> bin: a circular run of j ones (1 <= j <= 7) starting at bit i -> 7 i + j - 1; 0x00 and 0xFF
// -> 56; any other pattern -> 57.
int lbp_uniform_bin(unsigned pattern);
// image [H, W] -> out [58, H / cell, W / cell] (integer division). Interior pixels (1 .. H-2, 1 .. W-2) vote for
// their bin into the 4 nearest cells with bilinear weights, cell coordinate (x + 0.5) / cell - 0.5; each cell's
// histogram h becomes sqrt(h) / (sqrt(sum h) + 1e-10).
template <typename T>
void lbp_forward(const T* image, T* out, int64_t H, int64_t W, int cell);
}  // namespace ref

// image [N, 1, H, W] -> out [N, 58, H / cell, W / cell]; throws when the image is smaller than one cell.
void lbp_forward(const View& image, const View& out, int cell);
Shape lbp_output_shape(const Shape& image, int cell);

}  // namespace preimage::kernels
