// Launchers for kernels/hog.h: check devices and shapes, then run the CUDA kernels (kernels/cuda/hog.cu, whole batch)
// or, per sample of the batch (the samples in parallel: engine/threads.h for_each_sample), the cellrow path (all
// three steps, forward and backward) or, when cpu_path() is reference, the CPU reference.
#include "kernels/hog.h"
#include "kernels/cpu_isa.h"

#include "engine/threads.h"
#include "kernels/cuda/hog.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {
namespace {

void check_params(const char* op, const HogBinningParams& p) {
  PI_CHECK(p.cell_size >= 1, op, ": cell size must be at least 1, got ", p.cell_size);
  PI_CHECK(p.num_orientations >= 1, op, ": number of orientations must be at least 1, got ", p.num_orientations);
}

int orientations_of(const char* op, const View& hist) {
  PI_CHECK(hist.shape.c() % 2 == 0 && hist.shape.c() >= 2, op, ": the histogram must have 2*NO channels (directed "
           "bins), got shape ", hist.shape.str());
  return static_cast<int>(hist.shape.c() / 2);
}

}  // namespace

void hog_gradient_forward(const View& image, const View& grad, const View& channel) {
  const char* op = "hog_gradient";
  check_same_device(op, {&image, &grad, &channel});
  check_ndim(op, "image", image, 4);
  const Shape& s = image.shape;
  PI_CHECK(s.h() >= 3 && s.w() >= 3, op, ": image ", s.str(), " is too small for central differences (need at least "
           "3x3 pixels)");
  check_shape(op, "gradient", grad, Shape{s.n(), 2, s.h(), s.w()});
  check_shape(op, "channel map", channel, Shape{s.n(), 1, s.h(), s.w()});
  for (const View* v : {&image, &grad, &channel}) check_contiguous(op, "operand", *v);
  if (image.device == Device::cuda)
    return cuda::hog_gradient_forward(s.n(), s.c(), s.h(), s.w(), image.data, grad.data, channel.data);
  const bool fast = cpu_path() == CpuPath::fast;
  for_each_sample(s.n(), [&](int64_t n, int) {
    if (fast) {
      cpu_kernels().cellrow_hog_gradient_forward(image.batch(n).data, s.c(), s.h(), s.w(), grad.batch(n).data,
                                    channel.batch(n).data);
    } else {
      ref::hog_gradient_forward(image.batch(n).data, s.c(), s.h(), s.w(), grad.batch(n).data, channel.batch(n).data);
    }
  });
}

void hog_gradient_backward(const View& channel, const View& d_grad, const View& d_image) {
  const char* op = "hog_gradient backward";
  check_same_device(op, {&channel, &d_grad, &d_image});
  check_ndim(op, "image gradient", d_image, 4);
  const Shape& s = d_image.shape;
  check_shape(op, "gradient", d_grad, Shape{s.n(), 2, s.h(), s.w()});
  check_shape(op, "channel map", channel, Shape{s.n(), 1, s.h(), s.w()});
  for (const View* v : {&channel, &d_grad, &d_image}) check_contiguous(op, "operand", *v);
  if (d_image.device == Device::cuda)
    return cuda::hog_gradient_backward(s.n(), s.c(), s.h(), s.w(), channel.data, d_grad.data, d_image.data);
  const bool fast = cpu_path() == CpuPath::fast;
  for_each_sample(s.n(), [&](int64_t n, int) {
    if (fast) {
      cpu_kernels().cellrow_hog_gradient_backward(channel.batch(n).data, d_grad.batch(n).data, s.c(), s.h(), s.w(),
                                     d_image.batch(n).data);
    } else {
      ref::hog_gradient_backward(channel.batch(n).data, d_grad.batch(n).data, s.c(), s.h(), s.w(),
                                 d_image.batch(n).data);
    }
  });
}

namespace {
void check_binning(const char* op, const View& grad, const View& hist, const HogBinningParams& p) {
  check_params(op, p);
  check_same_device(op, {&grad, &hist});
  check_ndim(op, "gradient", grad, 4);
  const Shape& s = grad.shape;
  PI_CHECK(s.c() == 2, op, ": the gradient must have 2 channels (gx, gy), got shape ", s.str());
  check_shape(op, "histogram", hist,
              Shape{s.n(), 2 * p.num_orientations, hog_cells(s.h(), p.cell_size), hog_cells(s.w(), p.cell_size)});
  check_contiguous(op, "gradient", grad);
  check_contiguous(op, "histogram", hist);
}
}  // namespace

