#pragma once
// Patch unrolling shared by the im2col convolution paths (kernels/cpu/conv2d_im2col.cpp,
// conv_transpose2d_im2col.cpp). A "grid" of gh x gw kernel placements, placement (i, j) covering image rows
// i*sh - pt + u and columns j*sw - pl + v (u < kh, v < kw); positions outside the image read as zero.
//   img: [C, H, W]   col: [C*kh*kw, gh*gw], row (c*kh + u)*kw + v, column i*gw + j
// columns_to_image is the exact adjoint of image_to_columns (it scatters and ACCUMULATES into img).
#include <cstdint>

namespace preimage::kernels::im2col::detail {

struct Unroll {
  int64_t c, h, w;     // image
  int64_t kh, kw;      // kernel
  int64_t sh, sw;      // stride
  int64_t pt, pl;      // padding before the first row/column
  int64_t gh, gw;      // grid of placements
  int64_t rows() const { return c * kh * kw; }
  int64_t cols() const { return gh * gw; }
  // True when col would be a plain copy of img (1x1 kernel, stride 1, no padding, grid = image).
  bool identity() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && gh == h && gw == w; }
};

void image_to_columns(const Unroll& u, const float* img, float* col);
void columns_to_image(const Unroll& u, const float* col, float* img);

// The same for the band of grid rows [i0, i1) only: col is then [C*kh*kw, (i1-i0)*gw] (column (i-i0)*gw + j), so
// a convolution can unroll and multiply one cache-sized band at a time. Single-threaded: the caller runs bands in
// parallel. columns_to_image_band scatters into (and accumulates) the image rows the band's placements cover.
void image_to_columns_band(const Unroll& u, const float* img, float* col, int64_t i0, int64_t i1);
void columns_to_image_band(const Unroll& u, const float* col, float* img, int64_t i0, int64_t i1);

}  // namespace preimage::kernels::im2col::detail
