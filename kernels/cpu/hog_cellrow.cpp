// Row-vectorised CPU path for the HOG forward steps (kernels/hog.h, namespace cellrow), float only. Same results
// as the reference bit for bit, at any thread count:
//  * gradient: the channel argmax written with selects so the loop over x vectorises; each pixel independent.
//  * binning, pass 1 (parallel over pixel rows): each pixel's orientation decision (VLFeat's scan over k with
//    strict comparisons, kernels/cpu/hog_rowscan.h, shared with the backward), then per bin the accumulator index of
//    the pixel's left cell and its two products (|g| w) wx1, (|g| w) wx2, all in vectorised loops over x.
//  * binning, pass 2 (parallel over rows of cells): every cell sums its pixels' contributions (times the row's wy)
//    in the reference's raster order (pixel rows ascending, x ascending) into a padded [hogW + 3][2*NO] row buffer
//    (border cells and NaN pixels land in cells that are dropped: no branch per pixel), then scatters to
//    [2*NO][hogW].
// Contraction into FMA is off for the same reason as in kernels/cpu/hog.cpp (scores must round as VLFeat's).
#pragma GCC optimize("fp-contract=off")

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "engine/error.h"
#include "kernels/cpu/hog_rowscan.h"
#include "kernels/hog.h"

namespace preimage::kernels::cellrow {
namespace {

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

// One bin of each pixel of a row: the accumulator index of its left cell (cell cx of bin b at (cx + 1) * nbins + b;
// `trash` for a pixel without a bin, i.e. a NaN gradient, which the reference skips) and the products
// (|g| w) wx1 and (|g| w) wx2 in VLFeat's order. b, mw: [W]; bx, wx1, wx2: [W] per column.
void splat_row(const int32_t* __restrict b, const float* __restrict mw, const int32_t* __restrict bx,
               const float* __restrict wx1, const float* __restrict wx2, int32_t nbins, int32_t trash, int64_t W,
               int32_t* __restrict idx, float* __restrict l, float* __restrict r) {
  for (int64_t x = 0; x < W; ++x) {
    const int32_t i = (bx[x] + 1) * nbins + b[x];
    idx[x] = b[x] < 0 ? trash : i;
    l[x] = mw[x] * wx1[x];
    r[x] = mw[x] * wx2[x];
  }
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
  // Row accumulator of pass 2: [hogW + 3][2*NO] cells, cell cx at cx + 1 (cells -1 and hogW catch the splats the
  // reference skips at the border), then a trash cell for pixels without a bin (NaN gradients); a bin's right cell
  // is nbins after its left one.
  const int64_t acc_size = (hog_w + 3) * nbins;
  const int32_t trash = static_cast<int32_t>((hog_w + 2) * nbins);
  PI_CHECK(acc_size < std::numeric_limits<int32_t>::max(), "hog_binning: ", hog_w, " cells of ", nbins,
           " bins per row are too many for the cellrow path's 32-bit indices");
  std::vector<float> ox, oy;
  detail::orientation_axes(no, ox, oy);
  const detail::Splat sx(W, cs), sy(H, cs);
  const bool bilinear = p.bilinear_orientations;
  const int nsplat = bilinear ? 2 : 1;  // bins per pixel

  // pass 1, per pixel and bin j: the accumulator index of its left cell and the two products (|g| w_j) wx1,
  // (|g| w_j) wx2 (VLFeat's product order; the cell row's wy multiplies in pass 2). [nsplat][H][W] each.
  // every element is written by pass 1 before pass 2 reads it: no zero-fill (new[] of a trivial type)
  const std::unique_ptr<int32_t[]> index(new int32_t[static_cast<size_t>(nsplat * plane)]);
  const std::unique_ptr<float[]> left(new float[static_cast<size_t>(nsplat * plane)]);
  const std::unique_ptr<float[]> right(new float[static_cast<size_t>(nsplat * plane)]);
#pragma omp parallel
  {
    std::vector<int32_t> b0(static_cast<size_t>(W)), b1(static_cast<size_t>(W));
    std::vector<float> w0(static_cast<size_t>(W)), w1(static_cast<size_t>(W)), m(static_cast<size_t>(W));
#pragma omp for schedule(static)
    for (int64_t y = 0; y < H; ++y) {
      const float* gx = grad + y * W;
      const float* gy = grad + plane + y * W;
      detail::orientation_row(gx, gy, ox, oy, W, bilinear, b0.data(), w0.data(), b1.data(), w1.data());
      detail::magnitude_row(gx, gy, W, m.data());
      // |g| * weight per bin; w0 holds the best score until the bilinear weights are known
      if (bilinear) {
        for (int64_t x = 0; x < W; ++x) {
          const size_t i = static_cast<size_t>(x);
          const float second = detail::bilinear_second_weight(w0[i], m[i], no);
          const float first = 1 - second;
          w0[i] = m[i] * first;
          w1[i] = m[i] * second;
        }
      } else {
        std::copy(m.begin(), m.end(), w0.begin());  // |g| * 1
      }
      for (int j = 0; j < nsplat; ++j) {
        const int32_t* b = j == 0 ? b0.data() : b1.data();
        const float* mw = j == 0 ? w0.data() : w1.data();
        int32_t* idx = index.get() + j * plane + y * W;
        float* l = left.get() + j * plane + y * W;
        float* r = right.get() + j * plane + y * W;
        splat_row(b, mw, sx.bin.data(), sx.w1.data(), sx.w2.data(), static_cast<int32_t>(nbins), trash, W, idx, l, r);
      }
    }
  }

  // pass 2, rows of cells: cell row cy sums pixel rows y with by[y] == cy (weight wy1) and by[y] + 1 == cy (wy2),
  // y ascending and x ascending - the reference's raster order for every cell, so the float sums are its sums.
  // A bin's two cells are nbins apart in the accumulator.
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<size_t>(acc_size));
#pragma omp for schedule(static)
    for (int64_t cy = 0; cy < hog_h; ++cy) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      float* a = acc.data();
      for (int64_t y = 0; y < H; ++y) {
        float wy;
        if (sy.bin[static_cast<size_t>(y)] == cy) {
          wy = sy.w1[static_cast<size_t>(y)];
        } else if (sy.bin[static_cast<size_t>(y)] + 1 == cy) {
          wy = sy.w2[static_cast<size_t>(y)];
        } else {
          continue;
        }
        const int32_t* idx0 = index.get() + y * W;
        const float* l0 = left.get() + y * W;
        const float* r0 = right.get() + y * W;
        if (!bilinear) {
          for (int64_t x = 0; x < W; ++x) {
            const int32_t i = idx0[x];
            a[i] += l0[x] * wy;
            a[i + nbins] += r0[x] * wy;
          }
        } else {
          // both bins of a pixel before the next pixel: a cell's sum of one bin takes its pixels in raster order
          const int32_t* idx1 = idx0 + plane;
          const float* l1 = l0 + plane;
          const float* r1 = r0 + plane;
          for (int64_t x = 0; x < W; ++x) {
            const int32_t i = idx0[x], k = idx1[x];
            a[i] += l0[x] * wy;
            a[i + nbins] += r0[x] * wy;
            a[k] += l1[x] * wy;
            a[k + nbins] += r1[x] * wy;
          }
        }
      }
      for (int64_t b = 0; b < nbins; ++b)
        for (int64_t cx = 0; cx < hog_w; ++cx)
          hist[(b * hog_h + cy) * hog_w + cx] = acc[static_cast<size_t>((cx + 1) * nbins + b)];
    }
  }
}

}  // namespace preimage::kernels::cellrow
