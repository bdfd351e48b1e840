#include "engine/image_io.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <csetjmp>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include <png.h>
#include <stb_image.h>
#include <stb_image_write.h>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/jpeg_decode.h"

namespace preimage {
namespace fs = std::filesystem;

bool is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".ppm" || ext == ".pgm" ||
         ext == ".pnm";
}

namespace {
// Binary PNM (P5 gray, P6 RGB): the pixel data must be complete. Header: magic, width, height, maxval separated by
// whitespace (comments start with '#'), then exactly one whitespace byte.
void check_pnm_size(const std::string& path, const std::vector<unsigned char>& b) {
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return;
  size_t i = 2;
  long fields[3] = {0, 0, 0};
  for (long& field : fields) {
    while (i < b.size() && (std::isspace(b[i]) || b[i] == '#')) {
      if (b[i] == '#')
        while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;  // (stb ends a comment at either)
      else
        ++i;
    }
    PI_CHECK(i < b.size() && std::isdigit(b[i]), path, ": corrupt PNM header");
    int digits = 0;
    while (i < b.size() && std::isdigit(b[i])) {
      if (++digits <= 9) field = field * 10 + (b[i] - '0');
      ++i;
    }
    // stb's header parser overflows a signed int on longer numbers (found by tests/fuzz/fuzz_image under UBSan)
    PI_CHECK(digits <= 9, path, ": corrupt PNM header (a ", digits, "-digit number)");
  }
  PI_CHECK(fields[0] <= kMaxImageSide && fields[1] <= kMaxImageSide, path, ": image declares ", fields[0], "x",
           fields[1], " pixels, the limit is ", kMaxImageSide, " a side");
  PI_CHECK(fields[2] >= 1 && fields[2] <= 65535, path, ": corrupt PNM header (maximum value ", fields[2], ")");
  ++i;  // the single whitespace byte before the raster
  const long channels = b[1] == '6' ? 3 : 1, depth = fields[2] > 255 ? 2 : 1;
  const unsigned long need = static_cast<unsigned long>(fields[0]) * static_cast<unsigned long>(fields[1]) *
                             static_cast<unsigned long>(channels * depth);
  PI_CHECK(b.size() >= i && b.size() - i >= need, path, ": truncated PNM image (", b.size() - std::min(b.size(), i),
           " of ", need, " pixel bytes)");
}

uint32_t read_be32(const unsigned char* p) { return (uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }
int32_t read_le32(const unsigned char* p) {
  return static_cast<int32_t>(uint32_t{p[0]} | (p[1] << 8) | (p[2] << 16) | (uint32_t{p[3]} << 24));
}

// The PNG's chunks (4-byte big-endian length, 4-byte type, data, 4-byte CRC), walked up to IEND before stb reads
// the file:
// - IDAT chunks of no bytes are removed: stb copied such a chunk into its not yet allocated data buffer
//   (memcpy(NULL, p, 0), undefined; found by tests/fuzz/fuzz_image under UBSan). They carry no pixels.
// - A chunk whose declared length runs past the end of the file is refused: stb grows its IDAT buffer to the
//   declared length before reading it (a 239-byte file made it ask for 2 GiB; tests/fuzz/fuzz_image).
void check_png_chunks(const std::string& path, std::vector<unsigned char>* bytes) {
  std::vector<unsigned char>& b = *bytes;
  if (b.size() < 8 || b[0] != 0x89 || b[1] != 'P' || b[2] != 'N' || b[3] != 'G') return;
  for (size_t i = 8; i + 12 <= b.size();) {
    const uint32_t len = read_be32(&b[i]);
    if (len == 0 && std::equal(&b[i + 4], &b[i + 8], "IDAT")) {
      b.erase(b.begin() + static_cast<std::ptrdiff_t>(i), b.begin() + static_cast<std::ptrdiff_t>(i + 12));
      continue;
    }
    PI_CHECK(len <= b.size() - i - 12, path, ": truncated or corrupt PNG (a chunk at byte ", i, " declares ", len,
             " bytes; ", b.size() - i - 12, " are left in the file)");
    if (std::equal(&b[i + 4], &b[i + 8], "IEND")) return;  // stb stops here; what follows is not read
    i += 12 + size_t{len};
  }
}

// stb reads an uncompressed BMP raster past the end of the file as zeros, so a 123-byte file declaring 1536x8453
// pixels decoded for 20 s under ASan (found by tests/fuzz/fuzz_image). The raster must be in the file: rows padded
// to 4 bytes, the last row's padding may be missing. stb refuses RLE (compression 1, 2) and reads every other
// compression value as uncompressed, so the check does too. Headers: 12 bytes (OS/2, 16-bit fields) or >= 40.
void check_bmp_size(const std::string& path, const std::vector<unsigned char>& bytes) {
  if (bytes.size() < 2 || bytes[0] != 'B' || bytes[1] != 'M') return;
  // The header fields as stb reads them: bytes past the end of the file are zeros (a 33-byte file declaring 8453x8448
  // pixels decoded for 90 s under ASan).
  unsigned char b[64] = {};
  std::copy_n(bytes.begin(), std::min<size_t>(sizeof b, bytes.size()), b);
  auto le16 = [&](size_t i) { return int64_t{b[i]} | (int64_t{b[i + 1]} << 8); };
  const int64_t offset = static_cast<uint32_t>(read_le32(&b[10]));
  const int64_t header = static_cast<uint32_t>(read_le32(&b[14]));
  int64_t w = 0, h = 0, bits = 0;
  if (header == 12) {
    w = le16(18);
    h = le16(20);
    bits = le16(24);
  } else if (header >= 40) {
    const int32_t compression = read_le32(&b[30]);
    if (compression == 1 || compression == 2) return;
    w = std::abs(int64_t{read_le32(&b[18])});
    h = std::abs(int64_t{read_le32(&b[22])});
    bits = le16(28);
  } else {
    return;  // stb refuses the file
  }
  if (bits < 1 || bits > 32) return;  // stb refuses the file
  PI_CHECK(w <= kMaxImageSide && h <= kMaxImageSide, path, ": image declares ", w, "x", h, " pixels, the limit is ",
           kMaxImageSide, " a side");  // (also bounds the products below)
  const int64_t row = (w * bits + 31) / 32 * 4, last_row = (w * bits + 7) / 8;
  const int64_t need = h == 0 ? 0 : row * (h - 1) + last_row;
  const int64_t size = static_cast<int64_t>(bytes.size()), have = size - std::min(offset, size);
  PI_CHECK(have >= need, path, ": truncated BMP image (", have, " of ", need, " pixel bytes)");
}

// stb refuses over-limit images with a generic "unknown image type"; read the declared size of PNG and BMP files
// ourselves so the user is told the real reason.
void check_declared_size(const std::string& path, const std::vector<unsigned char>& b) {
  int64_t w = 0, h = 0;
  if (b.size() >= 24 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
    w = read_be32(&b[16]);
    h = read_be32(&b[20]);
  } else if (b.size() >= 26 && b[0] == 'B' && b[1] == 'M' &&
             static_cast<uint32_t>(read_le32(&b[14])) >= 40) {  // (OS/2 headers: 16-bit sides)
    w = std::abs(int64_t{read_le32(&b[18])});
    h = std::abs(int64_t{read_le32(&b[22])});
  }
  PI_CHECK(w <= kMaxImageSide && h <= kMaxImageSide, path, ": image declares ", w, "x", h, " pixels, the limit is ",
           kMaxImageSide, " a side");
}

int wanted_channels(ImageChannels c) { return c == ImageChannels::gray ? 1 : c == ImageChannels::rgb ? 3 : 0; }

Tensor jpeg_to_tensor(const DecodedJpeg& d) {
  Tensor t = Tensor::empty(Shape{1, d.channels, d.height, d.width});
  const int64_t hw = int64_t{d.height} * d.width;
  for (int64_t i = 0; i < hw; ++i)
    for (int c = 0; c < d.channels; ++c) t.data()[c * hw + i] = static_cast<float>(d.pixels[i * d.channels + c]);
  return t;
}
}  // namespace

Tensor read_image(const std::string& path, ImageChannels channels) {
  std::ifstream f(path, std::ios::binary);
  PI_CHECK(f.good(), path, ": cannot open image file (missing or not readable)");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  PI_CHECK(!bytes.empty(), path, ": image file is empty");
  PI_CHECK(bytes.size() < (size_t{1} << 31), path, ": image file is larger than 2 GiB");

  if (is_jpeg(bytes)) return jpeg_to_tensor(decode_jpeg(path, bytes, wanted_channels(channels)));
  check_declared_size(path, bytes);
  check_bmp_size(path, bytes);
  check_png_chunks(path, &bytes);
  check_pnm_size(path, bytes);  // before stb parses the header; stb also pads a truncated PNM with zeros
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, file_channels = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &file_channels))
    fail(path, ": not a readable PNG, JPEG, BMP or PNM image (", stbi_failure_reason(), ")");
  PI_CHECK(w > 0 && h > 0 && w <= kMaxImageSide && h <= kMaxImageSide, path, ": image is ", w, "x", h,
           ", the limit is ", kMaxImageSide, " pixels a side");

  const bool gray_file = file_channels < 3;
  const int want = channels == ImageChannels::gray  ? 1
                   : channels == ImageChannels::rgb ? 3
                                                    : (gray_file ? 1 : 3);
  int c_read = 0;
  // 16-bit PNG/PNM (write_png16) keep their precision: v / 257 maps 0..65535 onto 0..255.
  const bool wide = stbi_is_16_bit_from_memory(bytes.data(), len) != 0;
  // 16-bit files are read in their own channels and converted here: stb's PNM loader converts a 16-bit buffer with
  // its 8-bit routine (a gray 16-bit PGM read as RGB overran the buffer; found by tests/fuzz/fuzz_image).
  void* pixels = wide ? static_cast<void*>(stbi_load_16_from_memory(bytes.data(), len, &w, &h, &c_read, 0))
                      : static_cast<void*>(stbi_load_from_memory(bytes.data(), len, &w, &h, &c_read, want));
  if (!pixels) fail(path, ": cannot decode image (", stbi_failure_reason(), "); the file may be truncated or corrupt");

  Tensor t = Tensor::empty(Shape{1, want, h, w});
  float* out = t.data();  // [1, want, h, w]
  const int64_t hw = int64_t{h} * w;
  if (wide) {
    const auto* px = static_cast<const uint16_t*>(pixels);
    const int n = c_read;  // 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA; alpha is dropped
    if (n < 1 || n > 4) {
      stbi_image_free(pixels);
      fail(path, ": cannot decode image (", n, " channels)");
    }
    for (int64_t i = 0; i < hw; ++i) {
      const uint16_t* p = px + i * n;
      if (n <= 2) {
        for (int c = 0; c < want; ++c) out[c * hw + i] = static_cast<float>(p[0]) / 257.0f;
      } else if (want == 3) {
        for (int c = 0; c < 3; ++c) out[c * hw + i] = static_cast<float>(p[c]) / 257.0f;
      } else {  // stb's luma for 16-bit samples (stbi__compute_y_16), so both bit depths convert alike
        const uint32_t y = (uint32_t{p[0]} * 77 + uint32_t{p[1]} * 150 + uint32_t{p[2]} * 29) >> 8;
        out[i] = static_cast<float>(y) / 257.0f;
      }
    }
  } else {
    const auto* px = static_cast<const unsigned char*>(pixels);
    for (int64_t i = 0; i < hw; ++i)
      for (int c = 0; c < want; ++c) out[c * hw + i] = static_cast<float>(px[i * want + c]);
  }
  stbi_image_free(pixels);
  return t;
}

