#pragma once
// Host-side image utilities for the tools: cropping, resizing and composing contact sheets. Images are
// [1, C, H, W] float tensors on the CPU, values 0..255.
#include <vector>

#include "engine/tensor.h"

namespace preimage {

Tensor crop_image(const View& image, int64_t top, int64_t left, int64_t height, int64_t width);
// The image grown by replicating its border pixels: [1, C, H + top + bottom, W + left + right].
Tensor pad_edge(const View& image, int64_t top, int64_t left, int64_t bottom, int64_t right);
// Largest centred square.
Tensor center_square(const View& image);
// Bilinear resampling with pixel centres aligned (OpenCV/PyTorch align_corners=False); halved by 2x2 boxes first
// while shrinking by 4x or more. Interpolates between the 4 nearest pixels, so it aliases when shrinking (Caffe's
// OpenCV resize does the same); the tools' loaders use resize_antialiased.
Tensor resize_bilinear(const View& image, int64_t height, int64_t width);
// Anti-aliased resampling, separable, with the triangle (tent) filter stretched by the scale factor when shrinking:
// output pixel i centred at (i + 0.5) * in / out in input pixels, weights max(0, 1 - |t| / max(in/out, 1)) over
// the input pixel centres t away, renormalised at the borders. PIL's Image.resize(BILINEAR) and torchvision's
// resize(antialias=True) use this filter. Every input pixel contributes when shrinking, so no aliasing.
Tensor resize_antialiased(const View& image, int64_t height, int64_t width);

// Images side by side on a white background, each scaled to `height` (keeping its aspect ratio) and converted to
// RGB, separated by `gap` pixels.
Tensor contact_sheet(const std::vector<View>& images, int64_t height, int64_t gap = 4);
// Affine map of the values to 0..255 (min -> 0, max -> 255); a constant image becomes 128.
Tensor stretch_contrast(const View& image);
// For display: the affine map taking the `percent`-th and (100 - percent)-th percentiles of all the image's values
// (channels together, so hues stay) to 0 and 255, clamped. A robust vl_imsc: a few outlier pixels do not grey out
// the rest. Non-finite values count as the low end; a constant image becomes 128.
constexpr double kDisplayPercentile = 1.0;
Tensor stretch_for_display(const View& image, double percent = kDisplayPercentile);

}  // namespace preimage
