#pragma once
// The explicit table of differentiable ops recorded on the tape (design decision 4): one enum, one name table,
// and a static_assert in op_table.cpp that keeps the two the same length. No static registrars.
namespace preimage {

enum class Op {
  leaf,
  // convolution family (kernels/conv2d.h, conv_transpose2d.h, linear.h)
  conv2d,
  conv_transpose2d,
  linear,
  // pooling and normalisation (kernels/max_pool2d.h, lrn.h)
  max_pool2d,
  lrn,
  // activations (kernels/activation.h, dropout.h, softmax.h)
  relu,
  leaky_relu,
  dropout,
  softmax,
  // elementwise, reductions and shape (kernels/elementwise.h, reduce.h, shape_ops.h)
  add,
  mul,
  scale,
  masked_mul,
  sum,
  mean,
  concat_channels,
  reshape,
  crop,
  // image priors and losses (kernels/regularisers.h, losses.h)
  alpha_norm,
  isotropic_alpha_norm,
  tv_beta,
  normalised_l2,
  inner_product,
  // features (features/) record their own steps
  hog_gradient,
  hog_binning,
  hog_normalise,
  dsift,
  count
};

const char* op_name(Op op);
constexpr int op_count() { return static_cast<int>(Op::count); }

}  // namespace preimage
