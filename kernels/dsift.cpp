// Launchers and frame geometry for kernels/dsift.h. On the device, kernels/cuda/dsift.cu; on the CPU, per sample:
// orientation binning -> spatial pooling -> normalisation, with the intermediates in host scratch buffers. All three
// run the interleaved / framevec paths unless cpu_path() is reference.
#include "kernels/dsift.h"
#include "kernels/cpu_isa.h"

#include <algorithm>
#include <vector>

#include "kernels/cuda/dsift.h"
#include "engine/threads.h"
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

// Stages 1 and 2 of one sample: image [H, W] -> binned (scratch, 8 H W) -> raw [128, F]; bins [H, W] optional.
void orient_and_pool(const float* image, float* binned, float* raw, float* bins, const DsiftGeometry& g,
                     DsiftMath math, bool fast) {
  if (fast) {
    cpu_kernels().interleaved_dsift_orient_forward(image, binned, g.height, g.width, math, bins);
    cpu_kernels().interleaved_dsift_pool_forward(binned, raw, g);
  } else {
    ref::dsift_orient_forward(image, binned, g.height, g.width, math, bins);
    ref::dsift_pool_forward(binned, raw, g);
  }
}
}  // namespace

void dsift_forward(const View& image, const View& out, const DsiftParams& p, DsiftMath math, DsiftSaved* saved) {
  const DsiftGeometry g = check_dsift("dsift", image, out, p);
  if (saved) *saved = DsiftSaved{};
  if (image.device == Device::cuda) return cuda::dsift_forward(image.shape[0], g, math, image.data, out.data);
  const int64_t N = image.shape[0], hw = g.height * g.width, frames = g.frames_y * g.frames_x;
  const int64_t R = DsiftGeometry::kDims * frames;
  const bool fast = cpu_path() == CpuPath::fast, keep = saved && math == DsiftMath::exact;
  if (keep) {
    saved->samples = N;
    saved->bins.resize(static_cast<size_t>(N * hw));
    saved->raw.resize(static_cast<size_t>(N * R));
  }
  // Samples are independent: a batch runs them in parallel, each thread with its own scratch (threads x [8 H W]
  // binned, [128 F] raw). Every sample's arithmetic is the single-threaded one, so results do not depend on N or on
  // the thread count.
  const int threads = sample_threads(N);
  std::vector<float> binned(static_cast<size_t>(threads * 8 * hw));        // [H, W, 8] (fast) or [8, H, W]
  std::vector<float> raw_local(keep ? 0 : static_cast<size_t>(threads * R));  // [128, FY, FX]
  for_each_sample(N, [&](int64_t n, int64_t tid) {
    float* bins = keep ? saved->bins.data() + n * hw : nullptr;
    float* raw = keep ? saved->raw.data() + n * R : raw_local.data() + tid * R;
    orient_and_pool(image.data + n * hw, binned.data() + tid * 8 * hw, raw, bins, g, math, fast);
    float* o = out.data + n * R;
    if (fast)
      cpu_kernels().framevec_dsift_normalise_forward(raw, o, frames, math);
    else
      ref::dsift_normalise_forward(raw, o, frames, math);
  });
}

void dsift_backward(const View& image, const View& d_out, const View& d_image, const DsiftParams& p,
                    const DsiftSaved* saved) {
  const DsiftGeometry g = check_dsift("dsift backward", image, d_out, p);
  check_same_device("dsift backward", {&image, &d_image});
  check_same_shape("dsift backward", image, d_image);
  check_contiguous("dsift backward", "d_image", d_image);
  if (image.device == Device::cuda)
    return cuda::dsift_backward(image.shape[0], g, image.data, d_out.data, d_image.data);
  const int64_t N = image.shape[0], hw = g.height * g.width, frames = g.frames_y * g.frames_x;
  const int64_t R = DsiftGeometry::kDims * frames;
  const bool fast = cpu_path() == CpuPath::fast;
  const bool have = saved && saved->samples == N;
  PI_CHECK(!have || (saved->bins.size() == static_cast<size_t>(N * hw) &&
                     saved->raw.size() == static_cast<size_t>(N * R)),
           "dsift backward: the saved intermediates do not match the image ", image.shape.str());
  // Without saved intermediates, the exact-math forward's are recomputed. Parallel over samples as the forward,
  // with per-thread scratch.
  const int threads = sample_threads(N);
  std::vector<float> bins_local(have ? 0 : static_cast<size_t>(threads * hw));
  std::vector<float> raw_local(have ? 0 : static_cast<size_t>(threads * R));
  std::vector<float> binned_all(static_cast<size_t>(threads * 8 * hw));  // [H, W, 8] (fast) or [8, H, W]; its grad
  std::vector<float> d_raw_all(static_cast<size_t>(threads * R));
  for_each_sample(N, [&](int64_t n, int64_t tid) {
    float* binned = binned_all.data() + tid * 8 * hw;
    float* d_raw = d_raw_all.data() + tid * R;
    const float* x = image.data + n * hw;
    float* bins_n = have ? nullptr : bins_local.data() + tid * hw;
    float* raw_n = have ? nullptr : raw_local.data() + tid * R;
    const float* bins = have ? saved->bins.data() + n * hw : bins_n;
    const float* raw = have ? saved->raw.data() + n * R : raw_n;
    if (!have) orient_and_pool(x, binned, raw_n, bins_n, g, DsiftMath::exact, fast);
    std::fill(d_raw, d_raw + R, 0.0f);
    const float* g_out = d_out.data + n * R;
    if (fast)
      cpu_kernels().framevec_dsift_normalise_backward(raw, g_out, d_raw, frames);
    else
      ref::dsift_normalise_backward(raw, g_out, d_raw, frames);
    // The pooling is linear: its backward needs no forward values.
    float* d_binned = binned;
    std::fill(binned, binned + 8 * hw, 0.0f);
    if (fast) {
      cpu_kernels().interleaved_dsift_pool_backward(d_raw, d_binned, g);
      cpu_kernels().interleaved_dsift_orient_backward(x, d_binned, d_image.data + n * hw, g.height, g.width, bins);
    } else {
      ref::dsift_pool_backward(d_raw, d_binned, g);
      ref::dsift_orient_backward(x, d_binned, d_image.data + n * hw, g.height, g.width, bins);
    }
  });
}

}  // namespace preimage::kernels
