// libFuzzer target: image decoding as every command reads an input (engine/image_io.h: stb_image's PNG, JPEG, BMP
// and PNM decoders behind our dimension cap and pixel checks), in each channel mode. A rejected input must throw
// preimage::Error; anything else (a crash, a sanitizer report, another exception) is a finding.
#include <cstdint>

#include "engine/error.h"
#include "engine/image_io.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = preimage::fuzz::input_file(data, size, ".img");
  for (preimage::ImageChannels c :
       {preimage::ImageChannels::keep, preimage::ImageChannels::rgb, preimage::ImageChannels::gray}) {
    try {
      preimage::Tensor t = preimage::read_image(path, c);
      // Every decoded pixel is a finite 0..255 value in a [1, C, H, W] tensor within the cap.
      if (t.shape().ndim() != 4 || t.shape()[0] != 1 || t.shape()[2] > preimage::kMaxImageSide ||
          t.shape()[3] > preimage::kMaxImageSide)
        __builtin_trap();
      for (int64_t i = 0; i < t.numel(); ++i)
        if (!(t.data()[i] >= 0.0f && t.data()[i] <= 255.0f)) __builtin_trap();
    } catch (const preimage::Error&) {
      return 0;  // refused with a message: the contract
    }
  }
  return 0;
}
