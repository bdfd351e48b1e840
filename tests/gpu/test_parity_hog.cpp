// [gpu] Device parity of kernels/cuda/hog.cu against the CPU reference (kernels/cpu/hog.cpp, CpuPath::reference),
// which is bit for bit vl_hog. The kernels evaluate the reference's expressions in its order with
// round-to-nearest intrinsics (no FMA) and gather where it scatters, adding the same terms in the same order, so
// every step must match EXACTLY (atol = rtol = 0), including hard orientation assignment on images whose gradients
// sit on ties between two orientations (quantised pixel values: gx = +-gy, 45 degrees, halfway between the axes of
// 30 and 60 degrees for 6 orientations; the tie is decided by the last bit of the float scores).
// One exception, on a real GPU only: HOGb's angle weight goes through CUDA's acosf (2 ulp, CUDA C Programming Guide)
// where the CPU has glibc's; a weight then differs by ~1e-7 absolute, so the binning values and their gradient are
// compared with atol = rtol = 1e-5 there (the emulator calls the same acosf as the CPU: exact).
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/hog.h"
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

// Pixel values on a grid of 5 levels: many gradients with |gx| = |gy| (orientation ties) and zero gradients.
Tensor quantised_image(const Shape& s, uint64_t seed) {
  Tensor x = random_tensor(s, seed, 0.0f, 1.0f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::round(x.data()[i] * 4.0f) / 4.0f;
  return x;
}

Tensor cpu_gradient(const Tensor& image) {
  const Shape& s = image.shape();
  Tensor grad = Tensor::empty(Shape{s.n(), 2, s.h(), s.w()}), channel = Tensor::empty(Shape{s.n(), 1, s.h(), s.w()});
  kernels::hog_gradient_forward(image, grad, channel);
  return grad;
}

kernels::HogBinningParams binning(int cs, int no, bool bilinear) {
  kernels::HogBinningParams p;
  p.cell_size = cs;
  p.num_orientations = no;
  p.bilinear_orientations = bilinear;
  return p;
}

#ifdef PREIMAGE_CUDA_EMULATION
constexpr double kAcosTolerance = 0;  // the emulator's acosf is the CPU's
#else
constexpr double kAcosTolerance = 1e-5;
#endif

const std::vector<Shape>& image_shapes() {
  static const std::vector<Shape> shapes = {Shape{1, 1, 35, 43}, Shape{2, 3, 35, 43}, Shape{1, 3, 13, 9}};
  return shapes;
}
}  // namespace

TEST_CASE("cuda hog gradient forward and backward equal the CPU reference", "[gpu][parity][hog]") {
  ReferencePath reference;
  for (const Shape& s : image_shapes()) {
    for (int quantised = 0; quantised < 2; ++quantised) {
      INFO("image " << s.str() << (quantised ? ", quantised (channel ties)" : ", continuous"));
      const Shape gs{s.n(), 2, s.h(), s.w()}, cs{s.n(), 1, s.h(), s.w()};
      Tensor x = quantised ? quantised_image(s, 11) : random_tensor(s, 11);
      Tensor grad = Tensor::empty(gs), channel = Tensor::empty(cs);
      Tensor d_grad = random_tensor(gs, 12), d_image = random_tensor(s, 13);  // non-zero: backward accumulates
      Tensor dx = x.to(Device::cuda), dgrad = Tensor::empty(gs, Device::cuda), dchannel = Tensor::empty(cs, Device::cuda);
      Tensor dd_grad = d_grad.to(Device::cuda), dd_image = d_image.to(Device::cuda);

      kernels::hog_gradient_forward(x, grad, channel);
      kernels::hog_gradient_forward(dx, dgrad, dchannel);
      require_close(dgrad.to_vector(), grad.to_vector(), 0, 0);
      require_close(dchannel.to_vector(), channel.to_vector(), 0, 0);

      kernels::hog_gradient_backward(channel, d_grad, d_image);
      kernels::hog_gradient_backward(dchannel, dd_grad, dd_image);
      require_close(dd_image.to_vector(), d_image.to_vector(), 0, 0);
    }
  }
}

