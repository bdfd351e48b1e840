#pragma once
// Dense SIFT as three stages, each a kernel with its own backward (DESIGN.md decision 5; seed 001 sect. 4.1):
//   1. orientation binning: image gradient, split linearly between the two nearest of 8 directed bins;
//   2. spatial pooling: 4x4 bins per frame, triangular kernel (x Gaussian window, or a flat window);
//   3. normalisation: L2 normalise (+FLT_EPSILON), clamp at 0.2, L2 normalise again.
// The forward reproduces VLFeat 0.9.21 vl_dsift_process (vl_dsift_new_basic(W, H, step, binSize)), which is the
// test oracle: formulas and the frame geometry are in docs/features/dsift.md. Backward functions ACCUMULATE into
// their d_* outputs and always use the exact derivatives of the DsiftMath::exact forward.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace preimage::kernels {

// Defaults: bin (= cell) size 8 as in IJCV sect. 5.1 ("HOG and DSIFT cell sizes are set to 8 pixels"), step 4
// (frames overlap by 1/2 bin, a dense sampling of the 4x4-bin descriptor). VLFeat's own defaults are step 5, bin 5.
// flat_window = false is VLFeat's Gaussian window (windowSize 2 bins); true is vl_dsift_set_flat_window, the "fast"
// variant the CVPR/IJCV papers used (footnote 2 of IJCV sect. 4.1).
struct DsiftParams {
  int step = 4;
  int bin_size = 8;
  bool flat_window = false;
};

// How the orientation stage computes the gradient angle and modulus.
//   vlfeat: vl_fast_atan2_f (cubic polynomial, error <= 0.0061 rad) and vl_fast_sqrt_f (two Newton steps from the
//           0x5f3759df guess), reproduced bit for bit in float, also in the normalisation stage - matches libvl.
//   exact:  std::atan2 / std::sqrt - the function whose derivatives the backward functions compute.
enum class DsiftMath { vlfeat, exact };

// Frame geometry of vl_dsift with bounds [0, W-1] x [0, H-1]: 4x4 bins of bin_size pixels; bin centres of frame
// (fx, fy) at x = fx*step + bx*bin_size, y = fy*step + by*bin_size (bx, by = 0..3); a frame spans 3*bin_size + 1
// pixels between its first and last bin centre, its centre is at fx*step + 1.5*bin_size (VlDsiftKeypoint.x).
struct DsiftGeometry {
  int64_t height = 0, width = 0;       // image
  int64_t frames_y = 0, frames_x = 0;  // output grid
  int step = 0, bin_size = 0;
  bool flat_window = false;
  static constexpr int kBins = 4;         // spatial bins per side
  static constexpr int kOrientations = 8;
  static constexpr int kDims = 128;       // t + 8 * (bx + 4 * by)
};
// Throws preimage::Error when the image is smaller than one frame (3*bin_size + 1 pixels) or a parameter is < 1.
DsiftGeometry dsift_geometry(int64_t height, int64_t width, const DsiftParams& p);

