// Our one compilation unit of stb_image / stb_image_write (Debian libstb-dev headers). Only the decoders we need
// are compiled: Debian's stb has open CVEs in others (GIF, PSD, HDR, PIC, TGA); JPEG goes to libjpeg-turbo
// (engine/jpeg_decode.h): stb's JPEG decoder failed under the fuzzer twice (docs/reliability.md, findings 3, 8).
// STBI_MAX_DIMENSIONS refuses huge
// images before any allocation.
#include "engine/image_io.h"

#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_MAX_DIMENSIONS preimage::kMaxImageSide
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb_image.h>
#include <stb_image_write.h>
#pragma GCC diagnostic pop
