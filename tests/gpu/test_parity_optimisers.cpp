// [gpu] Device parity of kernels/cuda/optimisers.cu against the CPU reference (kernels/cpu/optimisers.cpp), over
// three consecutive steps so the state buffers carry over. The float expressions are the same; sqrt and division
// are correctly rounded on both devices, but nvcc may fuse rho G + g^2, m mu - eta g, b1 m + (1-b1) g, ... into
// FMAs: one rounding less per fused pair, about an ulp of the O(1) values per step, and the rounding differences
// feed the next step's state. Three steps stay within a few ulps (2.4e-7 each): atol = rtol = 2e-6. The Adam update
// divides by sqrt(v_hat) + eps, which amplifies nothing here because |g| is O(1), so v_hat is not near eps^2.
#include <catch2/catch.hpp>

#include "kernels/optimisers.h"
#include "parity.h"

using namespace preimage;
using test::parity_shapes;
using test::random_tensor;
using test::require_close;

namespace {
constexpr double kTol = 2e-6;
void require_all_close(const std::vector<const Tensor*>& device, const std::vector<const Tensor*>& host) {
  for (size_t i = 0; i < device.size(); ++i) {
    INFO("buffer " << i);
    require_close(device[i]->to_vector(), host[i]->to_vector(), kTol, kTol);
  }
}
}  // namespace

TEST_CASE("cuda adagrad-rho steps match the CPU reference", "[gpu][parity][optimisers]") {
  for (const Shape& s : parity_shapes()) {
    INFO("shape " << s.str());
    Tensor x = random_tensor(s, 41), G = Tensor::zeros(s), mu = Tensor::zeros(s);
    Tensor dx = x.to(Device::cuda), dG = G.to(Device::cuda), dmu = mu.to(Device::cuda);
    for (int step = 0; step < 3; ++step) {
      Tensor g = random_tensor(s, 42 + step), dg = g.to(Device::cuda);
      kernels::adagrad_rho_step(x, G, mu, g, 0.9f, 0.05f);
      kernels::adagrad_rho_step(dx, dG, dmu, dg, 0.9f, 0.05f);
    }
    require_all_close({&dx, &dG, &dmu}, {&x, &G, &mu});
  }
}

TEST_CASE("cuda momentum steps match the CPU reference", "[gpu][parity][optimisers]") {
  for (const Shape& s : parity_shapes()) {
    INFO("shape " << s.str());
    Tensor x = random_tensor(s, 51), mu = Tensor::zeros(s);
    Tensor dx = x.to(Device::cuda), dmu = mu.to(Device::cuda);
    for (int step = 0; step < 3; ++step) {
      Tensor g = random_tensor(s, 52 + step), dg = g.to(Device::cuda);
      kernels::momentum_step(x, mu, g, 0.9f, 0.01f);
      kernels::momentum_step(dx, dmu, dg, 0.9f, 0.01f);
    }
    require_all_close({&dx, &dmu}, {&x, &mu});
  }
}

TEST_CASE("cuda adam steps match the CPU reference", "[gpu][parity][optimisers]") {
  kernels::AdamParams p;
  p.lr = 0.05f;
  for (const Shape& s : parity_shapes()) {
    INFO("shape " << s.str());
    Tensor x = random_tensor(s, 61), m = Tensor::zeros(s), v = Tensor::zeros(s);
    Tensor dx = x.to(Device::cuda), dm = m.to(Device::cuda), dv = v.to(Device::cuda);
    for (int64_t t = 1; t <= 3; ++t) {
      Tensor g = random_tensor(s, 62 + t), dg = g.to(Device::cuda);
      kernels::adam_step(x, m, v, g, p, t);
      kernels::adam_step(dx, dm, dv, dg, p, t);
    }
    require_all_close({&dx, &dm, &dv}, {&x, &m, &v});
  }
}