namespace ref {
// Stage 1. image [H, W] -> binned [8, H, W]: g = (d/dx, d/dy) by central differences (one-sided on the border
// rows/columns), angle a = atan2(gy, gx) taken mod 2 pi, nt = a * 8 / (2 pi); bin floor(nt) gets (1 - r) |g| and
// bin floor(nt) + 1 (mod 8) gets r |g|, r = nt - floor(nt). Overwrites binned; bins, when given, receives nt [H, W]
// so that the backward need not evaluate atan2 again (pass it back as `bins`: the same values, the same result).
template <typename T>
void dsift_orient_forward(const T* image, T* binned, int64_t H, int64_t W, DsiftMath math, T* bins = nullptr);
template <typename T>
void dsift_orient_backward(const T* image, const T* d_binned, T* d_image, int64_t H, int64_t W,
                           const T* bins = nullptr);

// Stage 2. binned [8, H, W] -> raw [128, FY, FX]: raw[t + 8(bx + 4 by)][fy][fx] = sum_{dy,dx} ky_by(dy) kx_bx(dx)
// binned[t][clampY(cy + dy)][clampX(cx + dx)], |dx|, |dy| < bin_size, (cx, cy) the bin centre; pixels outside the
// image replicate the border (VL_PAD_BY_CONTINUITY). Columns are summed first, then rows, as VLFeat does.
template <typename T>
void dsift_pool_forward(const T* binned, T* raw, const DsiftGeometry& g);
template <typename T>
void dsift_pool_backward(const T* d_raw, T* d_binned, const DsiftGeometry& g);
// The 1-d kernel k_b(d), d = -(bin_size-1) .. bin_size-1, for spatial bin b along one axis, as VLFeat computes it in
// float: Gaussian window (1 - |d|/bs) exp(-z^2/2), z = (-d - bs (b - 1.5)) / (2 bs); flat window (1 - |d|/bs) * mean
// of the Gaussian over the bin's support. Writes 2*bin_size - 1 values.
void dsift_bin_kernel(int bin_size, int bin, bool flat_window, float* k);

// Stage 3. raw [128, F] -> out [128, F] (F = FY*FX frames, dimension-major as the tensor layout).
template <typename T>
void dsift_normalise_forward(const T* raw, T* out, int64_t frames, DsiftMath math);
template <typename T>
void dsift_normalise_backward(const T* raw, const T* d_out, T* d_raw, int64_t frames);
}  // namespace ref

// Faster CPU path for the pooling stage (kernels/cpu/dsift_interleaved.cpp), float, bit for bit the reference's: the
// binned gradient is kept orientation-interleaved, [H][W][8], so that each multiply-add of the separable filter
// covers the 8 orientations (one vector) and image rows are contiguous. Launchers use it (and framevec:: below)
// unless cpu_path() is reference.
namespace interleaved {
// Stage 1 into and out of the interleaved layout, pixel for pixel the reference's arithmetic (kernels/cpu/dsift_orient.h).
void dsift_orient_forward(const float* image, float* binned, int64_t H, int64_t W, DsiftMath math, float* bins);
void dsift_orient_backward(const float* image, const float* d_binned, float* d_image, int64_t H, int64_t W,
                           const float* bins);  // d_binned [H][W][8]; d_image +=
void dsift_pool_forward(const float* binned, float* raw, const DsiftGeometry& g);       // binned [H][W][8]
void dsift_pool_backward(const float* d_raw, float* d_binned, const DsiftGeometry& g);  // d_binned [H][W][8], +=
}  // namespace interleaved

// Faster CPU path for the normalisation stage (kernels/cpu/dsift_framevec.cpp), float, bit for bit the reference's:
// loops over the dimensions outside and over a block of frames inside (contiguous in [128, F], vectorised), each
// frame's sums still in the reference's order.
namespace framevec {
void dsift_normalise_forward(const float* raw, float* out, int64_t frames, DsiftMath math);
void dsift_normalise_backward(const float* raw, const float* d_out, float* d_raw, int64_t frames);
}  // namespace framevec

// What the backward of an exact-math CPU forward would recompute, per sample: the orientation bins nt [H*W] and the
// pooled descriptors before normalisation [128, F] (the pooling is linear, so its backward needs neither input nor
// output). (H W + 128 F) floats a sample, kept by the tape op between its forward and backward; the backward's
// recomputation, two atan2 per pixel among it, was about a third of an inversion iteration.
struct DsiftSaved {
  int64_t samples = 0;
  std::vector<float> bins, raw;
};

// Launchers. image [N, 1, H, W] (gray, 0..255 or any scale), output [N, 128, FY, FX] from dsift_geometry. With
// `saved` (CPU and DsiftMath::exact only; ignored on CUDA) the intermediates are kept for dsift_backward.
void dsift_forward(const View& image, const View& out, const DsiftParams& p, DsiftMath math,
                   DsiftSaved* saved = nullptr);
// d_image += J^T d_out of the DsiftMath::exact forward at `image`; `saved` from that forward skips recomputing it
// (bit for bit the same result).
void dsift_backward(const View& image, const View& d_out, const View& d_image, const DsiftParams& p,
                    const DsiftSaved* saved = nullptr);

}  // namespace preimage::kernels