TEST_CASE("cuda hog binning forward and backward equal the CPU reference, orientation ties included",
          "[gpu][parity][hog]") {
  ReferencePath reference;
  const std::vector<kernels::HogBinningParams> cases = {binning(8, 9, false), binning(6, 6, false),
                                                        binning(8, 9, true), binning(6, 6, true),
                                                        binning(3, 4, false), binning(5, 7, true)};
  for (const kernels::HogBinningParams& p : cases) {
    for (const Shape& s : image_shapes()) {
      INFO("cell " << p.cell_size << ", " << p.num_orientations << " orientations, "
                   << (p.bilinear_orientations ? "HOGb" : "hard") << ", image " << s.str());
      const double tol = p.bilinear_orientations ? kAcosTolerance : 0.0;
      Tensor grad = cpu_gradient(quantised_image(s, 21));
      const Shape hs{s.n(), 2 * p.num_orientations, kernels::hog_cells(s.h(), p.cell_size),
                     kernels::hog_cells(s.w(), p.cell_size)};
      Tensor hist = Tensor::empty(hs), dhist = Tensor::empty(hs, Device::cuda), dgrad = grad.to(Device::cuda);
      kernels::hog_binning_forward(grad, p, hist);
      kernels::hog_binning_forward(dgrad, p, dhist);
      require_close(dhist.to_vector(), hist.to_vector(), tol, tol);

      Tensor d_hist = random_tensor(hs, 22), d_grad = random_tensor(grad.shape(), 23);
      Tensor dd_hist = d_hist.to(Device::cuda), dd_grad = d_grad.to(Device::cuda);
      kernels::hog_binning_backward(grad, d_hist, p, d_grad);
      kernels::hog_binning_backward(dgrad, dd_hist, p, dd_grad);
      require_close(dd_grad.to_vector(), d_grad.to_vector(), tol, tol);
    }
  }
}

TEST_CASE("cuda hog block normalisation forward and backward equal the CPU reference", "[gpu][parity][hog]") {
  ReferencePath reference;
  const std::vector<kernels::HogBinningParams> cases = {binning(8, 9, false), binning(6, 6, false)};
  for (const kernels::HogBinningParams& p : cases) {
    for (const Shape& s : image_shapes()) {
      // histograms of a real image's gradient: some blocks clamp at 0.2, others not
      Tensor grad = cpu_gradient(quantised_image(s, 31));
      const int64_t hog_h = kernels::hog_cells(s.h(), p.cell_size), hog_w = kernels::hog_cells(s.w(), p.cell_size);
      Tensor hist = Tensor::empty(Shape{s.n(), 2 * p.num_orientations, hog_h, hog_w});
      kernels::hog_binning_forward(grad, p, hist);
      Tensor dhist = hist.to(Device::cuda);
      for (kernels::HogVariant v : {kernels::HogVariant::uoctti, kernels::HogVariant::dalal_triggs}) {
        INFO("cell " << p.cell_size << ", " << p.num_orientations << " orientations, "
                     << (v == kernels::HogVariant::uoctti ? "UoCTTI" : "DalalTriggs") << ", image " << s.str());
        const Shape os{s.n(), kernels::hog_dimension(v, p.num_orientations), hog_h, hog_w};
        Tensor out = Tensor::empty(os), dout = Tensor::empty(os, Device::cuda);
        kernels::hog_normalise_forward(hist, v, out);
        kernels::hog_normalise_forward(dhist, v, dout);
        require_close(dout.to_vector(), out.to_vector(), 0, 0);

        Tensor d_out = random_tensor(os, 32), d_hist = random_tensor(hist.shape(), 33);
        Tensor dd_out = d_out.to(Device::cuda), dd_hist = d_hist.to(Device::cuda);
        kernels::hog_normalise_backward(hist, d_out, v, d_hist);
        kernels::hog_normalise_backward(dhist, dd_out, v, dd_hist);
        require_close(dd_hist.to_vector(), d_hist.to_vector(), 0, 0);
      }
    }
  }
}