namespace {
void append_bytes(void* ctx, void* data, int size) {
  auto* v = static_cast<std::vector<unsigned char>*>(ctx);
  auto* p = static_cast<unsigned char*>(data);
  v->insert(v->end(), p, p + size);
}
}  // namespace

namespace {
void check_writable_image(const char* op, const View& image) {
  PI_CHECK(image.device == Device::cpu, op, ": image must be on the CPU");
  PI_CHECK(image.shape.ndim() == 4 && image.shape[0] == 1 && (image.shape[1] == 1 || image.shape[1] == 3), op,
           ": expected a [1, 1|3, H, W] image, got ", image.shape.str());
  PI_CHECK(image.contiguous(), op, ": image must be contiguous");
}

void append_png_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* v = static_cast<std::vector<unsigned char>*>(png_get_io_ptr(png));
  v->insert(v->end(), data, data + size);
}
void png_warning_ignored(png_structp, png_const_charp) {}

// libpng reports errors by longjmp to this frame, which therefore holds no object with a destructor.
bool encode_png16(png_structp png, png_infop info, std::vector<unsigned char>* encoded, const unsigned char* px,
                  int w, int h, int c) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, encoded, append_png_bytes, nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), 16,
               c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; ++y) png_write_row(png, const_cast<unsigned char*>(px) + static_cast<size_t>(y) * w * c * 2);
  png_write_end(png, nullptr);
  return true;
}
}  // namespace

