// Launchers for kernels/lrn.h, and the MatConvNet parameter conversion.
#include "kernels/lrn.h"
#include "kernels/cpu_isa.h"

#include <cmath>

#include "kernels/cuda/lrn.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {

LrnParams lrn_params_from_matconvnet(int n, float kappa, float alpha_divided, float beta) {
  // MatConvNet: L = kappa + alpha' * sum x^2 with alpha' = alpha / N (vl_nnnormalize); same window for any N.
  return LrnParams{n, alpha_divided * static_cast<float>(n), beta, kappa};
}

namespace {
struct LrnDims {
  int64_t n, c, hw;
};
LrnDims check_lrn(const char* op, const View& x, const LrnParams& p) {
  PI_CHECK(x.shape.ndim() >= 2, op, ": input must be [N, C, ...] with at least 2 dims, got shape ", x.shape.str());
  PI_CHECK(p.size >= 1, op, ": window size must be >= 1, got ", p.size);
  PI_CHECK(std::isfinite(p.alpha) && std::isfinite(p.beta) && std::isfinite(p.k), op,
           ": alpha, beta and k must be finite");
  PI_CHECK(p.k > 0.0f && p.alpha >= 0.0f, op, ": need k > 0 and alpha >= 0 so the normaliser stays positive, got k ",
           p.k, ", alpha ", p.alpha);
  check_contiguous(op, "input", x);
  LrnDims d{x.shape[0], x.shape[1], 1};
  for (int i = 2; i < x.shape.ndim(); ++i) d.hw *= x.shape[i];
  return d;
}
}  // namespace

void lrn_forward(const View& x, const View& y, const LrnParams& p) {
  const char* op = "lrn";
  check_same_device(op, {&x, &y});
  const LrnDims d = check_lrn(op, x, p);
  check_shape(op, "output", y, x.shape);
  check_contiguous(op, "output", y);
  if (x.device == Device::cuda) return cuda::lrn_forward(d.n, d.c, d.hw, p, x.data, y.data);
  if (cpu_path() == CpuPath::reference) return ref::lrn_forward(d.n, d.c, d.hw, p, x.data, y.data);
  cpu_kernels().pixelblock_lrn_forward(d.n, d.c, d.hw, p, x.data, y.data);
}

void lrn_backward(const View& x, const View& d_y, const View& d_x, const LrnParams& p) {
  const char* op = "lrn backward";
  check_same_device(op, {&x, &d_y, &d_x});
  const LrnDims d = check_lrn(op, x, p);
  check_shape(op, "d_y", d_y, x.shape);
  check_shape(op, "d_x", d_x, x.shape);
  check_contiguous(op, "d_y", d_y);
  check_contiguous(op, "d_x", d_x);
  if (x.device == Device::cuda) return cuda::lrn_backward(d.n, d.c, d.hw, p, x.data, d_y.data, d_x.data);
  if (cpu_path() == CpuPath::reference) return ref::lrn_backward(d.n, d.c, d.hw, p, x.data, d_y.data, d_x.data);
  cpu_kernels().pixelblock_lrn_backward(d.n, d.c, d.hw, p, x.data, d_y.data, d_x.data);
}

}  // namespace preimage::kernels
