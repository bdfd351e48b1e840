// CPU reference for kernels/lbp.h: VLFeat 0.9.21 vl_lbp_process (VlLbpUniform, not transposed), re-derived from its
// documentation and checked against libvl in tests/test_lbp.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/lbp.h"

namespace preimage::kernels::ref {

int lbp_uniform_bin(unsigned pattern) {
  pattern &= 0xffu;
  if (pattern == 0x00u || pattern == 0xffu) return 56;
  for (int i = 0; i < 8; ++i) {
    for (int j = 1; j <= 7; ++j) {
      const unsigned run = (1u << j) - 1u;                         // j ones starting at bit 0
      const unsigned rotated = ((run << i) | (run >> (8 - i))) & 0xffu;  // ... starting at bit i, circularly
      if (pattern == rotated) return 7 * i + j - 1;
    }
  }
  return 57;
}

namespace {
// Bilinear cell coordinate of pixel p: lower cell index and the weight of the upper cell (float, as VLFeat).
template <typename T> void cell_split(int64_t p, int cell, int64_t* c1, T* w2) {
  const float w = (static_cast<float>(p) + 0.5f) / static_cast<float>(cell) - 0.5f;
  const float c = std::floor(w);
  *c1 = static_cast<int64_t>(c);
  *w2 = T(w - c);
}
}  // namespace

template <typename T>
void lbp_forward(const T* image, T* out, int64_t H, int64_t W, int cell) {
  // image: [H, W]; out: [58, CH, CW]
  const int64_t CH = H / cell, CW = W / cell, cells = CH * CW;
  std::fill(out, out + kLbpBins * cells, T(0));
  auto at = [&](int64_t x, int64_t y) { return image[y * W + x]; };
  for (int64_t y = 1; y < H - 1; ++y) {
    int64_t cy1;
    T wy2;
    cell_split(y, cell, &cy1, &wy2);
    const T wy1 = T(1) - wy2;
    const int64_t cy2 = cy1 + 1;
    if (cy1 >= CH) continue;
    for (int64_t x = 1; x < W - 1; ++x) {
      int64_t cx1;
      T wx2;
      cell_split(x, cell, &cx1, &wx2);
      const T wx1 = T(1) - wx2;
      const int64_t cx2 = cx1 + 1;
      if (cx1 >= CW) continue;
      const T c = at(x, y);
      const unsigned pattern = (at(x + 1, y) > c ? 1u : 0u) | (at(x + 1, y + 1) > c ? 2u : 0u) |
                               (at(x, y + 1) > c ? 4u : 0u) | (at(x - 1, y + 1) > c ? 8u : 0u) |
                               (at(x - 1, y) > c ? 16u : 0u) | (at(x - 1, y - 1) > c ? 32u : 0u) |
                               (at(x, y - 1) > c ? 64u : 0u) | (at(x + 1, y - 1) > c ? 128u : 0u);
      T* h = out + lbp_uniform_bin(pattern) * cells;
      if (cx1 >= 0 && cy1 >= 0) h[cy1 * CW + cx1] += wx1 * wy1;
      if (cx2 < CW && cy1 >= 0) h[cy1 * CW + cx2] += wx2 * wy1;
      if (cx1 >= 0 && cy2 < CH) h[cy2 * CW + cx1] += wx1 * wy2;
      if (cx2 < CW && cy2 < CH) h[cy2 * CW + cx2] += wx2 * wy2;
    }
  }
  for (int64_t i = 0; i < cells; ++i) {
    T sum = 0;
    for (int k = 0; k < kLbpBins; ++k) sum += out[k * cells + i];
    const T norm = std::sqrt(sum) + T(1e-10f);
    for (int k = 0; k < kLbpBins; ++k) out[k * cells + i] = std::sqrt(out[k * cells + i]) / norm;
  }
}

template void lbp_forward<float>(const float*, float*, int64_t, int64_t, int);
template void lbp_forward<double>(const double*, double*, int64_t, int64_t, int);

}  // namespace preimage::kernels::ref
