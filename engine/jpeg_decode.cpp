// JPEG files through libjpeg-turbo (engine/jpeg_decode.h).
#include "engine/jpeg_decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>

extern "C" {
#include <jerror.h>
#include <jpeglib.h>
}

#include "engine/error.h"
#include "engine/image_io.h"

namespace preimage {
namespace {
// A progressive colour file near the side limit needs 16384^2 * 3 * 2 bytes of coefficients; libjpeg refuses more
// than this (it has no backing store) instead of exhausting memory on a tiny file that declares a huge image.
constexpr long kMaxMemory = 1L << 30;
// Progressive files have about ten scans; a corrupt one can declare thousands, each a pass over the coefficients.
constexpr int kMaxScans = 1000;

struct ErrorManager {
  jpeg_error_mgr pub;  // first: libjpeg hands back &pub
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// libjpeg's warnings are corrupt data it would paper over (grey blocks after a premature end, a bad Huffman code):
// errors here, so a damaged photo is reported, not half decoded. Bytes between segments (JWRN_EXTRANEOUS_DATA) are
// common in real files and harmless.
void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0 || cinfo->err->msg_code == JWRN_EXTRANEOUS_DATA) return;  // level >= 0: trace output
  on_error(cinfo);
}

void on_progress(j_common_ptr cinfo) {
  const auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number <= kMaxScans) return;
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  std::snprintf(e->message, sizeof e->message, "more than %d scans", kMaxScans);
  std::longjmp(e->jump, 1);
}

// libjpeg reports errors by longjmp to this frame, which therefore holds no object with a destructor; `out` lives
// in the caller's. CMYK and YCCK files come out as CMYK (libjpeg converts to RGB from YCbCr and RGB only).
bool run_decoder(jpeg_decompress_struct* cinfo, ErrorManager* err, jpeg_progress_mgr* progress,
                 const std::vector<unsigned char>& bytes, int wanted, DecodedJpeg* out) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  cinfo->mem->max_memory_to_use = kMaxMemory;
  cinfo->progress = progress;
  jpeg_mem_src(cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(cinfo, TRUE);
  if (cinfo->image_width > static_cast<unsigned>(kMaxImageSide) ||
      cinfo->image_height > static_cast<unsigned>(kMaxImageSide)) {
    std::snprintf(err->message, sizeof err->message, "image declares %ux%u pixels, the limit is %d a side",
                  cinfo->image_width, cinfo->image_height, kMaxImageSide);
    return false;
  }
  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  out->file_channels = cinfo->num_components == 1 ? 1 : 3;
  out->channels = wanted != 0 ? wanted : out->file_channels;
  cinfo->out_color_space = cmyk ? JCS_CMYK : out->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(cinfo);
  out->width = static_cast<int>(cinfo->output_width);
  out->height = static_cast<int>(cinfo->output_height);
  const size_t row = size_t{cinfo->output_width} * static_cast<size_t>(cinfo->output_components);
  out->pixels.resize(row * cinfo->output_height);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW r = out->pixels.data() + row * cinfo->output_scanline;
    jpeg_read_scanlines(cinfo, &r, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

unsigned char times_255ths(unsigned x, unsigned y) {  // round(x * y / 255), stb_image's stbi__blinn_8x8
  const unsigned t = x * y + 128;
  return static_cast<unsigned char>((t + (t >> 8)) >> 8);
}

// Adobe CMYK as stored (inverted; libjpeg has already turned YCCK into it) [H][W][4] -> RGB or gray in place, as
// stb_image converted it: R = C * K / 255, ..., gray = stb's luma of that RGB.
void cmyk_to_output(DecodedJpeg* d) {
  const size_t n = size_t{static_cast<unsigned>(d->width)} * static_cast<unsigned>(d->height);
  unsigned char* p = d->pixels.data();
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* s = p + 4 * i;
    const unsigned char r = times_255ths(s[0], s[3]), g = times_255ths(s[1], s[3]), b = times_255ths(s[2], s[3]);
    if (d->channels == 3) {
      p[3 * i] = r;
      p[3 * i + 1] = g;
      p[3 * i + 2] = b;
    } else {
      p[i] = static_cast<unsigned char>((r * 77u + g * 150u + b * 29u) >> 8);
    }
  }
  d->pixels.resize(n * static_cast<size_t>(d->channels));
}
}  // namespace

bool is_jpeg(const std::vector<unsigned char>& bytes) {
  return bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8;
}

DecodedJpeg decode_jpeg(const std::string& path, const std::vector<unsigned char>& bytes, int channels_wanted) {
  PI_CHECK(channels_wanted == 0 || channels_wanted == 1 || channels_wanted == 3, "decode_jpeg: channels_wanted ",
           channels_wanted, " (0, 1 or 3)");
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  ErrorManager err;
  std::memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  jpeg_progress_mgr progress;
  std::memset(&progress, 0, sizeof progress);
  progress.progress_monitor = on_progress;
  DecodedJpeg out;
  const bool ok = run_decoder(&cinfo, &err, &progress, bytes, channels_wanted, &out);
  const bool cmyk = ok && cinfo.out_color_space == JCS_CMYK;
  jpeg_destroy_decompress(&cinfo);
  PI_CHECK(ok, path, ": cannot decode JPEG (", err.message, "); the file may be truncated or corrupt");
  if (cmyk) cmyk_to_output(&out);
  return out;
}

}  // namespace preimage
