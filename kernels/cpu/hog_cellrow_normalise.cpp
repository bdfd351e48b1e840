// Row-vectorised CPU path for HOG block normalisation (kernels/hog.h, namespace cellrow), float tensors. Bit for bit
// the reference (kernels/cpu/hog.cpp), which is bit for bit vl_hog: every cell's arithmetic is the reference's, in
// the same float/double mix and order; only the loops change shape, so that the loop over the cells of a row
// vectorises (in double, 4 cells per AVX2 vector):
//  * the cell energies are stored in a grid padded by one cell that repeats the border cells, so the reference's
//    clamped neighbours (xm = max(x - 1, 0), ...) become fixed offsets;
//  * per row of cells, the four block factors, then per orientation k the four blocks' clamped values;
//  * backward: the per-cell derivatives vectorise the same way; the block-energy derivatives are then scattered to
//    the (possibly repeated) cells in the reference's order (cells raster, blocks, block cells), so the double sums
//    are the reference's.
// Contraction into FMA is off; the floating-point status flags are never read, so both arms of a select may be
// computed (no-trapping-math), which lets the loops with selects vectorise.
#pragma GCC optimize("fp-contract=off", "no-trapping-math")

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/hog.h"

namespace preimage::kernels::cellrow {
namespace {

constexpr double kClamp = 0.2;

// Cell energies n = sum_k (h_k + h_{k+NO})^2 in float, k ascending (the reference's order), in a grid padded by one
// cell on each side repeating the border cells. hist: [2*NO, hogH, hogW]; e: [hogH + 2][hogW + 2].
void padded_energies(const float* hist, int64_t hog_h, int64_t hog_w, int no, float* e) {
  const int64_t stride = hog_h * hog_w, pw = hog_w + 2;
  for (int64_t y = 0; y < hog_h; ++y) {
    float* row = e + (y + 1) * pw + 1;
    std::fill(row, row + hog_w, 0.0f);
    for (int k = 0; k < no; ++k) {
      const float* ha = hist + k * stride + y * hog_w;
      const float* hb = hist + (k + no) * stride + y * hog_w;
#pragma omp simd
      for (int64_t x = 0; x < hog_w; ++x) {
        const float h = ha[x] + hb[x];
        row[x] += h * h;
      }
    }
    row[-1] = row[0];
    row[hog_w] = row[hog_w - 1];
  }
  std::copy(e + pw, e + 2 * pw, e);                                      // row -1 repeats row 0
  std::copy(e + hog_h * pw, e + (hog_h + 1) * pw, e + (hog_h + 1) * pw);  // row hogH repeats row hogH - 1
}

// The four block factors of the cells of row y, f: [4][hogW] (UL, UR, LL, LR): 1/sqrt(n_a + n_b + n_c + n_d + 1e-4)
// in double with the reference's summation order.
void block_factors(const float* e, int64_t y, int64_t hog_w, double* f) {
  const int64_t pw = hog_w + 2;
  const float* up = e + y * pw + 1;  // padded rows y, y + 1, y + 2 are cell rows y - 1, y, y + 1
  const float* mid = up + pw;
  const float* down = mid + pw;
  double* f0 = f;
  double* f1 = f + hog_w;
  double* f2 = f + 2 * hog_w;
  double* f3 = f + 3 * hog_w;
#pragma omp simd
  for (int64_t x = 0; x < hog_w; ++x) {
    const double n1 = up[x - 1], n2 = up[x], n3 = up[x + 1];
    const double n4 = mid[x - 1], n5 = mid[x], n6 = mid[x + 1];
    const double n7 = down[x - 1], n8 = down[x], n9 = down[x + 1];
    f0[x] = n1 + n2 + n4 + n5 + 1e-4;
    f1[x] = n2 + n3 + n5 + n6 + 1e-4;
    f2[x] = n4 + n5 + n7 + n8 + 1e-4;
    f3[x] = n5 + n6 + n8 + n9 + 1e-4;
  }
  // std::sqrt keeps errno semantics (a branch per call): a short scalar loop of its own
  for (int64_t i = 0; i < 4 * hog_w; ++i) f[i] = 1.0 / std::sqrt(f[i]);
}

// One orientation k of one row of cells, backward: d_hist of h_k and h_{k+NO} (+=) and the block factors'
// derivatives d_f ([4][hogW], +=), each cell's arithmetic the reference's. d_out: the whole [D, hogH, hogW];
// `row` = y * hogW.
template <bool Uoctti>
void normalise_backward_row(const float* ha, const float* hb, const float* d_out, int64_t stride, int64_t row, int k,
                            int no, int64_t hog_w, const double* f, double texture_scale, float* dha, float* dhb,
                            double* d_f) {
  // the incoming gradients: UoCTTI a, b, c of k and the 4 texture channels; DalalTriggs block j's channel j NO + k
  const float* g[4];
  for (int j = 0; j < 4; ++j) g[j] = d_out + (Uoctti ? 3 * no + j : j * no + k) * stride + row;
  const float* ga = d_out + k * stride + row;
  const float* gb = d_out + (k + no) * stride + row;
  const float* gc = d_out + (k + 2 * no) * stride + row;
#pragma omp simd
  for (int64_t x = 0; x < hog_w; ++x) {
    const double a_h = ha[x], b_h = hb[x];
    double d_ha = 0, d_hb = 0;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const double fj = f[j * hog_w + x];
      const double a = fj * a_h, bb = fj * b_h, c = a + bb;
      double da = 0, db = 0, dc;
      if constexpr (Uoctti) {
        const double va = 0.5 * ga[x], vb = 0.5 * gb[x], vc = 0.5 * gc[x] + texture_scale * g[j][x];
        da = kClamp < a ? 0.0 : va;
        db = kClamp < bb ? 0.0 : vb;
        dc = kClamp < c ? 0.0 : vc;
      } else {
        const double vc = g[j][x];
        dc = kClamp < c ? 0.0 : vc;
      }
      d_ha += fj * (da + dc);
      d_hb += fj * (db + dc);
      d_f[j * hog_w + x] += a_h * (da + dc) + b_h * (db + dc);
    }
    dha[x] += static_cast<float>(d_ha);
    dhb[x] += static_cast<float>(d_hb);
  }
}

}  // namespace