void hog_binning_forward(const View& grad, const HogBinningParams& p, const View& hist) {
  check_binning("hog_binning", grad, hist, p);
  if (grad.device == Device::cuda)
    return cuda::hog_binning_forward(grad.shape.n(), grad.shape.h(), grad.shape.w(), p, grad.data, hist.data);
  const bool fast = cpu_path() == CpuPath::fast;
  for_each_sample(grad.shape.n(), [&](int64_t n, int) {
    if (fast) {
      cpu_kernels().cellrow_hog_binning_forward(grad.batch(n).data, grad.shape.h(), grad.shape.w(), p, hist.batch(n).data);
    } else {
      ref::hog_binning_forward(grad.batch(n).data, grad.shape.h(), grad.shape.w(), p, hist.batch(n).data);
    }
  });
}

void hog_binning_backward(const View& grad, const View& d_hist, const HogBinningParams& p, const View& d_grad) {
  check_binning("hog_binning backward", grad, d_hist, p);
  check_same_device("hog_binning backward", {&grad, &d_grad});
  check_same_shape("hog_binning backward", grad, d_grad);
  check_contiguous("hog_binning backward", "gradient of the gradient", d_grad);
  if (grad.device == Device::cuda) {
    return cuda::hog_binning_backward(grad.shape.n(), grad.shape.h(), grad.shape.w(), p, grad.data, d_hist.data,
                                      d_grad.data);
  }
  const bool fast = cpu_path() == CpuPath::fast;
  for_each_sample(grad.shape.n(), [&](int64_t n, int) {
    if (fast) {
      cpu_kernels().cellrow_hog_binning_backward(grad.batch(n).data, d_hist.batch(n).data, grad.shape.h(), grad.shape.w(), p,
                                    d_grad.batch(n).data);
    } else {
      ref::hog_binning_backward(grad.batch(n).data, d_hist.batch(n).data, grad.shape.h(), grad.shape.w(), p,
                                d_grad.batch(n).data);
    }
  });
}

namespace {
int check_normalise(const char* op, const View& hist, const View& out, HogVariant v) {
  check_same_device(op, {&hist, &out});
  check_ndim(op, "histogram", hist, 4);
  const int no = orientations_of(op, hist);
  const Shape& s = hist.shape;
  check_shape(op, "features", out, Shape{s.n(), hog_dimension(v, no), s.h(), s.w()});
  check_contiguous(op, "histogram", hist);
  check_contiguous(op, "features", out);
  return no;
}
}  // namespace

void hog_normalise_forward(const View& hist, HogVariant v, const View& out) {
  const int no = check_normalise("hog_normalise", hist, out, v);
  if (hist.device == Device::cuda)
    return cuda::hog_normalise_forward(hist.shape.n(), hist.shape.h(), hist.shape.w(), no, v, hist.data, out.data);
  const bool fast = cpu_path() == CpuPath::fast;
  for_each_sample(hist.shape.n(), [&](int64_t n, int) {
    if (fast)
      cpu_kernels().cellrow_hog_normalise_forward(hist.batch(n).data, hist.shape.h(), hist.shape.w(), no, v, out.batch(n).data);
    else
      ref::hog_normalise_forward(hist.batch(n).data, hist.shape.h(), hist.shape.w(), no, v, out.batch(n).data);
  });
}

void hog_normalise_backward(const View& hist, const View& d_out, HogVariant v, const View& d_hist) {
  const int no = check_normalise("hog_normalise backward", hist, d_out, v);
  check_same_device("hog_normalise backward", {&hist, &d_hist});
  check_same_shape("hog_normalise backward", hist, d_hist);
  check_contiguous("hog_normalise backward", "histogram gradient", d_hist);
  if (hist.device == Device::cuda) {
    return cuda::hog_normalise_backward(hist.shape.n(), hist.shape.h(), hist.shape.w(), no, v, hist.data, d_out.data,
                                        d_hist.data);
  }
  const bool fast = cpu_path() == CpuPath::fast;
  for_each_sample(hist.shape.n(), [&](int64_t n, int) {
    if (fast) {
      cpu_kernels().cellrow_hog_normalise_backward(hist.batch(n).data, d_out.batch(n).data, hist.shape.h(), hist.shape.w(), no, v,
                                      d_hist.batch(n).data);
    } else {
      ref::hog_normalise_backward(hist.batch(n).data, d_out.batch(n).data, hist.shape.h(), hist.shape.w(), no, v,
                                  d_hist.batch(n).data);
    }
  });
}

}  // namespace preimage::kernels
