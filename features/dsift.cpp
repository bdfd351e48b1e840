// DSIFT entry points (features/dsift.h): thin wrappers over the kernels/dsift.h launchers plus the tape op.
#include "features/dsift.h"

#include <memory>

namespace preimage::features {

DsiftGeometry dsift_geometry(int64_t height, int64_t width, const DsiftParams& p) {
  return kernels::dsift_geometry(height, width, p);
}

// vl_dsift: frame origin fx * step (bounds start at 0) plus half the 3 * bin_size span between the outer bin centres.
double dsift_frame_center_x(const DsiftGeometry& g, int64_t fx) {
  return static_cast<double>(fx * g.step) + 0.5 * g.bin_size * (DsiftGeometry::kBins - 1);
}
double dsift_frame_center_y(const DsiftGeometry& g, int64_t fy) {
  return static_cast<double>(fy * g.step) + 0.5 * g.bin_size * (DsiftGeometry::kBins - 1);
}

namespace {
Shape output_shape(const View& image, const DsiftParams& p) {
  check_ndim("dsift", "image", image, 4);
  const DsiftGeometry g = kernels::dsift_geometry(image.shape[2], image.shape[3], p);
  return Shape{image.shape[0], DsiftGeometry::kDims, g.frames_y, g.frames_x};
}
}  // namespace

Tensor dsift(const View& image, const DsiftParams& p, DsiftMath math) {
  Tensor out = Tensor::empty(output_shape(image, p), image.device);
  kernels::dsift_forward(image, out, p, math);
  return out;
}

Var dsift(Tape& t, Var image, const DsiftParams& p) {
  const View x = t.value(image);
  Tensor y = Tensor::empty(output_shape(x, p), x.device);
  // Intermediates for the backward (CPU): kept only when a gradient will be asked for.
  auto saved = std::make_shared<kernels::DsiftSaved>();
  kernels::dsift_forward(x, y.view(), p, DsiftMath::exact, t.requires_grad(image) ? saved.get() : nullptr);
  return t.record(Op::dsift, std::move(y), {image}, [image, p, saved](Tape& tp, const View& d_y) {
    if (tp.requires_grad(image)) kernels::dsift_backward(tp.value(image), d_y, tp.grad_of(image), p, saved.get());
  });
}

}  // namespace preimage::features
