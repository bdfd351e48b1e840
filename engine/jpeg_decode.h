#pragma once
// JPEG decoding with libjpeg-turbo (Debian's libjpeg62-turbo), a decoder hardened against corrupt files for years:
// stb_image's entropy decoder shifted by negative bit counts on corrupt scans and overran its Huffman size list on
// oversized tables (tests/fuzz/fuzz_image under UBSan; docs/reliability.md, findings 3 and 8).
#include <string>
#include <vector>

namespace preimage {

struct DecodedJpeg {
  int width = 0, height = 0;
  int file_channels = 0;  // 1 gray, 3 colour (YCbCr, RGB, CMYK and YCCK files alike)
  int channels = 0;       // of `pixels`: 1 or 3, interleaved [H][W][channels]
  std::vector<unsigned char> pixels;
};

// Starts with the SOI marker FF D8.
bool is_jpeg(const std::vector<unsigned char>& bytes);

// channels_wanted: 1 gray (the Y channel of a YCbCr file, as stb_image read it), 3 RGB, 0 the file's own (1 or 3).
// Throws preimage::Error naming `path` for a corrupt or truncated file (libjpeg's own message), one over
// kMaxImageSide a side, or a progressive file whose coefficients would need more than 1 GiB.
DecodedJpeg decode_jpeg(const std::string& path, const std::vector<unsigned char>& bytes, int channels_wanted);

}  // namespace preimage