void hog_normalise_forward(const float* hist /*[2*NO,hogH,hogW]*/, int64_t hog_h, int64_t hog_w, int no,
                           HogVariant v, float* out /*[D,hogH,hogW]*/) {
  const int64_t stride = hog_h * hog_w;
  std::vector<float> energy(static_cast<size_t>((hog_h + 2) * (hog_w + 2)));
  padded_energies(hist, hog_h, hog_w, no, energy.data());
  const float texture_scale = 1.0f / std::sqrt(18.0f);  // VLFeat's 1.0f/sqrtf(18.0f)
  const bool uoctti = v == HogVariant::uoctti;
#pragma omp parallel
  {
    std::vector<double> f(static_cast<size_t>(4 * hog_w)), t(static_cast<size_t>(4 * hog_w));
#pragma omp for schedule(static)
    for (int64_t y = 0; y < hog_h; ++y) {
      block_factors(energy.data(), y, hog_w, f.data());
      std::fill(t.begin(), t.end(), 0.0);
      const double* f0 = f.data();
      double* t0 = t.data();
      for (int k = 0; k < no; ++k) {
        const float* ha = hist + k * stride + y * hog_w;
        const float* hb = hist + (k + no) * stride + y * hog_w;
        if (uoctti) {
          float* oa = out + k * stride + y * hog_w;
          float* ob = out + (k + no) * stride + y * hog_w;
          float* oc = out + (k + 2 * no) * stride + y * hog_w;
#pragma omp simd
          for (int64_t x = 0; x < hog_w; ++x) {
            const double a_h = ha[x], b_h = hb[x];
            double sa = 0, sb = 0, sc = 0;
            for (int j = 0; j < 4; ++j) {
              const double fj = f0[j * hog_w + x];
              const double a = fj * a_h, bb = fj * b_h, c = a + bb;
              const double cc = kClamp < c ? kClamp : c;
              t0[j * hog_w + x] += cc;
              sa += kClamp < a ? kClamp : a;
              sb += kClamp < bb ? kClamp : bb;
              sc += cc;
            }
            oa[x] = static_cast<float>(0.5 * sa);
            ob[x] = static_cast<float>(0.5 * sb);
            oc[x] = static_cast<float>(0.5 * sc);
          }
        } else {
          for (int j = 0; j < 4; ++j) {
            const double* fj = f0 + j * hog_w;
            float* o = out + (j * no + k) * stride + y * hog_w;
#pragma omp simd
            for (int64_t x = 0; x < hog_w; ++x) {
              const double c = fj[x] * ha[x] + fj[x] * hb[x];
              o[x] = static_cast<float>(kClamp < c ? kClamp : c);
            }
          }
        }
      }
      if (uoctti) {
        for (int j = 0; j < 4; ++j) {
          float* o = out + (3 * no + j) * stride + y * hog_w;
          const double* tj = t0 + j * hog_w;
#pragma omp simd
          for (int64_t x = 0; x < hog_w; ++x) o[x] = static_cast<float>(texture_scale * tj[x]);
        }
      }
    }
  }
}

