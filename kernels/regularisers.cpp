// Launchers for kernels/regularisers.h: check operands, then run the vectorised path (simd::) for even integer
// exponents unless cpu_path() is reference, else the reference.
#include "kernels/regularisers.h"
#include "kernels/cpu_isa.h"

#include <cmath>

#include "kernels/cuda/regularisers.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
void check_image(const char* op, const View& x) {
  check_ndim(op, "input", x, 4);
  check_contiguous(op, "input", x);
  PI_CHECK(x.numel() > 0, op, ": input ", x.shape.str(), " is empty");
}
void check_scalar_out(const char* op, const char* what, const View& x, const View& y) {
  check_same_device(op, {&x, &y});
  PI_CHECK(y.numel() == 1, op, ": ", what, " must have one element, got shape ", y.shape.str());
}
void check_grad(const char* op, const View& x, const View& d_y, const View& d_x) {
  check_image(op, x);
  check_scalar_out(op, "d_y", x, d_y);
  check_same_device(op, {&x, &d_x});
  check_same_shape(op, x, d_x);
  check_contiguous(op, "d_x", d_x);
}
// The vectorised path (simd::) covers the papers' even integer exponents; the reference takes the others.
bool fast_for(float exponent) { return cpu_path() == CpuPath::fast && simd::supports(exponent); }
void check_positive(const char* op, const char* name, float v, const char* hint) {
  PI_CHECK(std::isfinite(v) && v > 0, op, ": ", name, " = ", v, " must be positive and finite", hint);
}
}  // namespace

void alpha_norm_forward(const View& x, float alpha, const View& y) {
  check_image("alpha_norm", x);
  check_scalar_out("alpha_norm", "output", x, y);
  check_positive("alpha_norm", "alpha", alpha, " (the papers use 6)");
  const Shape& s = x.shape;
  if (x.device == Device::cuda) return cuda::alpha_norm_forward(x.data, s.n() * s.c(), s.h() * s.w(), alpha, y.data);
  y.data[0] = ref::alpha_norm_forward(x.data, s.n() * s.c(), s.h() * s.w(), alpha);
}

void alpha_norm_backward(const View& x, const View& d_y, const View& d_x, float alpha) {
  check_grad("alpha_norm backward", x, d_y, d_x);
  check_positive("alpha_norm backward", "alpha", alpha, "");
  const Shape& s = x.shape;
  if (x.device == Device::cuda)
    return cuda::alpha_norm_backward(x.data, d_y.data, d_x.data, s.n() * s.c(), s.h() * s.w(), alpha);
  ref::alpha_norm_backward(x.data, d_y.data[0], d_x.data, s.n() * s.c(), s.h() * s.w(), alpha);
}

void isotropic_alpha_norm_forward(const View& x, float alpha, float B, const View& y) {
  check_image("isotropic_alpha_norm", x);
  check_scalar_out("isotropic_alpha_norm", "output", x, y);
  check_positive("isotropic_alpha_norm", "alpha", alpha, " (IJCV default 6)");
  check_positive("isotropic_alpha_norm", "B", B, " (the typical pixel RGB norm; IJCV default 80)");
  const Shape& s = x.shape;
  if (x.device == Device::cuda)
    return cuda::isotropic_alpha_norm_forward(x.data, s.n(), s.c(), s.h(), s.w(), alpha, B, y.data);
  y.data[0] = fast_for(alpha) ? cpu_kernels().simd_isotropic_alpha_norm_forward(x.data, s.n(), s.c(), s.h(), s.w(), alpha, B)
                              : ref::isotropic_alpha_norm_forward(x.data, s.n(), s.c(), s.h(), s.w(), alpha, B);
}

void isotropic_alpha_norm_backward(const View& x, const View& d_y, const View& d_x, float alpha, float B) {
  check_grad("isotropic_alpha_norm backward", x, d_y, d_x);
  check_positive("isotropic_alpha_norm backward", "alpha", alpha, "");
  check_positive("isotropic_alpha_norm backward", "B", B, "");
  const Shape& s = x.shape;
  if (x.device == Device::cuda)
    return cuda::isotropic_alpha_norm_backward(x.data, d_y.data, d_x.data, s.n(), s.c(), s.h(), s.w(), alpha, B);
  if (fast_for(alpha))
    cpu_kernels().simd_isotropic_alpha_norm_backward(x.data, d_y.data[0], d_x.data, s.n(), s.c(), s.h(), s.w(), alpha, B);
  else
    ref::isotropic_alpha_norm_backward(x.data, d_y.data[0], d_x.data, s.n(), s.c(), s.h(), s.w(), alpha, B);
}

void tv_beta_forward(const View& x, float beta, float V, const View& y) {
  check_image("tv_beta", x);
  check_scalar_out("tv_beta", "output", x, y);
  check_positive("tv_beta", "beta", beta, " (IJCV default 2)");
  check_positive("tv_beta", "V", V, " (the typical image gradient norm; IJCV default B / 6.5)");
  const Shape& s = x.shape;
  if (x.device == Device::cuda) return cuda::tv_beta_forward(x.data, s.n() * s.c(), s.h(), s.w(), beta, V, y.data);
  y.data[0] = fast_for(beta) ? cpu_kernels().simd_tv_beta_forward(x.data, s.n() * s.c(), s.h(), s.w(), beta, V)
                             : ref::tv_beta_forward(x.data, s.n() * s.c(), s.h(), s.w(), beta, V);
}

void tv_beta_backward(const View& x, const View& d_y, const View& d_x, float beta, float V) {
  check_grad("tv_beta backward", x, d_y, d_x);
  check_positive("tv_beta backward", "beta", beta, "");
  check_positive("tv_beta backward", "V", V, "");
  const Shape& s = x.shape;
  if (x.device == Device::cuda)
    return cuda::tv_beta_backward(x.data, d_y.data, d_x.data, s.n() * s.c(), s.h(), s.w(), beta, V);
  if (fast_for(beta))
    cpu_kernels().simd_tv_beta_backward(x.data, d_y.data[0], d_x.data, s.n() * s.c(), s.h(), s.w(), beta, V);
  else
    ref::tv_beta_backward(x.data, d_y.data[0], d_x.data, s.n() * s.c(), s.h(), s.w(), beta, V);
}

void project_ball(const View& x, float radius) {
  check_image("project_ball", x);
  check_positive("project_ball", "radius", radius, " (IJCV: B+ = 2 B)");
  const Shape& s = x.shape;
  if (x.device == Device::cuda) return cuda::project_ball(x.data, s.n(), s.c(), s.h() * s.w(), radius);
  if (cpu_path() == CpuPath::fast)
    cpu_kernels().simd_project_ball(x.data, s.n(), s.c(), s.h() * s.w(), radius);
  else
    ref::project_ball(x.data, s.n(), s.c(), s.h() * s.w(), radius);
}

}  // namespace preimage::kernels
