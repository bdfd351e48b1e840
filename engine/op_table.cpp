#include "engine/op_table.h"

#include <cstddef>

namespace preimage {
namespace {
constexpr const char* kOpNames[] = {
    "leaf",
    "conv2d", "conv_transpose2d", "linear",
    "max_pool2d", "lrn",
    "relu", "leaky_relu", "dropout", "softmax",
    "add", "mul", "scale", "masked_mul", "sum", "mean", "concat_channels", "reshape", "crop",
    "alpha_norm", "isotropic_alpha_norm", "tv_beta", "normalised_l2", "inner_product",
    "hog_gradient", "hog_binning", "hog_normalise", "dsift",
};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == static_cast<size_t>(Op::count),
              "op_table: every Op needs exactly one name");
}  // namespace

const char* op_name(Op op) {
  const int i = static_cast<int>(op);
  return (i >= 0 && i < op_count()) ? kOpNames[i] : "invalid";
}

}  // namespace preimage