void hog_normalise_backward(const float* hist /*[2*NO,hogH,hogW]*/, const float* d_out /*[D,hogH,hogW]*/,
                            int64_t hog_h, int64_t hog_w, int no, HogVariant v, float* d_hist /*[2*NO,hogH,hogW]*/) {
  const int64_t stride = hog_h * hog_w;
  std::vector<float> energy(static_cast<size_t>((hog_h + 2) * (hog_w + 2)));
  padded_energies(hist, hog_h, hog_w, no, energy.data());
  const double texture_scale = static_cast<double>(1.0f / std::sqrt(18.0f));
  const bool uoctti = v == HogVariant::uoctti;
  // dL/d(block energy) of each cell's four blocks: [4][hogH][hogW]
  const std::unique_ptr<double[]> d_block(new double[static_cast<size_t>(4 * stride)]);
#pragma omp parallel
  {
    std::vector<double> f(static_cast<size_t>(4 * hog_w)), d_f(static_cast<size_t>(4 * hog_w));
#pragma omp for schedule(static)
    for (int64_t y = 0; y < hog_h; ++y) {
      block_factors(energy.data(), y, hog_w, f.data());
      std::fill(d_f.begin(), d_f.end(), 0.0);
      const double* f0 = f.data();
      double* df0 = d_f.data();
      for (int k = 0; k < no; ++k) {
        const float* ha = hist + k * stride + y * hog_w;
        const float* hb = hist + (k + no) * stride + y * hog_w;
        float* dha = d_hist + k * stride + y * hog_w;
        float* dhb = d_hist + (k + no) * stride + y * hog_w;
        if (uoctti)
          normalise_backward_row<true>(ha, hb, d_out, stride, y * hog_w, k, no, hog_w, f0, texture_scale, dha, dhb,
                                       df0);
        else
          normalise_backward_row<false>(ha, hb, d_out, stride, y * hog_w, k, no, hog_w, f0, texture_scale, dha, dhb,
                                        df0);
      }
      // f = (E + 1e-4)^(-1/2): dE = -f^3/2 df
      for (int j = 0; j < 4; ++j) {
        double* db = d_block.get() + j * stride + y * hog_w;
#pragma omp simd
        for (int64_t x = 0; x < hog_w; ++x) {
          const double fj = f0[j * hog_w + x];
          db[x] = -0.5 * fj * fj * fj * df0[j * hog_w + x];
        }
      }
    }
  }
  // Scatter the block energies' derivatives to their cells in the reference's order: cells raster, blocks UL, UR,
  // LL, LR, and each block's cells (repeated at the border).
  std::vector<double> d_energy(static_cast<size_t>(stride), 0.0);
  for (int64_t y = 0; y < hog_h; ++y) {
    const int64_t ym = std::max<int64_t>(y - 1, 0), yp = std::min<int64_t>(y + 1, hog_h - 1);
    for (int64_t x = 0; x < hog_w; ++x) {
      const int64_t xm = std::max<int64_t>(x - 1, 0), xp = std::min<int64_t>(x + 1, hog_w - 1);
      const int64_t n1 = ym * hog_w + xm, n2 = ym * hog_w + x, n3 = ym * hog_w + xp;
      const int64_t n4 = y * hog_w + xm, n5 = y * hog_w + x, n6 = y * hog_w + xp;
      const int64_t n7 = yp * hog_w + xm, n8 = yp * hog_w + x, n9 = yp * hog_w + xp;
      const int64_t cells[4][4] = {{n1, n2, n4, n5}, {n2, n3, n5, n6}, {n4, n5, n7, n8}, {n5, n6, n8, n9}};
      for (int j = 0; j < 4; ++j) {
        const double d_e = d_block[static_cast<size_t>(j * stride + y * hog_w + x)];
        for (int q = 0; q < 4; ++q) d_energy[static_cast<size_t>(cells[j][q])] += d_e;
      }
    }
  }
  // energy = sum_k hu_k^2 with hu_k = h_k + h_{k+NO}
  for (int k = 0; k < no; ++k) {
    const float* ha = hist + k * stride;
    const float* hb = hist + (k + no) * stride;
    float* dha = d_hist + k * stride;
    float* dhb = d_hist + (k + no) * stride;
    const double* de = d_energy.data();
#pragma omp simd
    for (int64_t i = 0; i < stride; ++i) {
      const double hu = static_cast<double>(ha[i]) + hb[i];
      const float d = static_cast<float>(2 * hu * de[i]);
      dha[i] += d;
      dhb[i] += d;
    }
  }
}

}  // namespace preimage::kernels::cellrow
