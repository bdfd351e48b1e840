// Row-vectorised CPU path for the HOG forward steps (kernels/hog.h, namespace cellrow), float only. Same results
// as the reference bit for bit, at any thread count:
//  * gradient: the channel argmax written with selects so the loop over x vectorises; each pixel independent.
//  * binning, pass 1 (parallel over pixel rows): each pixel's orientation decision (VLFeat's scan over k with
//    strict comparisons, kept per pixel in arrays so the loop over x vectorises) and |g| * weight per bin.
//  * binning, pass 2 (parallel over rows of cells): every cell sums its pixels' contributions in the reference's
//    raster order (pixel rows ascending, x ascending) into a [hogW][2*NO] row buffer, then scatters to [2*NO][hogW].
// Contraction into FMA is off for the same reason as in kernels/cpu/hog.cpp (scores must round as VLFeat's);
// errno is never read here, and without it sqrt vectorises (the results are the same correctly rounded values).
#pragma GCC optimize("fp-contract=off", "no-math-errno")

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/hog.h"

namespace preimage::kernels::cellrow {
namespace {
constexpr double kPi = 3.14159265358979323846;  // VL_PI

// One channel's central differences on one interior row, kept where its squared norm beats the best so far.
// Restrict-qualified row pointers let the compiler vectorise the loop over x.
void gradient_row(const float* __restrict p, const float* __restrict up, const float* __restrict down, float channel,
                  int64_t W, float* __restrict gx_row, float* __restrict gy_row, float* __restrict ch_row) {
  for (int64_t x = 1; x < W - 1; ++x) {
    const float gx = p[x + 1] - p[x - 1];
    const float gy = down[x] - up[x];
    const float n2 = gx * gx + gy * gy;
    const float best = gx_row[x] * gx_row[x] + gy_row[x] * gy_row[x];
    const bool take = n2 > best;
    gx_row[x] = take ? gx : gx_row[x];
    gy_row[x] = take ? gy : gy_row[x];
    ch_row[x] = take ? channel : ch_row[x];
  }
}

// One orientation k of VLFeat's scan, for a row of pixels: best (b0, w0) and second best (b1, w1) so far.
void score_row(const float* __restrict gx, const float* __restrict gy, float oxk, float oyk, int32_t k, int32_t no,
               int64_t W, int32_t* __restrict b0, float* __restrict w0, int32_t* __restrict b1, float* __restrict w1) {
  for (int64_t x = 0; x < W; ++x) {
    float s = gx[x] * oxk + gy[x] * oyk;
    const bool negative = s < 0;
    s = negative ? -s : s;
    const int32_t b = negative ? k + no : k;
    const bool first = s > w0[x];
    const bool second = s > w1[x];
    const int32_t nb1 = first ? b0[x] : (second ? b : b1[x]);
    const float nw1 = first ? w0[x] : (second ? s : w1[x]);
    b0[x] = first ? b : b0[x];
    w0[x] = first ? s : w0[x];
    b1[x] = nb1;
    w1[x] = nw1;
  }
}

void magnitude_row(const float* __restrict gx, const float* __restrict gy, int64_t W, float* __restrict m) {
  for (int64_t x = 0; x < W; ++x) m[x] = std::sqrt(gx[x] * gx[x] + gy[x] * gy[x]);
}
}  // namespace

void hog_gradient_forward(const float* image /*[C,H,W]*/, int64_t C, int64_t H, int64_t W, float* grad /*[2,H,W]*/,
                          float* channel /*[H,W]*/) {
  const int64_t plane = H * W;
#pragma omp parallel for schedule(static)
  for (int64_t y = 0; y < H; ++y) {
    float* gx_row = grad + y * W;
    float* gy_row = grad + plane + y * W;
    float* ch_row = channel + y * W;
    std::fill(gx_row, gx_row + W, 0.0f);
    std::fill(gy_row, gy_row + W, 0.0f);
    std::fill(ch_row, ch_row + W, -1.0f);
    if (y == 0 || y == H - 1) continue;
    for (int64_t c = 0; c < C; ++c) {
      // channels scanned in order with a strict comparison: the first maximum wins, as the reference
      const float* p = image + c * plane + y * W;
      gradient_row(p, p - W, p + W, static_cast<float>(c), W, gx_row, gy_row, ch_row);
    }
  }
}

void hog_binning_forward(const float* grad /*[2,H,W]*/, int64_t H, int64_t W, const HogBinningParams& p,
                         float* hist /*[2*NO,hogH,hogW]*/) {
  const int no = p.num_orientations, cs = p.cell_size;
  const int64_t hog_h = hog_cells(H, cs), hog_w = hog_cells(W, cs);
  const int64_t plane = H * W, nbins = 2 * no;
  std::vector<float> ox(static_cast<size_t>(no)), oy(static_cast<size_t>(no));
  for (int k = 0; k < no; ++k) {
    ox[static_cast<size_t>(k)] = static_cast<float>(std::cos(k * kPi / no));
    oy[static_cast<size_t>(k)] = static_cast<float>(std::sin(k * kPi / no));
  }
  // spatial weights per column and per row, as the reference
  auto splat = [cs](int64_t n, std::vector<int64_t>& bin, std::vector<float>& w1, std::vector<float>& w2) {
    bin.resize(static_cast<size_t>(n));
    w1.resize(static_cast<size_t>(n));
    w2.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const float h = static_cast<float>((i + 0.5) / cs - 0.5);
      const int64_t b = static_cast<int64_t>(std::floor(h));
      bin[static_cast<size_t>(i)] = b;
      w2[static_cast<size_t>(i)] = h - static_cast<float>(b);
      w1[static_cast<size_t>(i)] = static_cast<float>(1.0 - w2[static_cast<size_t>(i)]);
    }
  };
  std::vector<int64_t> bx, by;
  std::vector<float> wx1, wx2, wy1, wy2;
  splat(W, bx, wx1, wx2);
  splat(H, by, wy1, wy2);

