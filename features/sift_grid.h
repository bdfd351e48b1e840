#pragma once
// Sparse SIFT arranged on a grid (Dosovitskiy & Brox, seed 002 sect. 3 "Sparse SIFT"; seed 003 "Shallow features
// details"): keypoints and descriptors from libvl's vl_sift (vl_sift_new(W, H, -1, 3, 0): all octaves from full
// resolution, 3 levels per octave, default thresholds), first orientation of each keypoint, scattered into cells of
// d x d pixels. The keypoint detector is not differentiable; this is forward only. Details: docs/features/sift_grid.md.
#include <array>
#include <vector>

#include "engine/tensor.h"

namespace preimage::features {

struct SiftGridParams {
  int cell = 4;  // d = 4 in the paper
};

// Channels of the grid: 0..127 descriptor, then:
constexpr int kSiftGridChannels = 133;
constexpr int kSiftChannelXMod = 128;   // x mod d, in [0, d)
constexpr int kSiftChannelYMod = 129;   // y mod d
constexpr int kSiftChannelSin = 130;    // sin(angle)
constexpr int kSiftChannelCos = 131;    // cos(angle)
constexpr int kSiftChannelLogScale = 132;  // log(sigma)

struct SiftKeypoint {
  float x = 0, y = 0;   // pixels, 0 = centre of the first pixel (VlSiftKeypoint.x/.y)
  float sigma = 0;      // scale (VlSiftKeypoint.sigma)
  double angle = 0;     // radians, first of vl_sift_calc_keypoint_orientations
  std::array<float, 128> descriptor{};  // vl_sift_calc_keypoint_descriptor: unit L2 norm after the 0.2 clamp
};

// Gray image [1, 1, H, W] (host, 0..255) -> keypoints in libvl's detection order (octave by octave); keypoints for
// which libvl finds no orientation are dropped. Throws when the image is smaller than 16x16 or not gray.
std::vector<SiftKeypoint> sift_keypoints(const View& image);

// The cell that keeps a keypoint when several fall into it: largest sigma; ties broken by smaller y, then smaller x,
// then smaller angle (a total order on distinct keypoints, so the grid is reproducible).
bool sift_keypoint_preferred(const SiftKeypoint& a, const SiftKeypoint& b);

// Keypoints -> [1, 133, ceil(H / d), ceil(W / d)]; a keypoint at (x, y) goes to cell (floor(x / d), floor(y / d))
// (clamped to the grid); empty cells are all zero.
Tensor scatter_sift_grid(const std::vector<SiftKeypoint>& keypoints, int64_t height, int64_t width,
                         const SiftGridParams& p = {});

// image [N, 1, H, W] -> [N, 133, ceil(H / d), ceil(W / d)].
Tensor sift_grid(const View& image, const SiftGridParams& p = {});

}  // namespace preimage::features
