#pragma once
// Image priors of the pre-image objective and the B+ projection. All take an image batch x [N, C, H, W] and return
// a scalar; backward ACCUMULATES d_y * dR/dx into d_x. Formulas, normalisations and border convention:
// docs/ops/priors_and_losses.md.
//
//   alpha_norm (CVPR 2015 sect. 3, R_alpha = ||x - mean||_alpha^alpha):
//       R = sum_{n,c,v,u} |x[n,c,v,u] - m[n,c]|^alpha,   m[n,c] = mean_{v,u} x[n,c,v,u]   (no normalisation)
//       dR/dx[n,c,i] = g_i - mean_j g_j,   g_i = alpha |d_i|^(alpha-1) sign(d_i),   d_i = x_i - m
//       (the second term is the path through the mean; g_i is taken as 0 where d_i = 0, a kink for alpha <= 1).
//   isotropic_alpha_norm (IJCV 2016 eq. 5, exponent alpha/2; the printed 1/2 is a typo):
//       N = 1/(H W) sum_{n,v,u} (s[n,v,u] / B^2)^(alpha/2),   s = sum_k x[n,k,v,u]^2
//       dN/dx[n,k,v,u] = alpha / (H W B^2) (s / B^2)^(alpha/2 - 1) x[n,k,v,u]   (0 where s = 0)
//   tv_beta (IJCV 2016 sect. 3.2.2, CVPR 2015 V^beta):
//       TV = 1/(H W) sum_{n,k,v,u} (q[n,k,v,u] / V^2)^(beta/2),
//       q = (x[v,u+1] - x[v,u])^2 + (x[v+1,u] - x[v,u])^2, a difference past the last column / row is 0
//       (replicated border). The gradient of a term with q = 0 is taken as 0 (exact for beta > 1, a kink else).
//   project_ball (IJCV 2016 eq. 6 / Algorithm 1 line 8, Pi_{B+}): every pixel's channel vector x[n,:,v,u] with
//       Euclidean norm r > radius is scaled by radius / r; others are unchanged. In place, no gradient.
// Dividing s by B^2 (q by V^2) before the power is the same function as dividing the sum by B^alpha (V^beta) and
// keeps the terms near 1 instead of near 80^6.
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

namespace ref {  // CPU reference: the spec, plain loops, double accumulation, instantiated for float and double
// x, d_x: [nc, hw] (nc = N * C image planes of hw = H * W pixels)
template <typename T> T alpha_norm_forward(const T* x, int64_t nc, int64_t hw, T alpha);
template <typename T> void alpha_norm_backward(const T* x, T d_y, T* d_x, int64_t nc, int64_t hw, T alpha);
// x, d_x: [n, c, h, w]
template <typename T>
T isotropic_alpha_norm_forward(const T* x, int64_t n, int64_t c, int64_t h, int64_t w, T alpha, T B);
template <typename T>
void isotropic_alpha_norm_backward(const T* x, T d_y, T* d_x, int64_t n, int64_t c, int64_t h, int64_t w, T alpha,
                                   T B);
// x, d_x: [nc, h, w]
template <typename T> T tv_beta_forward(const T* x, int64_t nc, int64_t h, int64_t w, T beta, T V);
template <typename T> void tv_beta_backward(const T* x, T d_y, T* d_x, int64_t nc, int64_t h, int64_t w, T beta, T V);
// x: [n, c, hw], modified in place
template <typename T> void project_ball(T* x, int64_t n, int64_t c, int64_t hw, T radius);
}  // namespace ref

// Faster CPU path (kernels/cpu/regularisers_simd.cpp), float, for the exponents the papers use: `supports(e)` is true
// for even integers e in [2, 16] (alpha = 6, beta = 2). Each pixel's arithmetic is the reference's, in double, in the
// same order (z^(e/2) by repeated multiplication), so the gradients are bit for bit the reference's; the loops over
// pixels are vectorised (OpenMP simd) and the sums are accumulated in double partial sums, so a forward value differs
// from the reference by the summation order only (relative 1e-12 before the final rounding to float).
// Launchers fall back to ref:: for other exponents.
namespace simd {
bool supports(float exponent);
float isotropic_alpha_norm_forward(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, float alpha, float B);
void isotropic_alpha_norm_backward(const float* x, float d_y, float* d_x, int64_t n, int64_t c, int64_t h, int64_t w,
                                   float alpha, float B);
float tv_beta_forward(const float* x, int64_t nc, int64_t h, int64_t w, float beta, float V);
void tv_beta_backward(const float* x, float d_y, float* d_x, int64_t nc, int64_t h, int64_t w, float beta, float V);
void project_ball(float* x, int64_t n, int64_t c, int64_t hw, float radius);  // bit for bit the reference's
}  // namespace simd

// Launchers: x / d_x [N, C, H, W], y / d_y one element.
void alpha_norm_forward(const View& x, float alpha, const View& y);
void alpha_norm_backward(const View& x, const View& d_y, const View& d_x, float alpha);
void isotropic_alpha_norm_forward(const View& x, float alpha, float B, const View& y);
void isotropic_alpha_norm_backward(const View& x, const View& d_y, const View& d_x, float alpha, float B);
void tv_beta_forward(const View& x, float beta, float V, const View& y);
void tv_beta_backward(const View& x, const View& d_y, const View& d_x, float beta, float V);
void project_ball(const View& x, float radius);

}  // namespace preimage::kernels
