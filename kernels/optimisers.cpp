// Launchers for kernels/optimisers.h.
#include "kernels/optimisers.h"

#include "kernels/cuda/optimisers.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
void check_state(const char* op, const View& x, std::initializer_list<const View*> others) {
  check_contiguous(op, "parameters", x);
  for (const View* v : others) {
    check_same_device(op, {&x, v});
    check_same_shape(op, x, *v);
    check_contiguous(op, "state", *v);
  }
}
}  // namespace

void adagrad_rho_step(const View& x, const View& G, const View& mu, const View& g, float rho, float eta0) {
  check_state("adagrad_rho_step", x, {&G, &mu, &g});
  PI_CHECK(eta0 > 0 && rho >= 0 && rho < 1, "adagrad_rho_step: need eta0 > 0 and 0 <= rho < 1");
  if (x.device == Device::cuda)
    return cuda::adagrad_rho_step(x.data, G.data, mu.data, g.data, x.numel(), rho, eta0);
  ref::adagrad_rho_step(x.data, G.data, mu.data, g.data, x.numel(), rho, eta0);
}

void momentum_step(const View& x, const View& mu, const View& g, float m, float eta) {
  check_state("momentum_step", x, {&mu, &g});
  if (x.device == Device::cuda) return cuda::momentum_step(x.data, mu.data, g.data, x.numel(), m, eta);
  ref::momentum_step(x.data, mu.data, g.data, x.numel(), m, eta);
}

void adam_step(const View& x, const View& m, const View& v, const View& g, const AdamParams& p, int64_t t) {
  check_state("adam_step", x, {&m, &v, &g});
  PI_CHECK(t >= 1, "adam_step: step counter starts at 1");
  if (x.device == Device::cuda) return cuda::adam_step(x.data, m.data, v.data, g.data, x.numel(), p, t);
  ref::adam_step(x.data, m.data, v.data, g.data, x.numel(), p, t);
}

}  // namespace preimage::kernels
