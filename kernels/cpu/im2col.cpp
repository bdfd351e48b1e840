// Patch unrolling for the im2col convolution paths (kernels/cpu/im2col.h).
#include "kernels/cpu/im2col.h"

#include <algorithm>

namespace preimage::kernels::im2col::detail {
namespace {
// Below this many column elements the OpenMP fork costs more than the copy.
constexpr int64_t kParallelMin = int64_t{1} << 16;
}

void image_to_columns(const Unroll& s, const float* img, float* col) {
  // img: [C, H, W]  col: [C*kh*kw, gh*gw]; every row is independent
#pragma omp parallel for schedule(static) if (s.rows() * s.cols() >= kParallelMin)
  for (int64_t r = 0; r < s.rows(); ++r) {
    const int64_t c = r / (s.kh * s.kw), u = (r / s.kw) % s.kh, v = r % s.kw;
    const float* plane = img + c * s.h * s.w;
    float* out = col + r * s.cols();
    for (int64_t i = 0; i < s.gh; ++i) {
      const int64_t y = i * s.sh - s.pt + u;
      float* row = out + i * s.gw;
      if (y < 0 || y >= s.h) {
        for (int64_t j = 0; j < s.gw; ++j) row[j] = 0.0f;
        continue;
      }
      for (int64_t j = 0; j < s.gw; ++j) {
        const int64_t x = j * s.sw - s.pl + v;
        row[j] = (x >= 0 && x < s.w) ? plane[y * s.w + x] : 0.0f;
      }
    }
  }
}

void columns_to_image(const Unroll& s, const float* col, float* img) {
  // col: [C*kh*kw, gh*gw]  img: [C, H, W] (accumulated); rows of one channel overlap in img, so channels are the
  // unit of parallel work
#pragma omp parallel for schedule(static) if (s.rows() * s.cols() >= kParallelMin)
  for (int64_t c = 0; c < s.c; ++c) {
    float* plane = img + c * s.h * s.w;
    for (int64_t u = 0; u < s.kh; ++u)
      for (int64_t v = 0; v < s.kw; ++v) {
        const float* in = col + ((c * s.kh + u) * s.kw + v) * s.cols();
        for (int64_t i = 0; i < s.gh; ++i) {
          const int64_t y = i * s.sh - s.pt + u;
          if (y < 0 || y >= s.h) continue;
          for (int64_t j = 0; j < s.gw; ++j) {
            const int64_t x = j * s.sw - s.pl + v;
            if (x >= 0 && x < s.w) plane[y * s.w + x] += in[i * s.gw + j];
          }
        }
      }
  }
}

void image_to_columns_band(const Unroll& s, const float* img, float* col, int64_t i0, int64_t i1) {
  // img: [C, H, W]  col: [C*kh*kw, (i1-i0)*gw]
  const int64_t cols = (i1 - i0) * s.gw;
  for (int64_t r = 0; r < s.rows(); ++r) {
    const int64_t c = r / (s.kh * s.kw), u = (r / s.kw) % s.kh, v = r % s.kw;
    const float* plane = img + c * s.h * s.w;
    float* out = col + r * cols;
    // placements j in [j_lo, j_hi) read inside the image: 0 <= j*sw - pl + v < w
    const int64_t j_lo = std::min(s.gw, std::max<int64_t>(0, (s.pl - v + s.sw - 1) / s.sw));
    const int64_t j_hi = std::max(j_lo, std::min(s.gw, (s.w + s.pl - v + s.sw - 1) / s.sw));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t y = i * s.sh - s.pt + u;
      float* row = out + (i - i0) * s.gw;
      if (y < 0 || y >= s.h) {
        std::fill(row, row + s.gw, 0.0f);
        continue;
      }
      const int64_t base = y * s.w - s.pl + v;  // plane[base + j * sw] is placement j's pixel
      std::fill(row, row + j_lo, 0.0f);
      if (s.sw == 1)
        std::copy(plane + base + j_lo, plane + base + j_hi, row + j_lo);
      else
        for (int64_t j = j_lo; j < j_hi; ++j) row[j] = plane[base + j * s.sw];
      std::fill(row + j_hi, row + s.gw, 0.0f);
    }
  }
}

void columns_to_image_band(const Unroll& s, const float* col, float* img, int64_t i0, int64_t i1) {
  // col: [C*kh*kw, (i1-i0)*gw]  img: [C, H, W] (accumulated)
  const int64_t cols = (i1 - i0) * s.gw;
  for (int64_t r = 0; r < s.rows(); ++r) {
    const int64_t c = r / (s.kh * s.kw), u = (r / s.kw) % s.kh, v = r % s.kw;
    float* plane = img + c * s.h * s.w;
    const float* in = col + r * cols;
    const int64_t j_lo = std::min(s.gw, std::max<int64_t>(0, (s.pl - v + s.sw - 1) / s.sw));
    const int64_t j_hi = std::max(j_lo, std::min(s.gw, (s.w + s.pl - v + s.sw - 1) / s.sw));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t y = i * s.sh - s.pt + u;
      if (y < 0 || y >= s.h) continue;
      const int64_t base = y * s.w - s.pl + v;  // plane[base + j * sw] is placement j's pixel
      const float* row = in + (i - i0) * s.gw;
      for (int64_t j = j_lo; j < j_hi; ++j) plane[base + j * s.sw] += row[j];
    }
  }
}

}  // namespace preimage::kernels::im2col::detail
