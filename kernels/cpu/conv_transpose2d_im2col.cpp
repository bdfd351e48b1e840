// conv_transpose2d as GEMM + col2im (the backward-data pass of conv2d's im2col path, run forward): per sample and
// group, multiply the [Cg, Kg*kh*kw] weight slice (transposed) by the [Cg, H*W] input to get one kernel-sized column
// per input pixel, then scatter-add the columns into the output at stride spacing. Eigen threads the GEMMs; samples
// run one after another so d_w accumulates without a reduction. Float only; tested against ref::.
#include <vector>

#include <Eigen/Core>

#include "kernels/conv_transpose2d.h"
#include "kernels/cpu/im2col.h"

namespace preimage::kernels::im2col {
namespace {
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMatrix = Eigen::Map<Matrix>;
using ConstMapMatrix = Eigen::Map<const Matrix>;

// The output plays the image, the input pixels the grid of kernel placements.
detail::Unroll unroll_of(const ConvTranspose2dGeometry& g) {
  return detail::Unroll{g.k / g.p.groups, g.ho, g.wo, g.kh, g.kw, g.p.stride_h, g.p.stride_w, g.p.pad_top,
                        g.p.pad_left, g.h, g.w};
}
}  // namespace

void conv_transpose2d_forward(const ConvTranspose2dGeometry& g, const float* x, const float* w, const float* b,
                              float* y) {
  // x: [N, C, H, W]  w: [C, Kg, kh, kw]  b: [K] or null  y: [N, K, Ho, Wo]
  const detail::Unroll s = unroll_of(g);
  const int64_t groups = g.p.groups, cg = g.c / groups, hw = g.h * g.w, pix = g.ho * g.wo;
  std::vector<float> col(static_cast<size_t>(s.rows() * s.cols()));  // [Kg*kh*kw, H*W]
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      ConstMapMatrix x_g(x + (n * g.c + gi * cg) * hw, cg, hw);          // [Cg, H*W]
      ConstMapMatrix w_g(w + gi * cg * s.rows(), cg, s.rows());          // [Cg, Kg*kh*kw]
      MapMatrix y_g(y + (n * g.k + gi * s.c) * pix, s.c, pix);            // [Kg, Ho*Wo]
      if (b)
        y_g.colwise() = Eigen::Map<const Eigen::VectorXf>(b + gi * s.c, s.c);
      else
        y_g.setZero();
      if (s.identity()) {
        y_g.noalias() += w_g.transpose() * x_g;
      } else {
        MapMatrix(col.data(), s.rows(), hw).noalias() = w_g.transpose() * x_g;
        detail::columns_to_image(s, col.data(), y_g.data());
      }
    }
}

void conv_transpose2d_backward(const ConvTranspose2dGeometry& g, const float* x, const float* w, const float* d_y,
                               float* d_x, float* d_w, float* d_b) {
  // x, d_x: [N, C, H, W]  w, d_w: [C, Kg, kh, kw]  d_y: [N, K, Ho, Wo]  d_b: [K]; d_* accumulate, null = not wanted
  const detail::Unroll s = unroll_of(g);
  const int64_t groups = g.p.groups, cg = g.c / groups, hw = g.h * g.w, pix = g.ho * g.wo;
  if (d_b) {
    Eigen::Map<Eigen::VectorXf> db(d_b, g.k);
    for (int64_t n = 0; n < g.n; ++n) db += ConstMapMatrix(d_y + n * g.k * pix, g.k, pix).rowwise().sum();
  }
  if (!d_x && !d_w) return;
  std::vector<float> col(s.identity() ? 0 : static_cast<size_t>(s.rows() * s.cols()));  // [Kg*kh*kw, H*W]
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      // Backward is conv2d forward of d_y: unroll d_y's patches at the input pixels' placements.
      const float* dy_g = d_y + (n * g.k + gi * s.c) * pix;  // [Kg, Ho, Wo]
      if (!s.identity()) detail::image_to_columns(s, dy_g, col.data());
      ConstMapMatrix cols(s.identity() ? dy_g : col.data(), s.rows(), hw);  // [Kg*kh*kw, H*W]
      if (d_x)
        MapMatrix(d_x + (n * g.c + gi * cg) * hw, cg, hw).noalias() +=
            ConstMapMatrix(w + gi * cg * s.rows(), cg, s.rows()) * cols;
      if (d_w)
        MapMatrix(d_w + gi * cg * s.rows(), cg, s.rows()).noalias() +=
            ConstMapMatrix(x + (n * g.c + gi * cg) * hw, cg, hw) * cols.transpose();
    }
}

}  // namespace preimage::kernels::im2col
