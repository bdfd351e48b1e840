// [gpu] Device parity of kernels/cuda/dsift.cu against the CPU reference (kernels/cpu/dsift.cpp, CpuPath::reference).
// The kernels evaluate the reference's expressions in its order (round-to-nearest intrinsics, no FMA) and gather
// where it scatters, adding the same terms in the same order:
//  * DsiftMath::vlfeat forward uses only + - * / and bit tricks: EXACT on every device (atol = rtol = 0), shown on
//    an image quantised to integers (zero gradients, gradients on bin boundaries).
//  * DsiftMath::exact forward and the backward go through atan2f: exact on the emulator (glibc's atan2f on both
//    sides); on a real GPU CUDA's atan2f is within 3 ulp (CUDA C Programming Guide), which moves an orientation
//    weight r by ~1e-7 absolute: the unit-norm descriptor then differs by ~1e-6, and the gradient by ~1e-6 of its
//    scale: atol = rtol = 1e-4 there. Those cases use continuous random images, so no pixel sits on a bin boundary
//    where a one-ulp angle could move it to the other bin (a jump of the backward's gradient).
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/dsift.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

namespace {
struct ReferencePath {  // the parity is against the spec, not the vectorised CPU path
  kernels::CpuPath saved = kernels::cpu_path();
  ReferencePath() { kernels::set_cpu_path(kernels::CpuPath::reference); }
  ~ReferencePath() { kernels::set_cpu_path(saved); }
};

kernels::DsiftParams params(int step, int bin_size, bool flat) {
  kernels::DsiftParams p;
  p.step = step;
  p.bin_size = bin_size;
  p.flat_window = flat;
  return p;
}

#ifdef PREIMAGE_CUDA_EMULATION
constexpr double kAtan2Tolerance = 0;  // the emulator's atan2f is the CPU's
#else
constexpr double kAtan2Tolerance = 1e-4;
#endif

const std::vector<kernels::DsiftParams>& cases() {
  static const std::vector<kernels::DsiftParams> c = {params(4, 8, false), params(4, 8, true), params(3, 5, false),
                                                      params(5, 6, true)};
  return c;
}
const std::vector<Shape>& shapes() {
  static const std::vector<Shape> s = {Shape{1, 1, 35, 43}, Shape{2, 1, 33, 26}};
  return s;
}
}  // namespace

TEST_CASE("cuda dsift forward equals the CPU reference (both windows, both maths)", "[gpu][parity][dsift]") {
  ReferencePath reference;
  for (const kernels::DsiftParams& p : cases()) {
    for (const Shape& s : shapes()) {
      for (kernels::DsiftMath math : {kernels::DsiftMath::vlfeat, kernels::DsiftMath::exact}) {
        const bool vlfeat = math == kernels::DsiftMath::vlfeat;
        INFO("step " << p.step << ", bin " << p.bin_size << (p.flat_window ? ", flat" : ", Gaussian") << " window, "
                     << (vlfeat ? "vlfeat" : "exact") << " math, image " << s.str());
        Tensor x = random_tensor(s, 41, 0.0f, 255.0f);
        if (vlfeat)
          for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::round(x.data()[i] / 16.0f) * 16.0f;
        const kernels::DsiftGeometry g = kernels::dsift_geometry(s.h(), s.w(), p);
        const Shape os{s.n(), kernels::DsiftGeometry::kDims, g.frames_y, g.frames_x};
        Tensor out = Tensor::empty(os), dout = Tensor::empty(os, Device::cuda), dx = x.to(Device::cuda);
        kernels::dsift_forward(x, out, p, math);
        kernels::dsift_forward(dx, dout, p, math);
        const double tol = vlfeat ? 0.0 : kAtan2Tolerance;
        require_close(dout.to_vector(), out.to_vector(), tol, tol);
      }
    }
  }
}

TEST_CASE("cuda dsift backward equals the CPU reference (both windows)", "[gpu][parity][dsift]") {
  ReferencePath reference;
  for (const kernels::DsiftParams& p : cases()) {
    for (const Shape& s : shapes()) {
      INFO("step " << p.step << ", bin " << p.bin_size << (p.flat_window ? ", flat" : ", Gaussian") << " window, image "
                   << s.str());
      Tensor x = random_tensor(s, 51, 0.0f, 255.0f);
      const kernels::DsiftGeometry g = kernels::dsift_geometry(s.h(), s.w(), p);
      const Shape os{s.n(), kernels::DsiftGeometry::kDims, g.frames_y, g.frames_x};
      Tensor d_out = random_tensor(os, 52), d_x = random_tensor(s, 53, -1e-3f, 1e-3f);  // non-zero: accumulates
      Tensor dx = x.to(Device::cuda), dd_out = d_out.to(Device::cuda), dd_x = d_x.to(Device::cuda);
      kernels::dsift_backward(x, d_out, d_x, p);
      kernels::dsift_backward(dx, dd_out, dd_x, p);
      require_close(dd_x.to_vector(), d_x.to_vector(), kAtan2Tolerance * 1e-2, kAtan2Tolerance);
    }
  }
}
