// Row-vectorised CPU path for the HOG backward steps (kernels/hog.h, namespace cellrow), float only. Same results
// as the reference bit for bit, at any thread count; each pixel row is independent (OpenMP over rows):
//  * gradient backward is written as a gather: image pixel (y, x) of channel c receives the contributions of the
//    four gradient pixels that read it, in the reference's (raster) order of those pixels: + d_gy from (y-1, x),
//    + d_gx from (y, x-1), - d_gx from (y, x+1), - d_gy from (y+1, x), each only if that pixel is interior and chose
//    channel c. Selects keep the skipped ones out exactly, as the reference's `continue`.
//  * binning backward: the orientation decision of a row is the forward's vectorised scan (hog_rowscan.h, the
//    reference's comparisons, so the same bins); then per pixel the four cells' incoming gradients are read from a
//    copy of d_hist padded with a zero cell all around (a border cell the reference skips adds (w * 0) = 0 to a sum
//    that is never -0), summed in the reference's order, and the reference's float expressions give d_gx, d_gy.
// Contraction into FMA is off, as in kernels/cpu/hog.cpp (the expressions must round as the reference's). The
// floating-point status flags are never read, so arithmetic may be computed for lanes a select then discards
// (no-trapping-math): that is what lets the loops with selects vectorise; the selected values are unchanged.
#pragma GCC optimize("fp-contract=off", "no-trapping-math")

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/error.h"
#include "kernels/cpu/hog_rowscan.h"
#include "kernels/hog.h"

namespace preimage::kernels::cellrow {

using detail::kPi;

void hog_gradient_backward(const float* channel /*[H,W]*/, const float* d_grad /*[2,H,W]*/, int64_t C, int64_t H,
                           int64_t W, float* d_image /*[C,H,W]*/) {
  const int64_t plane = H * W;
  const float* d_gx = d_grad;
  const float* d_gy = d_grad + plane;
  // A gradient pixel (y, x) is a source when 1 <= y <= H-2 and 1 <= x <= W-2 (the reference's interior).
  auto interior_row = [H](int64_t y) { return y >= 1 && y <= H - 2; };
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t y = 0; y < H; ++y) {
      const float cf = static_cast<float>(c);
      const bool mid = interior_row(y), up = y >= 1 && interior_row(y - 1), down = interior_row(y + 1);
      // rows of the sources above / below; the row itself stands in where there is none (never selected)
      const int64_t yu = up ? y - 1 : y, yd = down ? y + 1 : y;
      const float* ch_u = channel + yu * W;
      const float* ch_m = channel + y * W;
      const float* ch_d = channel + yd * W;
      const float* gy_u = d_gy + yu * W;
      const float* gx_m = d_gx + y * W;
      const float* gy_d = d_gy + yd * W;
      float* d = d_image + c * plane + y * W;
      auto one = [&](int64_t x) {  // any x, every condition checked
        float t = d[x];
        const bool col = x >= 1 && x <= W - 2;
        if (up && col && ch_u[x] == cf) t += gy_u[x];
        if (mid && x - 1 >= 1 && x - 1 <= W - 2 && ch_m[x - 1] == cf) t += gx_m[x - 1];
        if (mid && x + 1 >= 1 && x + 1 <= W - 2 && ch_m[x + 1] == cf) t -= gx_m[x + 1];
        if (down && col && ch_d[x] == cf) t -= gy_d[x];
        d[x] = t;
      };
      one(0);
      // the column conditions of the vertical sources hold here; every load is unconditional so that the selects
      // if-convert and the loop vectorises
#pragma omp simd
      for (int64_t x = 1; x < W - 1; ++x) {
        const float cu = ch_u[x], cl = ch_m[x - 1], cr = ch_m[x + 1], cd = ch_d[x];
        const float vu = gy_u[x], vl = gx_m[x - 1], vr = gx_m[x + 1], vd = gy_d[x];
        float t = d[x], n;
        n = t + vu;
        t = (up & (cu == cf)) ? n : t;
        n = t + vl;
        t = (mid & (x >= 2) & (cl == cf)) ? n : t;
        n = t - vr;
        t = (mid & (x <= W - 3) & (cr == cf)) ? n : t;
        n = t - vd;
        t = (down & (cd == cf)) ? n : t;
        d[x] = t;
      }
      if (W > 1) one(W - 1);
    }
  }
}

