// Image I/O: real photos from the Debian packages, PNG round trip, and the corrupt-input corpus.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "engine/image_io.h"

using namespace preimage;
namespace fs = std::filesystem;

static const char* kAstronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
static const char* kCamera = "/usr/lib/python3/dist-packages/skimage/data/camera.png";

TEST_CASE("read real photos as 0..255 float NCHW", "[image_io]") {
  Tensor rgb = read_image(kAstronaut);
  REQUIRE(rgb.shape() == Shape({1, 3, 512, 512}));
  float lo = 255, hi = 0;
  for (float v : rgb.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
  REQUIRE(lo >= 0.0f);
  REQUIRE(hi <= 255.0f);
  REQUIRE(hi - lo > 100.0f);
  Tensor gray = read_image(kCamera);
  REQUIRE(gray.shape().c() == 1);
  REQUIRE(read_image(kCamera, ImageChannels::rgb).shape().c() == 3);
  REQUIRE(read_image(kAstronaut, ImageChannels::gray).shape().c() == 1);
  const auto jpgs = "/usr/share/backgrounds/mate/nature/Storm.jpg";
  REQUIRE(read_image(jpgs).shape().c() == 3);
}

TEST_CASE("PNG write then read is exact for integer pixels", "[image_io]") {
  Tensor img = Tensor::empty(Shape{1, 3, 5, 7});
  for (int64_t i = 0; i < img.numel(); ++i) img.data()[i] = static_cast<float>((i * 37) % 256);
  const fs::path dir = fs::temp_directory_path() / "preimage_test_io";
  fs::create_directories(dir);
  const std::string path = (dir / "round.png").string();
  write_png(path, img.view());
  REQUIRE(read_image(path).to_vector() == img.to_vector());
  // Out-of-range values are clamped, never wrapped.
  img.data()[0] = -20.0f;
  img.data()[1] = 300.0f;
  write_png(path, img.view());
  Tensor back = read_image(path);
  REQUIRE(back.data()[0] == 0.0f);
  REQUIRE(back.data()[1] == 255.0f);
  REQUIRE_THROWS_WITH(write_png((dir / "missing_dir" / "x.png").string(), img.view()),
                      Catch::Contains("cannot write"));
  REQUIRE(!fs::exists(dir / "missing_dir"));
  fs::remove_all(dir);
}

TEST_CASE("gray conversion follows ITU-R 601 weights", "[image_io]") {
  Tensor rgb = Tensor::from({255, 0, 0, 255, 0, 0}, Shape{1, 3, 1, 2});
  Tensor g = rgb_to_gray(rgb.view());
  REQUIRE(g.data()[0] == Approx(0.299f * 255));
  REQUIRE(g.data()[1] == Approx(0.587f * 255));
}

TEST_CASE("corrupt, truncated and oversized files give an error naming the file", "[image_io][errors]") {
  const fs::path corpus = fs::path(PREIMAGE_TEST_DATA) / "corrupt";
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    const std::string path = entry.path().string();
    INFO(path);
    REQUIRE_THROWS_WITH(read_image(path), Catch::Contains(entry.path().filename().string()));
    ++seen;
  }
  REQUIRE(seen >= 6);
  REQUIRE_THROWS_WITH(read_image((corpus / "huge_dimensions.png").string()), Catch::Contains("limit"));
  REQUIRE_THROWS_WITH(read_image("/nonexistent/photo.png"), Catch::Contains("cannot open"));
}

TEST_CASE("inputs the fuzzers found decode the same in every channel mode", "[image_io][errors]") {
  // A 2x2 16-bit gray PGM: read as RGB, stb's PNM loader converted its 16-bit samples with the 8-bit routine and
  // overran the buffer (tests/fuzz/fuzz_image under ASan). Now: RGB = the gray samples replicated.
  const std::string path = (fs::path(PREIMAGE_TEST_DATA) / "fuzz_found" / "pgm16_gray_as_rgb.pgm").string();
  const Tensor gray = read_image(path, ImageChannels::gray), keep = read_image(path, ImageChannels::keep);
  const Tensor rgb = read_image(path, ImageChannels::rgb);
  REQUIRE(gray.shape() == Shape({1, 1, 2, 2}));
  REQUIRE(rgb.shape() == Shape({1, 3, 2, 2}));
  REQUIRE(keep.to_vector() == gray.to_vector());
  bool distinct = false;
  for (int64_t i = 0; i < 4; ++i) {
    for (int c = 0; c < 3; ++c) REQUIRE(rgb.data()[c * 4 + i] == gray.data()[i]);
    REQUIRE(gray.data()[i] >= 0.0f);
    REQUIRE(gray.data()[i] <= 255.0f);
    distinct = distinct || gray.data()[i] != gray.data()[0];
  }
  REQUIRE(distinct);  // real samples, not a constant fill
}

TEST_CASE("a PNG holding an empty IDAT chunk decodes like the same PNG without it", "[image_io][errors]") {
  // stb copied a zero-byte IDAT chunk into its not yet allocated buffer (memcpy(NULL, p, 0); tests/fuzz/fuzz_image
  // under UBSan); the empty chunks are now dropped before stb reads the file. The sanitizer job runs this case.
  const fs::path data = PREIMAGE_TEST_DATA;
  const Tensor with_empty = read_image((data / "fuzz_found" / "png_empty_idat.png").string());
  const Tensor plain = read_image((data / "bmp" / "rgb24_5x3.png").string());
  REQUIRE(with_empty.shape() == Shape({1, 3, 3, 5}));
  REQUIRE(with_empty.to_vector() == plain.to_vector());
}

