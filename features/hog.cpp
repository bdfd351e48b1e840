// HOG forward and tape op: three recorded steps, each a kernel of kernels/hog.h.
#include "features/hog.h"

#include <algorithm>
#include <memory>

#include "engine/error.h"

namespace preimage::features {
namespace {

kernels::HogBinningParams binning_params(const HogParams& p) {
  kernels::HogBinningParams b;
  b.cell_size = p.cell_size;
  b.num_orientations = p.num_orientations;
  b.bilinear_orientations = p.bilinear_orientations;
  return b;
}

Shape hist_shape(const Shape& image, const HogParams& p) {
  return Shape{image.n(), 2 * p.num_orientations, kernels::hog_cells(image.h(), p.cell_size),
               kernels::hog_cells(image.w(), p.cell_size)};
}

Shape feature_shape(const Shape& image, const HogParams& p) {
  return Shape{image.n(), hog_dimension(p), kernels::hog_cells(image.h(), p.cell_size),
               kernels::hog_cells(image.w(), p.cell_size)};
}

}  // namespace

int64_t hog_dimension(const HogParams& p) { return kernels::hog_dimension(p.variant, p.num_orientations); }

void hog_check_image(const Shape& image, const HogParams& p) {
  PI_CHECK(p.cell_size >= 1, "hog: cell size must be at least 1, got ", p.cell_size);
  PI_CHECK(p.num_orientations >= 1, "hog: number of orientations must be at least 1, got ", p.num_orientations);
  PI_CHECK(image.ndim() == 4, "hog: the image must be [N, C, H, W], got ", image.str());
  PI_CHECK(image.n() >= 1 && image.c() >= 1, "hog: the image ", image.str(), " has no samples or no channels");
  const int64_t hh = kernels::hog_cells(image.h(), p.cell_size), hw = kernels::hog_cells(image.w(), p.cell_size);
  PI_CHECK(image.h() >= 4 && image.w() >= 4 && hh >= 2 && hw >= 2, "hog: image ", image.str(),
           " is smaller than two cells of ", p.cell_size, " pixels in each direction (HOG grid ", hh, "x", hw,
           "; need at least 2x2 cells, i.e. H and W of at least ", std::max(4, 2 * p.cell_size - p.cell_size / 2),
           " pixels): use a larger image or a smaller cell size");
}

Tensor hog_forward(const View& image, const HogParams& p) {
  hog_check_image(image.shape, p);
  const Shape& s = image.shape;
  Tensor grad = Tensor::empty(Shape{s.n(), 2, s.h(), s.w()}, image.device);
  Tensor channel = Tensor::empty(Shape{s.n(), 1, s.h(), s.w()}, image.device);
  kernels::hog_gradient_forward(image, grad, channel);
  Tensor hist = Tensor::empty(hist_shape(s, p), image.device);
  kernels::hog_binning_forward(grad, binning_params(p), hist);
  Tensor out = Tensor::empty(feature_shape(s, p), image.device);
  kernels::hog_normalise_forward(hist, p.variant, out);
  return out;
}

Var hog(Tape& t, Var image, const HogParams& p) {
  const View iv = t.value(image);
  hog_check_image(iv.shape, p);
  const Shape& s = iv.shape;

  // step 1: the chosen channel per pixel is saved state for backward (the closure must be copyable)
  Tensor grad = Tensor::empty(Shape{s.n(), 2, s.h(), s.w()}, iv.device);
  auto channel = std::make_shared<Tensor>(Tensor::empty(Shape{s.n(), 1, s.h(), s.w()}, iv.device));
  kernels::hog_gradient_forward(iv, grad, *channel);
  Var g = t.record(Op::hog_gradient, std::move(grad), {image}, [image, channel](Tape& tp, const View& d_grad) {
    if (tp.requires_grad(image)) kernels::hog_gradient_backward(*channel, d_grad, tp.grad_of(image));
  });

  // step 2
  const kernels::HogBinningParams bp = binning_params(p);
  Tensor hist = Tensor::empty(hist_shape(s, p), iv.device);
  kernels::hog_binning_forward(t.value(g), bp, hist);
  Var h = t.record(Op::hog_binning, std::move(hist), {g}, [g, bp](Tape& tp, const View& d_hist) {
    if (tp.requires_grad(g)) kernels::hog_binning_backward(tp.value(g), d_hist, bp, tp.grad_of(g));
  });

  // step 3
  const HogVariant variant = p.variant;
  Tensor out = Tensor::empty(feature_shape(s, p), iv.device);
  kernels::hog_normalise_forward(t.value(h), variant, out);
  return t.record(Op::hog_normalise, std::move(out), {h}, [h, variant](Tape& tp, const View& d_out) {
    if (tp.requires_grad(h)) kernels::hog_normalise_backward(tp.value(h), d_out, variant, tp.grad_of(h));
  });
}

}  // namespace preimage::features
