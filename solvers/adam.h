#pragma once
// Adam over a list of parameter tensors (Kingma & Ba 2015, Algorithm 1; seed 002 sect. 2.2: beta1 0.9,
// beta2 0.999), bias-corrected, one step for all parameters. The update itself is the kernels/optimisers.h
// adam_step kernel (CPU reference and CUDA), so this file only owns the moments and the step count: exactly the
// optimiser state a checkpoint must hold (solvers/decoder_checkpoint.h).
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "kernels/optimisers.h"

namespace preimage::solvers {

struct AdamState {
  std::vector<Tensor> m, v;  // first and second moments, one per parameter, same shapes, zero at the start
  int64_t step = 0;          // number of updates applied; the next update uses t = step + 1
};

// Zeroed moments shaped like `params`, on their device.
AdamState adam_state_for(const std::vector<Tensor>& params);

// params[i] -= lr * m_hat / (sqrt(v_hat) + eps) with the moments updated from grads[i] (same shapes). lr overrides
// hp.lr (the schedule's rate for this step).
void adam_update(std::vector<Tensor>& params, AdamState& state, const std::vector<View>& grads,
                 const kernels::AdamParams& hp, float lr);

}  // namespace preimage::solvers
