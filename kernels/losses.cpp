// Launchers for kernels/losses.h.
#include "kernels/losses.h"

#include <cmath>

#include "kernels/cuda/losses.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
void check_pair(const char* op, const View& phi, const View& phi0) {
  check_same_device(op, {&phi, &phi0});
  if (phi.shape != phi0.shape)
    fail(op, ": phi has shape ", phi.shape.str(), " but the target phi0 has shape ", phi0.shape.str(),
         "; compute phi0 with the same representation and input size");
  check_contiguous(op, "phi", phi);
  check_contiguous(op, "phi0", phi0);
  PI_CHECK(phi.numel() > 0, op, ": phi ", phi.shape.str(), " is empty");
}
void check_mask(const char* op, const View& phi, const View& mask) {
  if (!mask.data) return;
  check_same_device(op, {&phi, &mask});
  if (mask.shape != phi.shape)
    fail(op, ": mask has shape ", mask.shape.str(), " but phi has shape ", phi.shape.str(),
         "; the mask must have the representation's shape (IJCV eq. 3)");
  check_contiguous(op, "mask", mask);
}
void check_scalar(const char* op, const char* what, const View& phi, const View& y) {
  check_same_device(op, {&phi, &y});
  PI_CHECK(y.numel() == 1, op, ": ", what, " must have one element, got shape ", y.shape.str());
}
void check_z(const char* op, float Z) {
  PI_CHECK(std::isfinite(Z) && Z > 0, op, ": normaliser Z = ", Z,
           " must be positive and finite (IJCV sect. 3.1: Z is chosen so the loss is about 1)");
}
// Samples and elements per sample: dim 0 is the batch for 2-d and larger phi.
int64_t batch_of(const View& phi) { return phi.shape.ndim() >= 2 ? phi.shape[0] : 1; }
}  // namespace

void normalised_l2_forward(const View& phi, const View& phi0, const View& mask, const View& y) {
  check_pair("normalised_l2", phi, phi0);
  check_mask("normalised_l2", phi, mask);
  check_scalar("normalised_l2", "output", phi, y);
  const int64_t n = batch_of(phi);
  if (phi.device == Device::cuda)
    return cuda::normalised_l2_forward(phi.data, phi0.data, mask.data, n, phi.numel() / n, y.data);
  y.data[0] = ref::normalised_l2_forward(phi.data, phi0.data, mask.data, n, phi.numel() / n);
}

void check_normalised_l2_target(const View& phi0, const View& mask) {
  check_mask("normalised_l2", phi0, mask);
  const int64_t n = batch_of(phi0);
  if (phi0.device == Device::cpu) return ref::check_normalised_l2_target(phi0.data, mask.data, n, phi0.numel() / n);
  const Tensor p = Tensor::copy_of(phi0).to(Device::cpu);
  const Tensor m = mask.data ? Tensor::copy_of(mask).to(Device::cpu) : Tensor();
  ref::check_normalised_l2_target(p.data(), mask.data ? m.data() : nullptr, n, phi0.numel() / n);
}

void normalised_l2_backward(const View& phi, const View& phi0, const View& mask, const View& d_y,
                            const View& d_phi) {
  check_pair("normalised_l2 backward", phi, phi0);
  check_mask("normalised_l2 backward", phi, mask);
  check_scalar("normalised_l2 backward", "d_y", phi, d_y);
  check_same_device("normalised_l2 backward", {&phi, &d_phi});
  check_same_shape("normalised_l2 backward", phi, d_phi);
  check_contiguous("normalised_l2 backward", "d_phi", d_phi);
  const int64_t n = batch_of(phi);
  if (phi.device == Device::cuda)
    return cuda::normalised_l2_backward(phi.data, phi0.data, mask.data, d_y.data, d_phi.data, n, phi.numel() / n);
  ref::normalised_l2_backward(phi.data, phi0.data, mask.data, d_y.data[0], d_phi.data, n, phi.numel() / n);
}

void inner_product_forward(const View& phi, const View& phi0, float Z, const View& y) {
  check_pair("inner_product", phi, phi0);
  check_scalar("inner_product", "output", phi, y);
  check_z("inner_product", Z);
  if (phi.device == Device::cuda) return cuda::inner_product_forward(phi.data, phi0.data, phi.numel(), Z, y.data);
  y.data[0] = ref::inner_product_forward(phi.data, phi0.data, phi.numel(), Z);
}

void inner_product_backward(const View& phi0, const View& d_y, const View& d_phi, float Z) {
  check_pair("inner_product backward", d_phi, phi0);
  check_scalar("inner_product backward", "d_y", phi0, d_y);
  check_z("inner_product backward", Z);
  if (phi0.device == Device::cuda)
    return cuda::inner_product_backward(phi0.data, d_y.data, d_phi.data, phi0.numel(), Z);
  ref::inner_product_backward(phi0.data, d_y.data[0], d_phi.data, phi0.numel(), Z);
}

}  // namespace preimage::kernels
