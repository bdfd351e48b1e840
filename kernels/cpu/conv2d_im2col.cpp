// conv2d as im2col + GEMM (Caffe's approach; Chellapilla et al. 2006): per sample and group, unroll the input
// patches into a [Cg*kh*kw, Ho*Wo] matrix and multiply by the [Kg, Cg*kh*kw] weight slice with Eigen. Eigen threads
// the GEMM (engine/threads.h sets its thread count) and the unrolling is an OpenMP loop; samples run one after
// another so that d_w can accumulate without a reduction. Float only; tested against ref:: (kernels/cpu/conv2d.cpp).
#include <vector>

#include <Eigen/Core>

#include "kernels/conv2d.h"
#include "kernels/cpu/im2col.h"

namespace preimage::kernels::im2col {
namespace {
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMatrix = Eigen::Map<Matrix>;
using ConstMapMatrix = Eigen::Map<const Matrix>;

detail::Unroll unroll_of(const Conv2dGeometry& g) {
  return detail::Unroll{g.c / g.p.groups, g.h, g.w, g.kh, g.kw, g.p.stride_h, g.p.stride_w, g.p.pad_top,
                        g.p.pad_left, g.ho, g.wo};
}
}  // namespace

void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y) {
  // x: [N, C, H, W]  w: [K, Cg, kh, kw]  b: [K] or null  y: [N, K, Ho, Wo]
  const detail::Unroll s = unroll_of(g);
  const int64_t groups = g.p.groups, kg = g.k / groups, hw = g.h * g.w, pix = g.ho * g.wo;
  std::vector<float> col(s.identity() ? 0 : static_cast<size_t>(s.rows() * s.cols()));  // [Cg*kh*kw, Ho*Wo]
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* x_g = x + (n * g.c + gi * s.c) * hw;  // [Cg, H, W]
      if (!s.identity()) detail::image_to_columns(s, x_g, col.data());
      ConstMapMatrix cols(s.identity() ? x_g : col.data(), s.rows(), pix);
      ConstMapMatrix w_g(w + gi * kg * s.rows(), kg, s.rows());  // [Kg, Cg*kh*kw]
      MapMatrix y_g(y + (n * g.k + gi * kg) * pix, kg, pix);   // [Kg, Ho*Wo]
      y_g.noalias() = w_g * cols;
      if (b) y_g.colwise() += Eigen::Map<const Eigen::VectorXf>(b + gi * kg, kg);
    }
}

void conv2d_backward(const Conv2dGeometry& g, const float* x, const float* w, const float* d_y, float* d_x,
                     float* d_w, float* d_b) {
  // x, d_x: [N, C, H, W]  w, d_w: [K, Cg, kh, kw]  d_y: [N, K, Ho, Wo]  d_b: [K]; d_* accumulate, null = not wanted
  const detail::Unroll s = unroll_of(g);
  const int64_t groups = g.p.groups, kg = g.k / groups, hw = g.h * g.w, pix = g.ho * g.wo;
  if (d_b) {
    Eigen::Map<Eigen::VectorXf> db(d_b, g.k);
    for (int64_t n = 0; n < g.n; ++n) db += ConstMapMatrix(d_y + n * g.k * pix, g.k, pix).rowwise().sum();
  }
  if (!d_x && !d_w) return;
  std::vector<float> col(s.identity() ? 0 : static_cast<size_t>(s.rows() * s.cols()));  // [Cg*kh*kw, Ho*Wo]
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      ConstMapMatrix dy_g(d_y + (n * g.k + gi * kg) * pix, kg, pix);  // [Kg, Ho*Wo]
      ConstMapMatrix w_g(w + gi * kg * s.rows(), kg, s.rows());       // [Kg, Cg*kh*kw]
      const float* x_g = x + (n * g.c + gi * s.c) * hw;              // [Cg, H, W]
      float* dx_g = d_x ? d_x + (n * g.c + gi * s.c) * hw : nullptr;
      if (d_w) {
        if (!s.identity()) detail::image_to_columns(s, x_g, col.data());
        ConstMapMatrix cols(s.identity() ? x_g : col.data(), s.rows(), pix);
        MapMatrix(d_w + gi * kg * s.rows(), kg, s.rows()).noalias() += dy_g * cols.transpose();
      }
      if (dx_g) {
        if (s.identity()) {
          MapMatrix(dx_g, s.rows(), pix).noalias() += w_g.transpose() * dy_g;
        } else {
          // d_cols = w_g^T d_y_g, then scatter the patches back (the adjoint of the unrolling)
          MapMatrix(col.data(), s.rows(), pix).noalias() = w_g.transpose() * dy_g;
          detail::columns_to_image(s, col.data(), dx_g);
        }
      }
    }
}

}  // namespace preimage::kernels::im2col
