// Launchers for kernels/activation.h.
#include "kernels/activation.h"
#include "kernels/cpu_isa.h"

#include "kernels/cuda/activation.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {
void check_unary(const char* op, const View& x, const View& y) {
  check_same_device(op, {&x, &y});
  check_same_shape(op, x, y);
  check_contiguous(op, "input", x);
  check_contiguous(op, "output", y);
}
}  // namespace

void leaky_relu_forward(const View& x, const View& y, float slope) {
  check_unary("leaky_relu", x, y);
  if (x.device == Device::cuda) return cuda::leaky_relu_forward(x.data, y.data, x.numel(), slope);
  if (cpu_path() == CpuPath::reference) return ref::leaky_relu_forward(x.data, y.data, x.numel(), slope);
  cpu_kernels().simd_leaky_relu_forward(x.data, y.data, x.numel(), slope);
}

void leaky_relu_backward(const View& x, const View& d_y, const View& d_x, float slope) {
  check_unary("leaky_relu backward", x, d_y);
  check_unary("leaky_relu backward", x, d_x);
  if (x.device == Device::cuda) return cuda::leaky_relu_backward(x.data, d_y.data, d_x.data, x.numel(), slope);
  if (cpu_path() == CpuPath::reference) return ref::leaky_relu_backward(x.data, d_y.data, d_x.data, x.numel(), slope);
  cpu_kernels().simd_leaky_relu_backward(x.data, d_y.data, d_x.data, x.numel(), slope);
}

void relu_forward(const View& x, const View& y) { leaky_relu_forward(x, y, 0.0f); }
void relu_backward(const View& x, const View& d_y, const View& d_x) { leaky_relu_backward(x, d_y, d_x, 0.0f); }

}  // namespace preimage::kernels
