#pragma once
// Losses comparing a representation phi with a target phi0 (IJCV 2016 eqs. 2-4). Both return a scalar; backward
// ACCUMULATES d_y * dl/dphi into d_phi. phi0 and the mask are constants (no gradient). Formulas and batch convention:
// docs/ops/priors_and_losses.md.
//
//   normalised_l2 (eqs. 2-3), per sample n of the batch, summed over the batch:
//       l = sum_n ||(phi_n - phi0_n) . M_n||^2 / ||phi0_n . M_n||^2        (M = all ones when there is no mask)
//       dl/dphi_n = 2 (phi_n - phi0_n) . M_n^2 / ||phi0_n . M_n||^2
//     With one sample this is exactly eq. 3; per-sample normalisation makes a batch of inversions the sum of
//     independent ones. A sample whose masked phi0 is all zeros is an error (the loss is undefined).
//   inner_product (eq. 4):  l = -<phi, phi0> / Z over all elements;  dl/dphi = -phi0 / Z.
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

namespace ref {  // CPU reference: the spec, plain loops, double accumulation, instantiated for float and double
// phi, phi0, mask (null = all ones), d_phi: [n, d]. Throws preimage::Error if some ||phi0_n . M_n|| is 0.
template <typename T> T normalised_l2_forward(const T* phi, const T* phi0, const T* mask, int64_t n, int64_t d);
template <typename T>
void normalised_l2_backward(const T* phi, const T* phi0, const T* mask, T d_y, T* d_phi, int64_t n, int64_t d);
// phi, phi0, d_phi: [count]
template <typename T> T inner_product_forward(const T* phi, const T* phi0, int64_t count, T Z);
template <typename T> void inner_product_backward(const T* phi0, T d_y, T* d_phi, int64_t count, T Z);
// Throws when some sample's ||phi0 . M||^2 is 0 (the normalised loss is undefined there). phi0, mask: [n, d].
void check_normalised_l2_target(const float* phi0, const float* mask, int64_t n, int64_t d);
}  // namespace ref

// Launchers. phi, phi0 and mask share one shape; dim 0 is the batch when phi has 2 or more dims (a 0-d / 1-d phi is
// one sample). mask: an empty View means no mask. y / d_y: one element.
// On the CPU every call checks that each sample's ||phi0 . M|| is non-zero. On CUDA that check would cost a
// device->host copy per call, so the CUDA path leaves it to the caller, once per target
// (check_normalised_l2_target; the solver does it before its loop); a zero target gives a non-finite loss there.
void normalised_l2_forward(const View& phi, const View& phi0, const View& mask, const View& y);
void normalised_l2_backward(const View& phi, const View& phi0, const View& mask, const View& d_y,
                            const View& d_phi);
// The zero-target check of normalised_l2 on its own, for a target on any device (copies it to the host).
void check_normalised_l2_target(const View& phi0, const View& mask);
void inner_product_forward(const View& phi, const View& phi0, float Z, const View& y);
void inner_product_backward(const View& phi0, const View& d_y, const View& d_phi, float Z);

}  // namespace preimage::kernels
