#pragma once
// Host-side image utilities for the tools: cropping, resizing and composing contact sheets. Images are
// [1, C, H, W] float tensors on the CPU, values 0..255.
#include <vector>

#include "engine/tensor.h"

namespace preimage {

Tensor crop_image(const View& image, int64_t top, int64_t left, int64_t height, int64_t width);
// Largest centred square.
Tensor center_square(const View& image);
// Bilinear resampling with pixel centres aligned (OpenCV/PyTorch align_corners=False); box-filtered first when
// shrinking by more than 2x so that small outputs do not alias.
Tensor resize_bilinear(const View& image, int64_t height, int64_t width);
// Images side by side on a white background, each scaled to `height` (keeping its aspect ratio) and converted to
// RGB, separated by `gap` pixels.
Tensor contact_sheet(const std::vector<View>& images, int64_t height, int64_t gap = 4);
// Affine map of the values to 0..255 (min -> 0, max -> 255); a constant image becomes 128.
Tensor stretch_contrast(const View& image);

}  // namespace preimage
