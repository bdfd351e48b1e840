#pragma once
// HOG as a network of three primitive steps (seed 000 sect. 3; VLFeat 0.9.21 vl/hog.c is the numerical oracle):
//   1. hog_gradient:  image [C,H,W] -> grad [2,H,W] (gx, gy by central differences on interior pixels, zero on the
//                     one-pixel border; colour: the channel with the largest gx^2 + gy^2, first one on ties)
//                     and channel [H,W] (that channel's index, -1 where every channel has a zero gradient).
//   2. hog_binning:   grad [2,H,W] -> hist [2*NO,hogH,hogW]: each pixel's magnitude goes to one directed bin
//                     (hard; VLFeat's comparison order) or two (bilinear in the angle: HOGb), and is splatted
//                     bilinearly into the 4 nearest cells, hx = (x + 0.5)/cs - 0.5.
//   3. hog_normalise: hist -> features [D,hogH,hogW]: 2x2 block energies of the undirected histogram, factor
//                     1/sqrt(E + 1e-4), clamp min(0.2, .), then UoCTTI (D = 3*NO + 4) or DalalTriggs (D = 4*NO).
// All float arithmetic follows VLFeat's (float vs double per expression, summation order); see docs/features/hog.md.
// Backward functions ACCUMULATE (+=) into d_*. Hard orientation assignment and the channel choice are piecewise
// constant: their gradient flows through the magnitude (and the chosen channel) only.
#include <cstdint>

#include "engine/tensor.h"

namespace preimage::kernels {

enum class HogVariant { uoctti, dalal_triggs };

struct HogBinningParams {
  int cell_size = 8;
  int num_orientations = 9;            // NO undirected orientations; 2*NO directed bins
  bool bilinear_orientations = false;  // HOGb
};

// VLFeat's cell grid: (n + cs/2) / cs in integer arithmetic.
inline int64_t hog_cells(int64_t n, int cell_size) { return (n + cell_size / 2) / cell_size; }
inline int64_t hog_dimension(HogVariant v, int num_orientations) {
  return v == HogVariant::uoctti ? 3 * num_orientations + 4 : 4 * num_orientations;
}

namespace ref {
// image [C,H,W], grad [2,H,W] (overwritten), channel [H,W] (overwritten; chosen channel as a small integer).
template <typename T>
void hog_gradient_forward(const T* image, int64_t C, int64_t H, int64_t W, T* grad, T* channel);
// channel [H,W], d_grad [2,H,W] -> d_image [C,H,W] (+=).
template <typename T>
void hog_gradient_backward(const T* channel, const T* d_grad, int64_t C, int64_t H, int64_t W, T* d_image);

// grad [2,H,W] -> hist [2*NO, hogH, hogW] (overwritten).
template <typename T>
void hog_binning_forward(const T* grad, int64_t H, int64_t W, const HogBinningParams& p, T* hist);
// grad [2,H,W], d_hist [2*NO, hogH, hogW] -> d_grad [2,H,W] (+=). Zero-magnitude pixels get no gradient.
template <typename T>
void hog_binning_backward(const T* grad, const T* d_hist, int64_t H, int64_t W, const HogBinningParams& p,
                          T* d_grad);

// hist [2*NO, hogH, hogW] -> out [D, hogH, hogW] (overwritten), layout out[k][y][x] as VLFeat's f[x + hogW*(y +
// hogH*k)].
template <typename T>
void hog_normalise_forward(const T* hist, int64_t hog_h, int64_t hog_w, int num_orientations, HogVariant v, T* out);
// hist, d_out [D, hogH, hogW] -> d_hist [2*NO, hogH, hogW] (+=). Clamped entries (f*h > 0.2) pass no gradient.
template <typename T>
void hog_normalise_backward(const T* hist, const T* d_out, int64_t hog_h, int64_t hog_w, int num_orientations,
                            HogVariant v, T* d_hist);
}  // namespace ref

// Faster CPU path (kernels/cpu/hog_cellrow*.cpp), float only,
// bit for bit equal to ref at any thread count: per-pixel work vectorised along rows (OpenMP over rows), the forward
// splat parallel over rows of cells, each cell summing its pixels in ref's raster order; the backward steps written
// as gathers that add in ref's order.
namespace cellrow {
void hog_gradient_forward(const float* image, int64_t C, int64_t H, int64_t W, float* grad, float* channel);
void hog_gradient_backward(const float* channel, const float* d_grad, int64_t C, int64_t H, int64_t W,
                           float* d_image);
void hog_binning_forward(const float* grad, int64_t H, int64_t W, const HogBinningParams& p, float* hist);
void hog_binning_backward(const float* grad, const float* d_hist, int64_t H, int64_t W, const HogBinningParams& p,
                          float* d_grad);
// kernels/cpu/hog_cellrow_normalise.cpp: vectorised over the cells of a row (in double, as the reference).
void hog_normalise_forward(const float* hist, int64_t hog_h, int64_t hog_w, int num_orientations, HogVariant v,
                           float* out);
void hog_normalise_backward(const float* hist, const float* d_out, int64_t hog_h, int64_t hog_w, int num_orientations,
                            HogVariant v, float* d_hist);
}  // namespace cellrow

// Launchers: NCHW views, any batch N (each sample independent), on the CPU or CUDA (kernels/cuda/hog.h).
// image [N,C,H,W] -> grad [N,2,H,W], channel [N,1,H,W].
void hog_gradient_forward(const View& image, const View& grad, const View& channel);
void hog_gradient_backward(const View& channel, const View& d_grad, const View& d_image);
// grad [N,2,H,W] -> hist [N,2*NO,hogH,hogW].
void hog_binning_forward(const View& grad, const HogBinningParams& p, const View& hist);
void hog_binning_backward(const View& grad, const View& d_hist, const HogBinningParams& p, const View& d_grad);
// hist [N,2*NO,hogH,hogW] -> out [N,D,hogH,hogW].
void hog_normalise_forward(const View& hist, HogVariant v, const View& out);
void hog_normalise_backward(const View& hist, const View& d_out, HogVariant v, const View& d_hist);

}  // namespace preimage::kernels
