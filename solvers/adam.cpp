// Adam over parameter lists (solvers/adam.h).
#include "solvers/adam.h"

#include "engine/error.h"

namespace preimage::solvers {

AdamState adam_state_for(const std::vector<Tensor>& params) {
  AdamState s;
  for (const Tensor& p : params) {
    s.m.push_back(Tensor::zeros(p.shape(), p.device()));
    s.v.push_back(Tensor::zeros(p.shape(), p.device()));
  }
  return s;
}

void adam_update(std::vector<Tensor>& params, AdamState& state, const std::vector<View>& grads,
                 const kernels::AdamParams& hp, float lr) {
  PI_CHECK(params.size() == grads.size() && params.size() == state.m.size() && params.size() == state.v.size(),
           "adam_update: ", params.size(), " parameters, ", grads.size(), " gradients, ", state.m.size(),
           " moment pairs");
  kernels::AdamParams p = hp;
  p.lr = lr;
  const int64_t t = state.step + 1;
  for (size_t i = 0; i < params.size(); ++i)
    kernels::adam_step(params[i].view(), state.m[i].view(), state.v[i].view(), grads[i], p, t);
  state.step = t;
}

}  // namespace preimage::solvers
