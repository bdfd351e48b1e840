// Launchers and frame geometry for kernels/dsift.h. On the device, kernels/cuda/dsift.cu; on the CPU, per sample:
// orientation binning -> spatial pooling -> normalisation, with the intermediates in host scratch buffers. Pooling and
// normalisation run the interleaved / framevec paths unless cpu_path() is reference.
#include "kernels/dsift.h"
#include "kernels/cpu_isa.h"

#include <algorithm>
#include <vector>

#include "kernels/cuda/dsift.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {

DsiftGeometry dsift_geometry(int64_t height, int64_t width, const DsiftParams& p) {
  PI_CHECK(p.step >= 1 && p.bin_size >= 1, "dsift: step (", p.step, ") and bin_size (", p.bin_size,
           ") must be >= 1");
  const int64_t frame = int64_t(DsiftGeometry::kBins - 1) * p.bin_size + 1;  // first to last bin centre, inclusive
  PI_CHECK(height >= frame && width >= frame, "dsift: image ", height, "x", width,
           " is smaller than one descriptor frame (", frame, "x", frame, " pixels = 3*bin_size+1 for bin_size ",
           p.bin_size, "); use a larger image or a smaller bin_size");
  DsiftGeometry g;
  g.height = height;
  g.width = width;
  g.step = p.step;
  g.bin_size = p.bin_size;
  g.flat_window = p.flat_window;
  // vl_dsift bounds are [0, W-1]: frames start at 0, step apart, while the last bin centre stays inside.
  g.frames_x = (width - frame) / p.step + 1;
  g.frames_y = (height - frame) / p.step + 1;
  return g;
}

namespace {
DsiftGeometry check_dsift(const char* op, const View& image, const View& out, const DsiftParams& p) {
  check_same_device(op, {&image, &out});
  check_ndim(op, "image", image, 4);
  check_contiguous(op, "image", image);
  check_contiguous(op, "output", out);
  PI_CHECK(image.shape[1] == 1, op, ": image has ", image.shape[1],
           " channels; DSIFT takes a gray image [N, 1, H, W] (convert with rgb_to_gray)");
  const DsiftGeometry g = dsift_geometry(image.shape[2], image.shape[3], p);
  check_shape(op, "output", out, Shape{image.shape[0], DsiftGeometry::kDims, g.frames_y, g.frames_x});
  return g;
}
}  // namespace

void dsift_forward(const View& image, const View& out, const DsiftParams& p, DsiftMath math) {
  const DsiftGeometry g = check_dsift("dsift", image, out, p);
  if (image.device == Device::cuda) return cuda::dsift_forward(image.shape[0], g, math, image.data, out.data);
  const int64_t hw = g.height * g.width, frames = g.frames_y * g.frames_x;
  const bool fast = cpu_path() == CpuPath::fast;
  std::vector<float> binned(static_cast<size_t>(8 * hw));                       // [8, H, W]
  std::vector<float> binned_i(fast ? binned.size() : 0);                        // [H, W, 8]
  std::vector<float> raw(static_cast<size_t>(DsiftGeometry::kDims * frames));   // [128, FY, FX]
  for (int64_t n = 0; n < image.shape[0]; ++n) {
    ref::dsift_orient_forward(image.data + n * hw, binned.data(), g.height, g.width, math);
    if (fast) {
      cpu_kernels().interleaved_interleave(binned.data(), hw, binned_i.data());
      cpu_kernels().interleaved_dsift_pool_forward(binned_i.data(), raw.data(), g);
    } else {
      ref::dsift_pool_forward(binned.data(), raw.data(), g);
    }
    float* o = out.data + n * DsiftGeometry::kDims * frames;
    if (fast)
      cpu_kernels().framevec_dsift_normalise_forward(raw.data(), o, frames, math);
    else
      ref::dsift_normalise_forward(raw.data(), o, frames, math);
  }
}

void dsift_backward(const View& image, const View& d_out, const View& d_image, const DsiftParams& p) {
  const DsiftGeometry g = check_dsift("dsift backward", image, d_out, p);
  check_same_device("dsift backward", {&image, &d_image});
  check_same_shape("dsift backward", image, d_image);
  check_contiguous("dsift backward", "d_image", d_image);
  if (image.device == Device::cuda)
    return cuda::dsift_backward(image.shape[0], g, image.data, d_out.data, d_image.data);
  const int64_t hw = g.height * g.width, frames = g.frames_y * g.frames_x;
  const bool fast = cpu_path() == CpuPath::fast;
  std::vector<float> binned(static_cast<size_t>(8 * hw)), d_binned(binned.size());
  std::vector<float> binned_i(fast ? binned.size() : 0), d_binned_i(binned_i.size());  // [H, W, 8]
  std::vector<float> raw(static_cast<size_t>(DsiftGeometry::kDims * frames)), d_raw(raw.size());
  for (int64_t n = 0; n < image.shape[0]; ++n) {
    // Recompute the exact-math intermediates rather than keep them alive on the tape (8 HW + 128 F floats).
    const float* x = image.data + n * hw;
    ref::dsift_orient_forward(x, binned.data(), g.height, g.width, DsiftMath::exact);
    if (fast) {
      cpu_kernels().interleaved_interleave(binned.data(), hw, binned_i.data());
      cpu_kernels().interleaved_dsift_pool_forward(binned_i.data(), raw.data(), g);
    } else {
      ref::dsift_pool_forward(binned.data(), raw.data(), g);
    }
    std::fill(d_raw.begin(), d_raw.end(), 0.0f);
    const float* g_out = d_out.data + n * DsiftGeometry::kDims * frames;
    if (fast)
      cpu_kernels().framevec_dsift_normalise_backward(raw.data(), g_out, d_raw.data(), frames);
    else
      ref::dsift_normalise_backward(raw.data(), g_out, d_raw.data(), frames);
    if (fast) {
      std::fill(d_binned_i.begin(), d_binned_i.end(), 0.0f);
      cpu_kernels().interleaved_dsift_pool_backward(d_raw.data(), d_binned_i.data(), g);
      cpu_kernels().interleaved_deinterleave(d_binned_i.data(), hw, d_binned.data());
    } else {
      std::fill(d_binned.begin(), d_binned.end(), 0.0f);
      ref::dsift_pool_backward(d_raw.data(), d_binned.data(), g);
    }
    ref::dsift_orient_backward(x, d_binned.data(), d_image.data + n * hw, g.height, g.width);
  }
}

}  // namespace preimage::kernels
