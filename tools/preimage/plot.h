#pragma once
// A small line chart for training curves (loss.png of train-decoder), drawn into an RGB image without a plotting
// library: training loss on a log scale (blue), validation normalised error on a linear scale (red dots, right
// half of the value range), step on the x axis.
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace preimage::tools {

// [1, 3, 240, 480] 0..255.
Tensor plot_curves(const std::vector<std::pair<double, double>>& loss,
                   const std::vector<std::pair<double, double>>& val);

}  // namespace preimage::tools
