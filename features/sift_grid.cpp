// Sparse SIFT grid (features/sift_grid.h): libvl detects and describes, we select and scatter.
#include "features/sift_grid.h"

#include <algorithm>
#include <cmath>
#include <memory>

extern "C" {
#include <vl/generic.h>
#include <vl/sift.h>
}

#include "engine/error.h"

namespace preimage::features {

namespace {
constexpr int64_t kMinSide = 16;  // smallest image we hand to vl_sift (one 4x4-bin descriptor of the finest scale)

void check_gray(const char* op, const View& image) {
  PI_CHECK(image.device == Device::cpu, op, ": the image must be on the CPU (vl_sift runs on the host)");
  PI_CHECK(image.shape.ndim() == 4 && image.shape[1] == 1, op, ": image must be a gray [N, 1, H, W], got ",
           image.shape.str(), " (convert with rgb_to_gray)");
  PI_CHECK(image.contiguous(), op, ": image must be contiguous");
  PI_CHECK(image.shape[2] >= kMinSide && image.shape[3] >= kMinSide, op, ": image ", image.shape[2], "x",
           image.shape[3], " is too small; sparse SIFT needs at least ", kMinSide, "x", kMinSide, " pixels");
}

struct SiftFilterDeleter {
  void operator()(VlSiftFilt* f) const { vl_sift_delete(f); }
};
}  // namespace

std::vector<SiftKeypoint> sift_keypoints(const View& image) {
  check_gray("sift_keypoints", image);
  PI_CHECK(image.shape[0] == 1, "sift_keypoints: one image at a time, got a batch of ", image.shape[0]);
  const int H = static_cast<int>(image.shape[2]), W = static_cast<int>(image.shape[3]);
  std::unique_ptr<VlSiftFilt, SiftFilterDeleter> f(vl_sift_new(W, H, -1, 3, 0));
  PI_CHECK(f != nullptr, "sift_keypoints: vl_sift_new failed for a ", H, "x", W, " image (out of memory?)");
  std::vector<SiftKeypoint> out;
  int err = vl_sift_process_first_octave(f.get(), image.data);
  while (err != VL_ERR_EOF) {
    vl_sift_detect(f.get());
    const VlSiftKeypoint* keys = vl_sift_get_keypoints(f.get());
    const int n = vl_sift_get_nkeypoints(f.get());
    for (int i = 0; i < n; ++i) {
      double angles[4];
      const int num_angles = vl_sift_calc_keypoint_orientations(f.get(), angles, &keys[i]);
      if (num_angles < 1) continue;
      SiftKeypoint k;
      k.x = keys[i].x;
      k.y = keys[i].y;
      k.sigma = keys[i].sigma;
      k.angle = angles[0];
      vl_sift_calc_keypoint_descriptor(f.get(), k.descriptor.data(), &keys[i], angles[0]);
      out.push_back(k);
    }
    err = vl_sift_process_next_octave(f.get());
  }
  return out;
}

bool sift_keypoint_preferred(const SiftKeypoint& a, const SiftKeypoint& b) {
  if (a.sigma != b.sigma) return a.sigma > b.sigma;
  if (a.y != b.y) return a.y < b.y;
  if (a.x != b.x) return a.x < b.x;
  return a.angle < b.angle;
}

Tensor scatter_sift_grid(const std::vector<SiftKeypoint>& keypoints, int64_t height, int64_t width,
                         const SiftGridParams& p) {
  PI_CHECK(p.cell >= 1, "sift_grid: cell size must be >= 1, got ", p.cell);
  const int64_t d = p.cell, GH = (height + d - 1) / d, GW = (width + d - 1) / d, cells = GH * GW;
  Tensor out = Tensor::zeros(Shape{1, kSiftGridChannels, GH, GW});
  std::vector<const SiftKeypoint*> chosen(static_cast<size_t>(cells), nullptr);
  for (const SiftKeypoint& k : keypoints) {
    const int64_t cx = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(std::floor(k.x / d)), 0), GW - 1);
    const int64_t cy = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(std::floor(k.y / d)), 0), GH - 1);
    const SiftKeypoint*& slot = chosen[static_cast<size_t>(cy * GW + cx)];
    if (slot == nullptr || sift_keypoint_preferred(k, *slot)) slot = &k;
  }
  float* o = out.data();  // [133, GH, GW]
  for (int64_t i = 0; i < cells; ++i) {
    const SiftKeypoint* k = chosen[static_cast<size_t>(i)];
    if (k == nullptr) continue;
    for (int c = 0; c < 128; ++c) o[c * cells + i] = k->descriptor[static_cast<size_t>(c)];
    o[kSiftChannelXMod * cells + i] = static_cast<float>(std::fmod(static_cast<double>(k->x), double(d)));
    o[kSiftChannelYMod * cells + i] = static_cast<float>(std::fmod(static_cast<double>(k->y), double(d)));
    o[kSiftChannelSin * cells + i] = static_cast<float>(std::sin(k->angle));
    o[kSiftChannelCos * cells + i] = static_cast<float>(std::cos(k->angle));
    o[kSiftChannelLogScale * cells + i] = static_cast<float>(std::log(static_cast<double>(k->sigma)));
  }
  return out;
}

Tensor sift_grid(const View& image, const SiftGridParams& p) {
  check_gray("sift_grid", image);
  PI_CHECK(p.cell >= 1, "sift_grid: cell size must be >= 1, got ", p.cell);
  const int64_t N = image.shape[0], H = image.shape[2], W = image.shape[3], d = p.cell;
  Tensor out = Tensor::empty(Shape{N, kSiftGridChannels, (H + d - 1) / d, (W + d - 1) / d});
  const int64_t per = out.numel() / N;
  for (int64_t n = 0; n < N; ++n) {
    Tensor one = scatter_sift_grid(sift_keypoints(image.batch(n)), H, W, p);
    std::copy(one.data(), one.data() + per, out.data() + n * per);
  }
  return out;
}

}  // namespace preimage::features
