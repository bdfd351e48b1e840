// linear as Eigen GEMMs over the whole batch (Eigen threads them; engine/threads.h sets the count). Float only;
// tested against ref:: (kernels/cpu/linear.cpp).
#include <Eigen/Core>

#include "kernels/linear.h"

namespace preimage::kernels::gemm {
namespace {
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMatrix = Eigen::Map<Matrix>;
using ConstMapMatrix = Eigen::Map<const Matrix>;
}  // namespace

void linear_forward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* b, float* y) {
  // x: [N, I]  w: [O, I]  b: [O] or null  y: [N, O]
  MapMatrix y_m(y, n, out);
  y_m.noalias() = ConstMapMatrix(x, n, in) * ConstMapMatrix(w, out, in).transpose();
  if (b) y_m.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(b, out);
}

void linear_backward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* d_y,
                     float* d_x, float* d_w, float* d_b) {
  // x, d_x: [N, I]  w, d_w: [O, I]  d_y: [N, O]  d_b: [O]; d_* accumulate, null = not wanted
  ConstMapMatrix dy(d_y, n, out);
  if (d_x) MapMatrix(d_x, n, in).noalias() += dy * ConstMapMatrix(w, out, in);
  if (d_w) MapMatrix(d_w, out, in).noalias() += dy.transpose() * ConstMapMatrix(x, n, in);
  if (d_b) Eigen::Map<Eigen::RowVectorXf>(d_b, out) += dy.colwise().sum();
}

}  // namespace preimage::kernels::gemm
