// conv2d as im2col + GEMM (Caffe's approach; Chellapilla et al. 2006): per sample and group, unroll the input
// patches into a [Cg*kh*kw, Ho*Wo] matrix and multiply by the [Kg, Cg*kh*kw] weight slice with Eigen. Float only;
// tested against ref:: (kernels/cpu/conv2d.cpp) in tests/test_conv2d.cpp.
//
// Forward and the input gradient work on bands of output rows (kernels/cpu/im2col.h) sized so that a band's
// columns stay in the core's cache: the whole unrolled matrix of VGG-16's conv1_2 would be 115 MB written and read
// back per call. The GEMM writes straight into the band's columns of y (no copies). Threads: when there are enough
// bands each thread takes whole bands (unroll + single-threaded GEMM, Eigen sees it is inside a parallel region);
// otherwise (small maps, conv3-5 and fc layers) one band and Eigen threads the GEMM. The input gradient scatters
// each band back (the adjoint of the unrolling); bands two apart never touch the same input rows, so even bands
// run in parallel, then odd ones, and every element receives its contributions in the same order whatever the
// thread count. With stride 1 the input gradient needs no scatter: it is a convolution of d_y (see
// input_gradient_as_convolution). Scratch buffers are per thread and reused across calls. The weight gradient (not needed to invert
// a network) unrolls whole samples, as Caffe.
#include <algorithm>
#include <memory>

#include <Eigen/Core>

#include "engine/threads.h"
#include "kernels/conv2d.h"
#include "kernels/cpu/im2col.h"