namespace {
// One pixel row of the binning backward. Orientation decision (b0, b1, w0, w1) already made; rows points at cell
// (by, 0) of bin 0 in the padded d_hist. Templated on the assignment so the loop has no control flow.
struct RowArgs {
  const float *gx, *gy;                  // [W]
  const float* magnitude;                // [W] sqrtf(gx^2 + gy^2)
  const int32_t *b0, *b1;                // [W] best / second bin (b1 = -1: none)
  const float *w0, *w1;                  // [W] their weights
  const float* rows;
  const int32_t* bx;                     // [W] left cell of each column
  const float *wx1, *wx2;                // [W]
  float wy1, wy2;
  const float *ox, *oy;                  // [NO]
  int32_t ps, pw, no;
  float delta;
  float *d_gx, *d_gy;                    // [W], accumulated
};

template <bool Bilinear> void binning_backward_row(const RowArgs& a, int64_t W) {
  const float* rows = a.rows;
  const float wy1 = a.wy1, wy2 = a.wy2;
#pragma omp simd
  for (int64_t x = 0; x < W; ++x) {
    const float gxv = a.gx[x], gyv = a.gy[x];
    const float m2 = gxv * gxv + gyv * gyv;
    const float magnitude = a.magnitude[x];
    const int32_t bx = a.bx[x], b0 = a.b0[x], b1 = a.b1[x];
    const float wx1 = a.wx1[x], wx2 = a.wx2[x], w0 = a.w0[x], w1 = a.w1[x];
    // a NaN gradient leaves b0 = -1: clamp the index (the pixel is skipped below since !(m2 > 0))
    const bool has0 = b0 >= 0, has1 = b1 >= 0;
    const int32_t i0 = (has0 ? b0 : 0) * a.ps + bx;
    float g0 = 0;
    g0 += wx1 * wy1 * rows[i0];
    g0 += wx2 * wy1 * rows[i0 + 1];
    g0 += wx2 * wy2 * rows[i0 + a.pw + 1];
    g0 += wx1 * wy2 * rows[i0 + a.pw];
    float dgx, dgy;
    if constexpr (Bilinear) {
      const int32_t i1 = (has1 ? b1 : 0) * a.ps + bx;
      float g1 = 0;
      g1 += wx1 * wy1 * rows[i1];
      g1 += wx2 * wy1 * rows[i1 + 1];
      g1 += wx2 * wy2 * rows[i1 + a.pw + 1];
      g1 += wx1 * wy2 * rows[i1 + a.pw];
      const float p1 = g1 * w1;
      const float d_mag = g0 * w0 + (has1 ? p1 : 0.0f);
      dgx = d_mag * gxv / magnitude;
      dgy = d_mag * gyv / magnitude;
      // theta = |angle(g) - angle(bin0)|, as the reference
      const int32_t b = has0 ? b0 : 0;
      const int32_t k0 = b < a.no ? b : b - a.no;
      const float s0 = b < a.no ? 1.0f : -1.0f;
      const float oxk = a.ox[k0], oyk = a.oy[k0];
      const float sine = s0 * (oxk * gyv - oyk * gxv);
      const float sign = sine > 0 ? 1.0f : (sine < 0 ? -1.0f : 0.0f);
      const float d_theta = (g1 - g0) * magnitude / a.delta;
      const float tx = dgx + d_theta * sign * (-gyv) / m2, ty = dgy + d_theta * sign * gxv / m2;
      dgx = has1 ? tx : dgx;
      dgy = has1 ? ty : dgy;
    } else {
      // hard: weight 1, no second bin (the reference's g0 * 1 + 0)
      const float d_mag = g0 * w0 + 0.0f;
      dgx = d_mag * gxv / magnitude;
      dgy = d_mag * gyv / magnitude;
    }
    const bool active = (m2 > 0) & has0;  // |g| is not differentiable at 0: no gradient
    const float ox0 = a.d_gx[x], oy0 = a.d_gy[x], nx = ox0 + dgx, ny = oy0 + dgy;
    a.d_gx[x] = active ? nx : ox0;
    a.d_gy[x] = active ? ny : oy0;
  }
}
}  // namespace