void write_png16(const std::string& path, const View& image) {
  check_writable_image("write_png16", image);
  const int c = static_cast<int>(image.shape[1]), h = static_cast<int>(image.shape[2]),
            w = static_cast<int>(image.shape[3]);
  const int64_t hw = int64_t{h} * w;
  // Rows of big-endian 16-bit samples, pixel-interleaved: [H][W][C] x 2 bytes; v in 0..255 -> round(257 v).
  std::vector<unsigned char> px(static_cast<size_t>(hw * c * 2));
  for (int64_t i = 0; i < hw; ++i)
    for (int k = 0; k < c; ++k) {
      float v = image.data[k * hw + i];
      v = std::isfinite(v) ? std::min(255.0f, std::max(0.0f, v)) : 0.0f;
      const auto q = static_cast<uint16_t>(std::lround(v * 257.0f));
      px[static_cast<size_t>((i * c + k) * 2)] = static_cast<unsigned char>(q >> 8);
      px[static_cast<size_t>((i * c + k) * 2 + 1)] = static_cast<unsigned char>(q & 0xff);
    }
  std::vector<unsigned char> encoded;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, png_warning_ignored);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  const bool ok = info && encode_png16(png, info, &encoded, px.data(), w, h, c);
  png_destroy_write_struct(&png, &info);
  PI_CHECK(ok, path, ": 16-bit PNG encoding failed");
  write_file_atomic(path, std::string(encoded.begin(), encoded.end()));
}

