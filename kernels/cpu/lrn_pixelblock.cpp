// LRN over blocks of pixels (kernels/lrn.h): the reference walks one pixel at a time down the channels (strided by
// H*W, a pow per element); here a block of kPixels contiguous pixels of one sample is taken through all channels
// at once, so every step is a contiguous, vectorisable row of kPixels floats, and s^-beta is exp(-beta log s)
// with Eigen's vectorised exp/log (s >= k > 0). Blocks are independent: OpenMP splits them. Float only; tested
// against ref:: (kernels/cpu/lrn.cpp) in tests/test_lrn.cpp.
#include <algorithm>
#include <vector>

#include <Eigen/Core>

#include "kernels/lrn.h"

namespace preimage::kernels::pixelblock {
namespace {
constexpr int64_t kPixels = 64;           // one row of a block: 256 bytes, 8 AVX vectors
constexpr int64_t kParallelMin = 1 << 15;  // elements below which the OpenMP fork costs more than the work
using Row = Eigen::Array<float, 1, Eigen::Dynamic>;
using MapRow = Eigen::Map<Row>;
using ConstMapRow = Eigen::Map<const Row>;
// Scratch rows start on a vector boundary: Eigen computes an unaligned head with its scalar exp/log and the rest
// with the vectorised ones, which round differently, so unaligned scratch would make results depend on malloc.
using AlignedRow = Eigen::Map<Row, Eigen::Aligned32>;
static_assert(kPixels % 8 == 0, "block rows must keep 32-byte alignment");

// Channels c' feeding output channel c are [c - before, c + after] (Caffe: before = (size - 1) / 2).
struct Window {
  int64_t before, after;
};
Window lrn_window(int size) { return Window{(size - 1) / 2, size - 1 - (size - 1) / 2}; }

// For one block: sq[c] = x[c]^2 (rows of `len`), then s[c] = k + (alpha / size) sum_{window(c)} sq and
// sb[c] = s[c]^-beta. x: [C, HW] at the block's first pixel; sq, s, sb: [C, kPixels].
void block_scale(int64_t c, int64_t hw, int64_t len, const LrnParams& p, const float* x, float* sq, float* s,
                 float* sb) {
  const Window w = lrn_window(p.size);
  const float a = p.alpha / static_cast<float>(p.size);
  for (int64_t ch = 0; ch < c; ++ch)
    MapRow(sq + ch * kPixels, len) = ConstMapRow(x + ch * hw, len).square();
  for (int64_t ch = 0; ch < c; ++ch) {
    MapRow sum(s + ch * kPixels, len);
    const int64_t lo = std::max<int64_t>(ch - w.before, 0), hi = std::min<int64_t>(ch + w.after, c - 1);
    sum = ConstMapRow(sq + lo * kPixels, len);
    for (int64_t q = lo + 1; q <= hi; ++q) sum += ConstMapRow(sq + q * kPixels, len);
    sum = p.k + a * sum;
    AlignedRow(sb + ch * kPixels, len) = (-p.beta * AlignedRow(s + ch * kPixels, len).log()).exp();
  }
}

// Runs fn(first pixel of the block in sample b, block length, scratch) over every block of every sample.
template <typename Fn>
void for_each_block(int64_t n, int64_t c, int64_t hw, int scratch_rows, Fn fn) {
  const int64_t blocks = (hw + kPixels - 1) / kPixels;
#pragma omp parallel if (n * c * hw >= kParallelMin)
  {
    std::vector<float, Eigen::aligned_allocator<float>> scratch(static_cast<size_t>(scratch_rows * c * kPixels));
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n * blocks; ++i) {
      const int64_t b = i / blocks, p0 = (i % blocks) * kPixels;
      fn(b * c * hw + p0, std::min(kPixels, hw - p0), scratch.data());
    }
  }
}
}  // namespace

void lrn_forward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const float* x, float* y) {
  // x, y [N, C, HW]: y = x * s^-beta
  for_each_block(n, c, hw, 3, [&](int64_t off, int64_t len, float* scratch) {
    float *sq = scratch, *s = sq + c * kPixels, *sb = s + c * kPixels;
    block_scale(c, hw, len, p, x + off, sq, s, sb);
    for (int64_t ch = 0; ch < c; ++ch)
      MapRow(y + off + ch * hw, len) = ConstMapRow(x + off + ch * hw, len) * ConstMapRow(sb + ch * kPixels, len);
  });
}

void lrn_backward(int64_t n, int64_t c, int64_t hw, const LrnParams& p, const float* x, const float* d_y,
                  float* d_x) {
  // x, d_y, d_x [N, C, HW] (d_x accumulated). As the reference:
  //   d_x_j += d_y_j s_j^-beta - 2 a beta x_j sum_{i in [j - after, j + before]} d_y_i x_i s_i^-beta / s_i
  const Window w = lrn_window(p.size);
  const float coef = 2.0f * p.alpha / static_cast<float>(p.size) * p.beta;
  for_each_block(n, c, hw, 3, [&](int64_t off, int64_t len, float* scratch) {
    float *sq = scratch, *s = sq + c * kPixels, *sb = s + c * kPixels;
    block_scale(c, hw, len, p, x + off, sq, s, sb);
    float* r = sq;  // the squares are no longer needed: r_i = d_y_i x_i s_i^-beta / s_i, [C, kPixels]
    for (int64_t ch = 0; ch < c; ++ch)
      MapRow(r + ch * kPixels, len) = ConstMapRow(d_y + off + ch * hw, len) * ConstMapRow(x + off + ch * hw, len) *
                                      ConstMapRow(sb + ch * kPixels, len) / ConstMapRow(s + ch * kPixels, len);
    for (int64_t j = 0; j < c; ++j) {
      MapRow acc(s + j * kPixels, len);  // s_j is not needed once r is complete: its row holds the window sum
      const int64_t lo = std::max<int64_t>(j - w.after, 0), hi = std::min<int64_t>(j + w.before, c - 1);
      acc = ConstMapRow(r + lo * kPixels, len);
      for (int64_t q = lo + 1; q <= hi; ++q) acc += ConstMapRow(r + q * kPixels, len);
      MapRow(d_x + off + j * hw, len) += ConstMapRow(d_y + off + j * hw, len) * ConstMapRow(sb + j * kPixels, len) -
                                         coef * ConstMapRow(x + off + j * hw, len) * acc;
    }
  });
}

}  // namespace preimage::kernels::pixelblock