namespace preimage::kernels::im2col {
namespace {
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMatrix = Eigen::Map<Matrix>;
using ConstMapMatrix = Eigen::Map<const Matrix>;
using Stride = Eigen::OuterStride<>;
using StridedMatrix = Eigen::Map<Matrix, Eigen::Unaligned, Stride>;
using ConstStridedMatrix = Eigen::Map<const Matrix, Eigen::Unaligned, Stride>;

// A band's unrolled columns: Cg*kh*kw rows of this many floats fit a 256 KB share of L2; at least 256 columns so
// the GEMM's repacking of the weights is amortised over enough work.
constexpr int64_t kBandFloats = int64_t{1} << 16;
constexpr int64_t kMinBandColumns = 256;

detail::Unroll unroll_of(const Conv2dGeometry& g) {
  return detail::Unroll{g.c / g.p.groups, g.h, g.w, g.kh, g.kw, g.p.stride_h, g.p.stride_w, g.p.pad_top,
                        g.p.pad_left, g.ho, g.wo};
}

struct Bands {
  int64_t rows;      // output rows per band (the last may have fewer)
  int64_t count;
  bool parallel;     // bands split between threads (else one after another, Eigen threads each GEMM)
};
Bands plan_bands(const detail::Unroll& s) {
  const int threads = num_threads();
  const int64_t cols = std::max(kMinBandColumns, kBandFloats / s.rows());
  // Bands two apart must not overlap in the image (kh <= (rows + 1) * sh), for the parallel scatter.
  int64_t rows = std::max<int64_t>(std::clamp<int64_t>(cols / s.gw, 1, s.gh), (s.kh + s.sh - 1) / s.sh);
  rows = std::min(rows, s.gh);
  const int64_t count = (s.gh + rows - 1) / rows;
  if (threads > 1 && count < 2 * threads) return Bands{s.gh, 1, false};
  return Bands{rows, count, threads > 1};
}

// Per-thread scratch that grows to the largest request and is kept (no zero fill, no allocation per call).
float* scratch(int64_t n) {
  thread_local std::unique_ptr<float[]> buf;
  thread_local int64_t size = 0;
  if (n > size) {
    buf.reset(new float[static_cast<size_t>(n)]);
    size = n;
  }
  return buf.get();
}

// Runs band(i0, i1) over the bands of `b`: in parallel when planned, and with parity_phases the even bands first,
// then the odd ones (for scatters into shared image rows).
template <typename Fn>
void for_each_band(const Bands& b, int64_t gh, bool parity_phases, Fn band) {
  if (!b.parallel) {
    for (int64_t k = 0; k < b.count; ++k) band(k * b.rows, std::min(gh, (k + 1) * b.rows));
    return;
  }
  const int phases = parity_phases ? 2 : 1;
  for (int phase = 0; phase < phases; ++phase) {
#pragma omp parallel for schedule(static)
    for (int64_t k = phase; k < b.count; k += phases) band(k * b.rows, std::min(gh, (k + 1) * b.rows));
  }
}

// Stride 1: the input gradient is itself a convolution, of d_y with the filters flipped in space and transposed
// (channels <-> filters), with padding kh-1-pad_top, kw-1-pad_left:
//   d_x[c, y, x] = sum_{k,u,v} w[k, c, kh-1-u, kw-1-v] d_y[k, y - (kh-1-pt) + u, x - (kw-1-pl) + v]
// So it runs as the forward does: unroll d_y band by band and one GEMM of depth Kg*kh*kw (instead of the depth-Kg
// GEMM and the scatter of the general path), accumulating straight into d_x; bands write disjoint rows of d_x.
void input_gradient_as_convolution(const Conv2dGeometry& g, const float* w, const float* d_y, float* d_x) {
  // w: [K, Cg, kh, kw]  d_y: [N, K, Ho, Wo]  d_x: [N, C, H, W] (accumulated)
  const int64_t groups = g.p.groups, kg = g.k / groups, cg = g.c / groups, hw = g.h * g.w, pix = g.ho * g.wo;
  const int64_t taps = g.kh * g.kw;
  const detail::Unroll s{kg, g.ho, g.wo, g.kh, g.kw, 1, 1, g.kh - 1 - g.p.pad_top, g.kw - 1 - g.p.pad_left, g.h, g.w};
  std::unique_ptr<float[]> wt(new float[static_cast<size_t>(g.k * cg * taps)]);  // [groups][Cg, Kg*kh*kw]
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t k = 0; k < kg; ++k)
        for (int64_t t = 0; t < taps; ++t)
          wt[static_cast<size_t>(((gi * cg + c) * kg + k) * taps + t)] =
              w[((gi * kg + k) * cg + c) * taps + (taps - 1 - t)];
  const Bands bands = plan_bands(s);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* dy_g = d_y + (n * g.k + gi * kg) * pix;                 // [Kg, Ho, Wo]
      ConstMapMatrix wt_g(wt.get() + gi * cg * s.rows(), cg, s.rows());  // [Cg, Kg*kh*kw]
      float* dx_g = d_x + (n * g.c + gi * cg) * hw;                        // [Cg, H*W]
      for_each_band(bands, s.gh, false, [&](int64_t i0, int64_t i1) {
        const int64_t c0 = i0 * s.gw, cols = (i1 - i0) * s.gw;
        float* col = scratch(s.rows() * cols);  // [Kg*kh*kw, cols]
        detail::image_to_columns_band(s, dy_g, col, i0, i1);
        StridedMatrix(dx_g + c0, cg, cols, Stride(hw)).noalias() += wt_g * ConstMapMatrix(col, s.rows(), cols);
      });
    }
}
}  // namespace

void conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y) {
  // x: [N, C, H, W]  w: [K, Cg, kh, kw]  b: [K] or null  y: [N, K, Ho, Wo]
  const detail::Unroll s = unroll_of(g);
  const int64_t groups = g.p.groups, kg = g.k / groups, hw = g.h * g.w, pix = g.ho * g.wo;
  const Bands bands = plan_bands(s);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* x_g = x + (n * g.c + gi * s.c) * hw;          // [Cg, H, W]
      ConstMapMatrix w_g(w + gi * kg * s.rows(), kg, s.rows());  // [Kg, Cg*kh*kw]
      float* y_g = y + (n * g.k + gi * kg) * pix;                // [Kg, Ho*Wo]
      for_each_band(bands, s.gh, false, [&](int64_t i0, int64_t i1) {
        const int64_t c0 = i0 * s.gw, cols = (i1 - i0) * s.gw;
        StridedMatrix y_band(y_g + c0, kg, cols, Stride(pix));  // columns c0.. of y_g
        if (s.identity()) {
          y_band.noalias() = w_g * ConstStridedMatrix(x_g + c0, s.rows(), cols, Stride(hw));
        } else {
          float* col = scratch(s.rows() * cols);  // [Cg*kh*kw, cols]
          detail::image_to_columns_band(s, x_g, col, i0, i1);
          y_band.noalias() = w_g * ConstMapMatrix(col, s.rows(), cols);
        }
        if (b) y_band.colwise() += Eigen::Map<const Eigen::VectorXf>(b + gi * kg, kg);
      });
    }
}