void write_png(const std::string& path, const View& image) {
  check_writable_image("write_png", image);
  const int c = static_cast<int>(image.shape[1]), h = static_cast<int>(image.shape[2]),
            w = static_cast<int>(image.shape[3]);
  const int64_t hw = int64_t{h} * w;
  std::vector<unsigned char> px(static_cast<size_t>(hw * c));
  for (int64_t i = 0; i < hw; ++i)
    for (int k = 0; k < c; ++k) {
      float v = image.data[k * hw + i];
      v = std::isfinite(v) ? std::min(255.0f, std::max(0.0f, v)) : 0.0f;
      px[static_cast<size_t>(i * c + k)] = static_cast<unsigned char>(std::lround(v));
    }
  std::vector<unsigned char> encoded;
  if (!stbi_write_png_to_func(append_bytes, &encoded, w, h, c, px.data(), w * c))
    fail(path, ": PNG encoding failed");

  write_file_atomic(path, std::string(encoded.begin(), encoded.end()));
}

Tensor rgb_to_gray(const View& rgb) {
  PI_CHECK(rgb.device == Device::cpu && rgb.shape.ndim() == 4 && rgb.shape[1] == 3,
           "rgb_to_gray: expected a [N, 3, H, W] CPU tensor, got ", rgb.shape.str());
  const int64_t n = rgb.shape[0], hw = rgb.shape[2] * rgb.shape[3];
  Tensor g = Tensor::empty(Shape{n, 1, rgb.shape[2], rgb.shape[3]});
  for (int64_t b = 0; b < n; ++b) {
    const float* src = rgb.data + b * 3 * hw;  // [3, H, W]
    float* dst = g.data() + b * hw;            // [H, W]
    for (int64_t i = 0; i < hw; ++i) dst[i] = 0.299f * src[i] + 0.587f * src[hw + i] + 0.114f * src[2 * hw + i];
  }
  return g;
}

Tensor gray_to_rgb(const View& gray) {
  PI_CHECK(gray.device == Device::cpu && gray.shape.ndim() == 4 && gray.shape[1] == 1,
           "gray_to_rgb: expected a [N, 1, H, W] CPU tensor, got ", gray.shape.str());
  const int64_t n = gray.shape[0], hw = gray.shape[2] * gray.shape[3];
  Tensor rgb = Tensor::empty(Shape{n, 3, gray.shape[2], gray.shape[3]});
  for (int64_t b = 0; b < n; ++b)
    for (int c = 0; c < 3; ++c) std::copy(gray.data + b * hw, gray.data + (b + 1) * hw, rgb.data() + (b * 3 + c) * hw);
  return rgb;
}

}  // namespace preimage