  // pass 1: per pixel, bins b0/b1 (b1 = -1 for hard) and |g| * weight
  std::vector<int32_t> bin0(static_cast<size_t>(plane)), bin1(static_cast<size_t>(plane));
  std::vector<float> mw0(static_cast<size_t>(plane)), mw1(static_cast<size_t>(plane));
  std::vector<float> magnitude(static_cast<size_t>(plane));
  const bool bilinear = p.bilinear_orientations;
#pragma omp parallel for schedule(static)
  for (int64_t y = 0; y < H; ++y) {
    const float* gx = grad + y * W;
    const float* gy = grad + plane + y * W;
    int32_t* b0 = bin0.data() + y * W;
    int32_t* b1 = bin1.data() + y * W;
    float* w0 = mw0.data() + y * W;  // holds the best score until the weights are known
    float* w1 = mw1.data() + y * W;
    std::fill(b0, b0 + W, -1);
    std::fill(b1, b1 + W, -1);
    std::fill(w0, w0 + W, -1.0f);
    std::fill(w1, w1 + W, -1.0f);
    for (int k = 0; k < no; ++k) {
      score_row(gx, gy, ox[static_cast<size_t>(k)], oy[static_cast<size_t>(k)], k, no, W, b0, w0, b1, w1);
    }
    // |g| * weight per bin; the best score in w0 is still needed by the bilinear weights
    float* m = magnitude.data() + y * W;
    magnitude_row(gx, gy, W, m);
    if (bilinear) {
      for (int64_t x = 0; x < W; ++x) {
        const double c = std::min(static_cast<double>(w0[x]) / std::max(static_cast<double>(m[x]), 1e-10), 1.0);
        const float theta = std::acos(static_cast<float>(c));
        const float second = static_cast<float>(theta / (kPi / no));
        const float first = 1 - second;
        w0[x] = m[x] * first;
        w1[x] = m[x] * second;
      }
    } else {
      std::copy(m, m + W, w0);  // |g| * 1
      std::fill(b1, b1 + W, -1);
    }
  }

  // pass 2: rows of cells; pixel row y feeds cell row by[y] (weight wy1) and by[y] + 1 (weight wy2)
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<size_t>(hog_w * nbins));  // [hogW][2*NO]
#pragma omp for schedule(static)
    for (int64_t cy = 0; cy < hog_h; ++cy) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t y = 0; y < H; ++y) {
        float wy;
        if (by[static_cast<size_t>(y)] == cy) {
          wy = wy1[static_cast<size_t>(y)];
        } else if (by[static_cast<size_t>(y)] + 1 == cy) {
          wy = wy2[static_cast<size_t>(y)];
        } else {
          continue;
        }
        const int32_t* b0 = bin0.data() + y * W;
        const int32_t* b1 = bin1.data() + y * W;
        const float* w0 = mw0.data() + y * W;
        const float* w1 = mw1.data() + y * W;
        for (int64_t x = 0; x < W; ++x) {
          const int64_t cx = bx[static_cast<size_t>(x)];
          const float a1 = wx1[static_cast<size_t>(x)], a2 = wx2[static_cast<size_t>(x)];
          for (int j = 0; j < 2; ++j) {
            const int32_t b = j == 0 ? b0[x] : b1[x];
            if (b < 0) continue;
            const float mw = j == 0 ? w0[x] : w1[x];
            if (cx >= 0) acc[static_cast<size_t>(cx * nbins + b)] += mw * a1 * wy;
            if (cx < hog_w - 1) acc[static_cast<size_t>((cx + 1) * nbins + b)] += mw * a2 * wy;
          }
        }
      }
      for (int64_t b = 0; b < nbins; ++b)
        for (int64_t cx = 0; cx < hog_w; ++cx)
          hist[(b * hog_h + cy) * hog_w + cx] = acc[static_cast<size_t>(cx * nbins + b)];
    }
  }
}

}  // namespace preimage::kernels::cellrow