void hog_binning_backward(const float* grad /*[2,H,W]*/, const float* d_hist /*[2*NO,hogH,hogW]*/, int64_t H,
                          int64_t W, const HogBinningParams& p, float* d_grad /*[2,H,W]*/) {
  const int no = p.num_orientations, nbins = 2 * no;
  const int64_t hog_h = hog_cells(H, p.cell_size), hog_w = hog_cells(W, p.cell_size);
  const int64_t plane = H * W;
  // d_hist with one zero cell around each bin's grid: [2*NO][hogH + 2][hogW + 2]; cell (cy, cx) at (cy+1, cx+1)
  const int64_t pw = hog_w + 2, ps = (hog_h + 2) * pw;
  PI_CHECK(nbins * ps < std::numeric_limits<int32_t>::max(), "hog_binning backward: histogram of ", nbins, "x",
           hog_h, "x", hog_w, " cells is too large for the cellrow path's 32-bit indices");
  std::vector<float> padded(static_cast<size_t>(nbins * ps), 0.0f);
  for (int64_t b = 0; b < nbins; ++b)
    for (int64_t cy = 0; cy < hog_h; ++cy)
      std::copy(d_hist + (b * hog_h + cy) * hog_w, d_hist + (b * hog_h + cy + 1) * hog_w,
                padded.data() + b * ps + (cy + 1) * pw + 1);
  std::vector<float> ox, oy;
  detail::orientation_axes(no, ox, oy);
  const detail::Splat sx(W, p.cell_size), sy(H, p.cell_size);
  const float delta = static_cast<float>(kPi / no);  // the reference's static_cast<T>(bin_width)
  const bool bilinear = p.bilinear_orientations;
  const int32_t ips = static_cast<int32_t>(ps), ipw = static_cast<int32_t>(pw);

#pragma omp parallel
  {
    std::vector<int32_t> bin0(static_cast<size_t>(W)), bin1(static_cast<size_t>(W));
    std::vector<float> score0(static_cast<size_t>(W)), score1(static_cast<size_t>(W));
    std::vector<float> weight0(static_cast<size_t>(W), 1.0f), weight1(static_cast<size_t>(W), 0.0f);
    std::vector<float> mag(static_cast<size_t>(W));
#pragma omp for schedule(static)
    for (int64_t y = 0; y < H; ++y) {
      const float* gx = grad + y * W;
      const float* gy = grad + plane + y * W;
      int32_t* b0 = bin0.data();
      int32_t* b1 = bin1.data();
      float* w0 = weight0.data();
      float* w1 = weight1.data();
      detail::orientation_row(gx, gy, ox, oy, W, bilinear, b0, score0.data(), b1, score1.data());
      // sqrtf in its own loop (hog_rowscan.h): with errno semantics it is a call with a branch, which would keep
      // the main loop below scalar
      float* magnitude = mag.data();
      detail::magnitude_row(gx, gy, W, magnitude);
      if (bilinear) {  // hard: one bin (b1 = -1) with weight 1 (w0 stays 1)
        for (int64_t x = 0; x < W; ++x) {
          w1[x] = detail::bilinear_second_weight(score0[static_cast<size_t>(x)], magnitude[x], no);
          w0[x] = 1 - w1[x];
        }
      }
      // cell (by, cx) of bin b at rows[b * ps + cx], cell (by + 1, cx) one padded row further
      const int32_t by = sy.bin[static_cast<size_t>(y)];
      const float wy1 = sy.w1[static_cast<size_t>(y)], wy2 = sy.w2[static_cast<size_t>(y)];
      const float* rows = padded.data() + (by + 1) * pw + 1;
      const RowArgs a{gx, gy, magnitude, b0, b1, w0, w1, rows, sx.bin.data(), sx.w1.data(), sx.w2.data(), wy1, wy2,
                      ox.data(), oy.data(), ips, ipw, no, delta, d_grad + y * W, d_grad + plane + y * W};
      if (bilinear)
        binning_backward_row<true>(a, W);
      else
        binning_backward_row<false>(a, W);
    }
  }
}

}  // namespace preimage::kernels::cellrow