TEST_CASE("a PNG whose chunk runs past the end of the file is refused before stb allocates for it",
          "[image_io][errors]") {
  // A 239-byte file whose second IDAT chunk declares 1.85 GB: stb grew its buffer to 2 GiB before reading
  // (tests/fuzz/fuzz_image, out of memory under ASan). The chunk walk refuses it.
  const fs::path file = fs::path(PREIMAGE_TEST_DATA) / "fuzz_found" / "png_chunk_past_end.png";
  REQUIRE_THROWS_WITH(read_image(file.string()), Catch::Contains("truncated or corrupt PNG") &&
                                                     Catch::Contains("are left in the file"));
  // A valid PNG is untouched by the walk, trailing bytes after IEND included (stb never reads them).
  const fs::path png = fs::path(PREIMAGE_TEST_DATA) / "bmp" / "rgb24_5x3.png";
  std::ifstream f(png, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  bytes += std::string("\x7f\xff\xff\xffJUNK", 8);
  const fs::path trailing = fs::temp_directory_path() / "preimage_png_trailing.png";
  std::ofstream(trailing, std::ios::binary) << bytes;
  REQUIRE(read_image(trailing.string()).to_vector() == read_image(png.string()).to_vector());
  fs::remove(trailing);
}

TEST_CASE("BMP files of 1, 8, 24 and 32 bits decode like the same pixels as PNG", "[image_io]") {
  // Files written by PIL (tests/data/bmp; the OS/2 one by hand, read back by PIL): 5 or 3 pixels wide, so every
  // depth pads its rows; the raster-size check that refuses truncated BMPs must accept each of them.
  const fs::path dir = fs::path(PREIMAGE_TEST_DATA) / "bmp";
  const struct {
    const char* bmp;
    const char* png;
    ImageChannels channels;
  } cases[] = {{"rgb24_5x3.bmp", "rgb24_5x3.png", ImageChannels::keep},
               {"rgba32_5x3.bmp", "rgb24_5x3.png", ImageChannels::keep},
               {"gray8_5x3.bmp", "gray8_5x3.png", ImageChannels::gray},
               {"bw1_5x3.bmp", "bw1_5x3.png", ImageChannels::gray},
               {"os2_rgb24_3x2.bmp", "os2_rgb24_3x2.png", ImageChannels::keep}};  // 12-byte OS/2 header
  for (const auto& c : cases) {
    INFO(c.bmp);
    const Tensor bmp = read_image((dir / c.bmp).string(), c.channels);
    const Tensor png = read_image((dir / c.png).string(), c.channels);
    REQUIRE(bmp.shape() == png.shape());
    REQUIRE(bmp.to_vector() == png.to_vector());
  }
  // A 123-byte file declaring 1536x8453 pixels: stb read the missing raster as zeros for 20 s under ASan.
  REQUIRE_THROWS_WITH(read_image((fs::path(PREIMAGE_TEST_DATA) / "corrupt" / "bmp_raster_past_end.bmp").string()),
                      Catch::Contains("truncated BMP"));
  // The same with a compression field stb does not know (it reads the raster as uncompressed): 11 s under ASan.
  REQUIRE_THROWS_WITH(
      read_image((fs::path(PREIMAGE_TEST_DATA) / "corrupt" / "bmp_odd_compression_past_end.bmp").string()),
      Catch::Contains("truncated BMP"));
}

TEST_CASE("JPEG files decode as PIL decodes them (libjpeg-turbo), CMYK as stb_image converted it", "[image_io]") {
  // tests/data/jpeg: a 41x31 crop of a photo saved by PIL as 4:2:0 colour, gray and progressive 4:2:2 (odd sides,
  // so the chroma upsampling's edges count), each beside PIL's decoding as PNG; and an Adobe CMYK file beside
  // round(C * K / 255) of its stored samples, computed in Python.
  const fs::path dir = fs::path(PREIMAGE_TEST_DATA) / "jpeg";
  for (const char* name : {"color420", "gray", "progressive"}) {
    INFO(name);
    const Tensor jpeg = read_image((dir / (std::string(name) + ".jpg")).string());
    const Tensor pil = read_image((dir / (std::string(name) + ".pil.png")).string());
    REQUIRE(jpeg.shape() == pil.shape());
    REQUIRE(jpeg.shape()[3] == 41);
    REQUIRE(jpeg.to_vector() == pil.to_vector());
  }
  const Tensor cmyk = read_image((dir / "cmyk.jpg").string());
  REQUIRE(cmyk.to_vector() == read_image((dir / "cmyk.expected.png").string()).to_vector());
  REQUIRE(read_image((dir / "cmyk.jpg").string(), ImageChannels::gray).shape() == Shape({1, 1, 31, 41}));
  REQUIRE(read_image((dir / "gray.jpg").string(), ImageChannels::rgb).shape() == Shape({1, 3, 31, 41}));
  REQUIRE_THROWS_WITH(read_image((fs::path(PREIMAGE_TEST_DATA) / "corrupt" / "jpeg_truncated.jpg").string()),
                      Catch::Contains("cannot decode JPEG"));
}