void conv2d_backward(const Conv2dGeometry& g, const float* x, const float* w, const float* d_y, float* d_x,
                     float* d_w, float* d_b) {
  // x, d_x: [N, C, H, W]  w, d_w: [K, Cg, kh, kw]  d_y: [N, K, Ho, Wo]  d_b: [K]; d_* accumulate, null = not wanted
  const detail::Unroll s = unroll_of(g);
  const int64_t groups = g.p.groups, kg = g.k / groups, hw = g.h * g.w, pix = g.ho * g.wo;
  if (d_b) {
    Eigen::Map<Eigen::VectorXf> db(d_b, g.k);
    for (int64_t n = 0; n < g.n; ++n) db += ConstMapMatrix(d_y + n * g.k * pix, g.k, pix).rowwise().sum();
  }
  if (d_w) {
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t gi = 0; gi < groups; ++gi) {
        const float* x_g = x + (n * g.c + gi * s.c) * hw;  // [Cg, H, W]
        const float* cols = x_g;
        if (!s.identity()) {
          float* col = scratch(s.rows() * pix);  // [Cg*kh*kw, Ho*Wo]
          detail::image_to_columns(s, x_g, col);
          cols = col;
        }
        MapMatrix(d_w + gi * kg * s.rows(), kg, s.rows()).noalias() +=
            ConstMapMatrix(d_y + (n * g.k + gi * kg) * pix, kg, pix) * ConstMapMatrix(cols, s.rows(), pix).transpose();
      }
  }
  if (!d_x) return;
  // Only where the output map is about as large as the input ("same" padding, VGG's and AlexNet conv2-5's): the
  // convolution of d_y costs H*W/(Ho*Wo) times the forward, ruinous for a fully connected layer's 1x1 output.
  if (g.p.stride_h == 1 && g.p.stride_w == 1 && !s.identity() && g.p.pad_top < g.kh && g.p.pad_left < g.kw &&
      hw <= 2 * pix)
    return input_gradient_as_convolution(g, w, d_y, d_x);
  const Bands bands = plan_bands(s);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* dy_g = d_y + (n * g.k + gi * kg) * pix;       // [Kg, Ho*Wo]
      ConstMapMatrix w_g(w + gi * kg * s.rows(), kg, s.rows());  // [Kg, Cg*kh*kw]
      float* dx_g = d_x + (n * g.c + gi * s.c) * hw;             // [Cg, H, W]
      for_each_band(bands, s.gh, !s.identity(), [&](int64_t i0, int64_t i1) {
        const int64_t c0 = i0 * s.gw, cols = (i1 - i0) * s.gw;
        ConstStridedMatrix dy_band(dy_g + c0, kg, cols, Stride(pix));
        if (s.identity()) {
          StridedMatrix(dx_g + c0, s.rows(), cols, Stride(hw)).noalias() += w_g.transpose() * dy_band;
        } else {
          // d_cols = w_g^T d_y_band, then scatter the patches back (the adjoint of the unrolling)
          float* col = scratch(s.rows() * cols);
          MapMatrix(col, s.rows(), cols).noalias() = w_g.transpose() * dy_band;
          detail::columns_to_image_band(s, col, dx_g, i0, i1);
        }
      });
    }
}

}  // namespace preimage::kernels::im2col
