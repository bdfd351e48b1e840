#pragma once
// Image files <-> float tensors. Reading: JPEG through libjpeg-turbo (engine/jpeg_decode.h); PNG, BMP, PNM through
// stb_image (compiled in engine/stb_image.cpp with only those decoders and a dimension cap, after our own checks
// of what stb reads unsafely; 16-bit PNG/PNM keep their precision). Writing: PNG, 8 or 16 bits.
// Pixel values are 0..255 floats (the scale the papers' networks and VLFeat use), layout [1, C, H, W] with C = 3
// (RGB) or 1 (gray).
#include <string>

#include "engine/tensor.h"

namespace preimage {

constexpr int kMaxImageSide = 16384;  // larger images are refused before decoding

enum class ImageChannels { keep, rgb, gray };

// Throws preimage::Error naming the file when it is missing, unreadable, truncated, corrupt or too large.
Tensor read_image(const std::string& path, ImageChannels channels = ImageChannels::keep);
// Writes [1, C, H, W] (C = 1 or 3) with values clamped to 0..255 and rounded. Writes to a temporary name in the
// same folder and renames, so a failed write never leaves a partial file.
void write_png(const std::string& path, const View& image);
// The same at 16 bits per sample (round(257 v)), so a reconstruction keeps its precision to 1/514 of a grey level;
// read_image reads it back as v. Clamped to 0..255 like write_png. Encoded with libpng (stb writes 8 bits only).
void write_png16(const std::string& path, const View& image);
// Gray = 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as MATLAB's rgb2gray); [1,3,H,W] -> [1,1,H,W].
Tensor rgb_to_gray(const View& rgb);
// [1,1,H,W] -> [1,3,H,W] by replication (for contact sheets).
Tensor gray_to_rgb(const View& gray);
bool is_image_file(const std::string& path);  // by extension: png jpg jpeg bmp ppm pgm pnm

}  // namespace preimage
