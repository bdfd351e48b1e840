// CPU reference for kernels/hog.h: VLFeat 0.9.21 vl_hog_put_image + vl_hog_extract (seed 000 sect. 3), rewritten
// as three differentiable steps. The float instantiation reproduces VLFeat's arithmetic expression by expression
// (which sub-expressions are float and which double, the summation order), so the hard orientation assignment
// breaks ties exactly as vl_hog does.
//
// VLFeat is compiled without fused multiply-add; GCC would otherwise contract a*b + c*d into an FMA under -mfma
// (its C++ default is -ffp-contract=fast), which changes the orientation scores in the last bit and can flip a
// near-tie to another bin. Contraction is switched off for this file.
#pragma GCC optimize("fp-contract=off")

#include "kernels/hog.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace preimage::kernels::ref {
namespace {

constexpr double kPi = 3.14159265358979323846;  // VL_PI

// Unit vectors of the NO undirected orientations, angle k*pi/NO, rounded to T as VLFeat stores them (float).
template <typename T> void orientation_axes(int no, std::vector<T>& ox, std::vector<T>& oy) {
  ox.resize(static_cast<size_t>(no));
  oy.resize(static_cast<size_t>(no));
  for (int k = 0; k < no; ++k) {
    const double angle = k * kPi / no;
    ox[static_cast<size_t>(k)] = static_cast<T>(std::cos(angle));
    oy[static_cast<size_t>(k)] = static_cast<T>(std::sin(angle));
  }
}

// Bilinear spatial weights along one axis: pixel i lies between cell centres bin and bin+1 (bin may be -1),
// weight w1 for bin and w2 for bin+1. h = (i + 0.5)/cs - 0.5 is computed in double and rounded to T (VLFeat).
template <typename T> struct Splat1d {
  std::vector<int64_t> bin;
  std::vector<T> w1, w2;
  Splat1d(int64_t n, int cs) : bin(static_cast<size_t>(n)), w1(static_cast<size_t>(n)), w2(static_cast<size_t>(n)) {
    for (int64_t i = 0; i < n; ++i) {
      const T h = static_cast<T>((i + 0.5) / cs - 0.5);
      const int64_t b = static_cast<int64_t>(std::floor(h));
      const T w = h - static_cast<T>(b);
      bin[static_cast<size_t>(i)] = b;
      w2[static_cast<size_t>(i)] = w;
      w1[static_cast<size_t>(i)] = static_cast<T>(1.0 - w);
    }
  }
};

// The orientation decision of one pixel: bins[0] the best directed bin, bins[1] the second best (bilinear only,
// else -1), weights as VLFeat computes them, and for the backward pass the angle theta to bins[0]'s axis.
template <typename T> struct Orientation {
  int bins[2] = {-1, -1};
  T weights[2] = {-1, -1};
};

// VLFeat's comparison order: k ascending, a directed score replaces the best only if strictly larger.
template <typename T>
Orientation<T> orient(T gx, T gy, T magnitude, const std::vector<T>& ox, const std::vector<T>& oy, bool bilinear) {
  const int no = static_cast<int>(ox.size());
  Orientation<T> o;
  for (int k = 0; k < no; ++k) {
    T score = gx * ox[static_cast<size_t>(k)] + gy * oy[static_cast<size_t>(k)];
    int bin = k;
    if (score < 0) {
      score = -score;
      bin += no;
    }
    if (score > o.weights[0]) {
      o.bins[1] = o.bins[0];
      o.weights[1] = o.weights[0];
      o.bins[0] = bin;
      o.weights[0] = score;
    } else if (score > o.weights[1]) {
      o.bins[1] = bin;
      o.weights[1] = score;
    }
  }
  if (bilinear) {
    // cos(theta) = best score / |g| in double, clamped at 1 (rounding), then acos in T as VLFeat's acosf.
    const double c = std::min(static_cast<double>(o.weights[0]) / std::max(static_cast<double>(magnitude), 1e-10),
                              1.0);
    const T theta = std::acos(static_cast<T>(c));
    o.weights[1] = static_cast<T>(theta / (kPi / no));
    o.weights[0] = 1 - o.weights[1];
  } else {
    o.weights[0] = 1;
    o.bins[1] = -1;
  }
  return o;
}

}  // namespace

// ---- step 1: image gradient ----

template <typename T>
void hog_gradient_forward(const T* image /*[C,H,W]*/, int64_t C, int64_t H, int64_t W, T* grad /*[2,H,W]*/,
                          T* channel /*[H,W]*/) {
  const int64_t plane = H * W;
  std::fill(grad, grad + 2 * plane, T(0));
  std::fill(channel, channel + plane, T(-1));
  for (int64_t y = 1; y < H - 1; ++y) {
    for (int64_t x = 1; x < W - 1; ++x) {
      const int64_t i = y * W + x;
      T gx = 0, gy = 0, norm2 = 0;
      int64_t best = -1;
      for (int64_t c = 0; c < C; ++c) {
        const T* p = image + c * plane + i;
        const T gx_c = p[1] - p[-1];
        const T gy_c = p[W] - p[-W];
        const T norm2_c = gx_c * gx_c + gy_c * gy_c;
        if (norm2_c > norm2) {  // strict: the first channel wins ties, a zero gradient selects none
          gx = gx_c;
          gy = gy_c;
          norm2 = norm2_c;
          best = c;
        }
      }
      grad[i] = gx;
      grad[plane + i] = gy;
      channel[i] = static_cast<T>(best);
    }
  }
}

template <typename T>
void hog_gradient_backward(const T* channel /*[H,W]*/, const T* d_grad /*[2,H,W]*/, int64_t C, int64_t H, int64_t W,
                           T* d_image /*[C,H,W]*/) {
  const int64_t plane = H * W;
  for (int64_t y = 1; y < H - 1; ++y) {
    for (int64_t x = 1; x < W - 1; ++x) {
      const int64_t i = y * W + x;
      const int64_t c = static_cast<int64_t>(channel[i]);
      if (c < 0 || c >= C) continue;
      T* d = d_image + c * plane + i;
      d[1] += d_grad[i];
      d[-1] -= d_grad[i];
      d[W] += d_grad[plane + i];
      d[-W] -= d_grad[plane + i];
    }
  }
}

// ---- step 2: orientation binning and spatial splat ----

template <typename T>
void hog_binning_forward(const T* grad /*[2,H,W]*/, int64_t H, int64_t W, const HogBinningParams& p,
                         T* hist /*[2*NO,hogH,hogW]*/) {
  const int no = p.num_orientations;
  const int64_t hog_h = hog_cells(H, p.cell_size), hog_w = hog_cells(W, p.cell_size);
  const int64_t stride = hog_h * hog_w, plane = H * W;
  std::fill(hist, hist + 2 * no * stride, T(0));
  std::vector<T> ox, oy;
  orientation_axes(no, ox, oy);
  const Splat1d<T> sx(W, p.cell_size), sy(H, p.cell_size);
  for (int64_t y = 0; y < H; ++y) {
    for (int64_t x = 0; x < W; ++x) {
      const T gx = grad[y * W + x], gy = grad[plane + y * W + x];
      const T magnitude = std::sqrt(gx * gx + gy * gy);
      const Orientation<T> o = orient(gx, gy, magnitude, ox, oy, p.bilinear_orientations);
      const int64_t bx = sx.bin[static_cast<size_t>(x)], by = sy.bin[static_cast<size_t>(y)];
      const T wx1 = sx.w1[static_cast<size_t>(x)], wx2 = sx.w2[static_cast<size_t>(x)];
      const T wy1 = sy.w1[static_cast<size_t>(y)], wy2 = sy.w2[static_cast<size_t>(y)];
      for (int j = 0; j < 2; ++j) {
        if (o.bins[j] < 0) continue;
        T* h = hist + o.bins[j] * stride;
        const T ow = o.weights[j];
        // VLFeat's product order ((|g| * ow) * wx) * wy, and its border conditions
        if (bx >= 0 && by >= 0) h[by * hog_w + bx] += magnitude * ow * wx1 * wy1;
        if (bx < hog_w - 1 && by >= 0) h[by * hog_w + bx + 1] += magnitude * ow * wx2 * wy1;
        if (bx < hog_w - 1 && by < hog_h - 1) h[(by + 1) * hog_w + bx + 1] += magnitude * ow * wx2 * wy2;
        if (bx >= 0 && by < hog_h - 1) h[(by + 1) * hog_w + bx] += magnitude * ow * wx1 * wy2;
      }
    }
  }
}

template <typename T>
void hog_binning_backward(const T* grad /*[2,H,W]*/, const T* d_hist /*[2*NO,hogH,hogW]*/, int64_t H, int64_t W,
                          const HogBinningParams& p, T* d_grad /*[2,H,W]*/) {
  const int no = p.num_orientations;
  const int64_t hog_h = hog_cells(H, p.cell_size), hog_w = hog_cells(W, p.cell_size);
  const int64_t stride = hog_h * hog_w, plane = H * W;
  const double bin_width = kPi / no;  // Delta: theta / Delta is the second bin's weight
  std::vector<T> ox, oy;
  orientation_axes(no, ox, oy);
  const Splat1d<T> sx(W, p.cell_size), sy(H, p.cell_size);
  for (int64_t y = 0; y < H; ++y) {
    for (int64_t x = 0; x < W; ++x) {
      const T gx = grad[y * W + x], gy = grad[plane + y * W + x];
      const T m2 = gx * gx + gy * gy;
      if (!(m2 > 0)) continue;  // |g| is not differentiable at 0: no gradient
      const T magnitude = std::sqrt(m2);
      const Orientation<T> o = orient(gx, gy, magnitude, ox, oy, p.bilinear_orientations);
      const int64_t bx = sx.bin[static_cast<size_t>(x)], by = sy.bin[static_cast<size_t>(y)];
      const T wx1 = sx.w1[static_cast<size_t>(x)], wx2 = sx.w2[static_cast<size_t>(x)];
      const T wy1 = sy.w1[static_cast<size_t>(y)], wy2 = sy.w2[static_cast<size_t>(y)];
      // g_j = dL/d(|g| * ow_j): the splat weights times the incoming gradient of bin j's four cells
      T g[2] = {0, 0};
      for (int j = 0; j < 2; ++j) {
        if (o.bins[j] < 0) continue;
        const T* d = d_hist + o.bins[j] * stride;
        if (bx >= 0 && by >= 0) g[j] += wx1 * wy1 * d[by * hog_w + bx];
        if (bx < hog_w - 1 && by >= 0) g[j] += wx2 * wy1 * d[by * hog_w + bx + 1];
        if (bx < hog_w - 1 && by < hog_h - 1) g[j] += wx2 * wy2 * d[(by + 1) * hog_w + bx + 1];
        if (bx >= 0 && by < hog_h - 1) g[j] += wx1 * wy2 * d[(by + 1) * hog_w + bx];
      }
      // d|g|/dg = g/|g|; the hard bin is piecewise constant in the angle, so that is all for hard assignment
      const T d_mag = g[0] * o.weights[0] + (o.bins[1] >= 0 ? g[1] * o.weights[1] : T(0));
      T dgx = d_mag * gx / magnitude, dgy = d_mag * gy / magnitude;
      if (p.bilinear_orientations && o.bins[1] >= 0) {
        // theta = |angle(g) - angle(bin0)|: d theta/dg = sign * (-gy, gx)/|g|^2, sign that of the sine of the
        // signed angle from bin0's axis to g (equal to differentiating acos(score/|g|), without its 1/sin(theta)).
        const int k0 = o.bins[0] % no;
        const T s0 = o.bins[0] < no ? T(1) : T(-1);
        const T sine = s0 * (ox[static_cast<size_t>(k0)] * gy - oy[static_cast<size_t>(k0)] * gx);
        const T sign = sine > 0 ? T(1) : (sine < 0 ? T(-1) : T(0));
        // |g| * w1 = |g| theta/Delta and |g| * w0 = |g| (1 - theta/Delta)
        const T d_theta = (g[1] - g[0]) * magnitude / static_cast<T>(bin_width);
        dgx += d_theta * sign * (-gy) / m2;
        dgy += d_theta * sign * gx / m2;
      }
      d_grad[y * W + x] += dgx;
      d_grad[plane + y * W + x] += dgy;
    }
  }
}

// ---- step 3: block normalisation, clamp and assembly ----

namespace {
// Squared norm of each cell's undirected histogram hu_k = h_k + h_{k+NO}, accumulated in T over k ascending.
template <typename T>
std::vector<T> cell_energies(const T* hist, int64_t stride, int no) {
  std::vector<T> e(static_cast<size_t>(stride), T(0));
  for (int k = 0; k < no; ++k) {
    for (int64_t i = 0; i < stride; ++i) {
      const T h = hist[k * stride + i] + hist[(k + no) * stride + i];
      e[static_cast<size_t>(i)] += h * h;
    }
  }
  return e;
}

// The four 2x2 blocks around cell (x,y), UL, UR, LL, LR; indices clamped at the border as VLFeat. cells[j][0..3]
// are the flat indices of block j's cells (repeated at borders).
struct Blocks {
  int64_t cells[4][4];
  Blocks(int64_t x, int64_t y, int64_t hog_h, int64_t hog_w) {
    const int64_t xm = std::max<int64_t>(x - 1, 0), xp = std::min<int64_t>(x + 1, hog_w - 1);
    const int64_t ym = std::max<int64_t>(y - 1, 0), yp = std::min<int64_t>(y + 1, hog_h - 1);
    const int64_t n1 = ym * hog_w + xm, n2 = ym * hog_w + x, n3 = ym * hog_w + xp;
    const int64_t n4 = y * hog_w + xm, n5 = y * hog_w + x, n6 = y * hog_w + xp;
    const int64_t n7 = yp * hog_w + xm, n8 = yp * hog_w + x, n9 = yp * hog_w + xp;
    const int64_t c[4][4] = {{n1, n2, n4, n5}, {n2, n3, n5, n6}, {n4, n5, n7, n8}, {n5, n6, n8, n9}};
    std::copy(&c[0][0], &c[0][0] + 16, &cells[0][0]);
  }
};

// 1/sqrt(E + 1e-4) in double, E summed in VLFeat's order.
template <typename T> double block_factor(const std::vector<T>& e, const int64_t* cells) {
  const double n0 = e[static_cast<size_t>(cells[0])], n1 = e[static_cast<size_t>(cells[1])];
  const double n2 = e[static_cast<size_t>(cells[2])], n3 = e[static_cast<size_t>(cells[3])];
  return 1.0 / std::sqrt(n0 + n1 + n2 + n3 + 1e-4);
}

constexpr double kClamp = 0.2;
// VL_MIN(0.2, v) = 0.2 < v ? 0.2 : v, so the gradient passes when v <= 0.2.
inline double clamp02(double v) { return kClamp < v ? kClamp : v; }
inline bool passes(double v) { return !(kClamp < v); }
}  // namespace

template <typename T>
void hog_normalise_forward(const T* hist /*[2*NO,hogH,hogW]*/, int64_t hog_h, int64_t hog_w, int no, HogVariant v,
                           T* out /*[D,hogH,hogW]*/) {
  const int64_t stride = hog_h * hog_w;
  const std::vector<T> energy = cell_energies(hist, stride, no);
  const T texture_scale = T(1) / std::sqrt(T(18));  // VLFeat's 1.0f/sqrtf(18.0f) for float
  for (int64_t y = 0; y < hog_h; ++y) {
    for (int64_t x = 0; x < hog_w; ++x) {
      const int64_t i = y * hog_w + x;
      const Blocks b(x, y, hog_h, hog_w);
      double f[4];
      for (int j = 0; j < 4; ++j) f[j] = block_factor(energy, b.cells[j]);
      double t[4] = {0, 0, 0, 0};
      for (int k = 0; k < no; ++k) {
        const double ha = hist[k * stride + i], hb = hist[(k + no) * stride + i];
        double sa = 0, sb = 0, sc = 0;
        for (int j = 0; j < 4; ++j) {
          const double a = f[j] * ha, bb = f[j] * hb;
          const double c = a + bb;  // the undirected value from the unclamped directed ones, as VLFeat
          const double cc = clamp02(c);
          t[j] += cc;
          if (v == HogVariant::uoctti) {
            sa += clamp02(a);
            sb += clamp02(bb);
            sc += cc;
          } else {
            out[(j * no + k) * stride + i] = static_cast<T>(cc);
          }
        }
        if (v == HogVariant::uoctti) {
          out[k * stride + i] = static_cast<T>(0.5 * sa);
          out[(k + no) * stride + i] = static_cast<T>(0.5 * sb);
          out[(k + 2 * no) * stride + i] = static_cast<T>(0.5 * sc);
        }
      }
      if (v == HogVariant::uoctti) {
        for (int j = 0; j < 4; ++j) out[(3 * no + j) * stride + i] = static_cast<T>(texture_scale * t[j]);
      }
    }
  }
}

template <typename T>
void hog_normalise_backward(const T* hist /*[2*NO,hogH,hogW]*/, const T* d_out /*[D,hogH,hogW]*/, int64_t hog_h,
                            int64_t hog_w, int no, HogVariant v, T* d_hist /*[2*NO,hogH,hogW]*/) {
  const int64_t stride = hog_h * hog_w;
  const std::vector<T> energy = cell_energies(hist, stride, no);
  const double texture_scale = static_cast<double>(T(1) / std::sqrt(T(18)));
  std::vector<double> d_energy(static_cast<size_t>(stride), 0.0);  // dL/d(cell energy)
  for (int64_t y = 0; y < hog_h; ++y) {
    for (int64_t x = 0; x < hog_w; ++x) {
      const int64_t i = y * hog_w + x;
      const Blocks b(x, y, hog_h, hog_w);
      double f[4], d_f[4] = {0, 0, 0, 0};
      for (int j = 0; j < 4; ++j) f[j] = block_factor(energy, b.cells[j]);
      for (int k = 0; k < no; ++k) {
        const double ha = hist[k * stride + i], hb = hist[(k + no) * stride + i];
        double d_ha = 0, d_hb = 0;
        for (int j = 0; j < 4; ++j) {
          const double a = f[j] * ha, bb = f[j] * hb, c = a + bb;
          // dL/d(pre-clamp value) for the directed (a, bb) and undirected (c) entries of block j
          double da = 0, db = 0, dc = 0;
          if (v == HogVariant::uoctti) {
            if (passes(a)) da = 0.5 * d_out[k * stride + i];
            if (passes(bb)) db = 0.5 * d_out[(k + no) * stride + i];
            if (passes(c)) dc = 0.5 * d_out[(k + 2 * no) * stride + i] + texture_scale * d_out[(3 * no + j) * stride + i];
          } else {
            if (passes(c)) dc = d_out[(j * no + k) * stride + i];
          }
          d_ha += f[j] * (da + dc);
          d_hb += f[j] * (db + dc);
          d_f[j] += ha * (da + dc) + hb * (db + dc);
        }
        d_hist[k * stride + i] += static_cast<T>(d_ha);
        d_hist[(k + no) * stride + i] += static_cast<T>(d_hb);
      }
      // f = (E + 1e-4)^(-1/2): dE = -f^3/2 df, and E is the sum of the block's four cell energies
      for (int j = 0; j < 4; ++j) {
        const double d_e = -0.5 * f[j] * f[j] * f[j] * d_f[j];
        for (int q = 0; q < 4; ++q) d_energy[static_cast<size_t>(b.cells[j][q])] += d_e;
      }
    }
  }
  // energy = sum_k hu_k^2 with hu_k = h_k + h_{k+NO}
  for (int k = 0; k < no; ++k) {
    for (int64_t i = 0; i < stride; ++i) {
      const double hu = static_cast<double>(hist[k * stride + i]) + hist[(k + no) * stride + i];
      const T d = static_cast<T>(2 * hu * d_energy[static_cast<size_t>(i)]);
      d_hist[k * stride + i] += d;
      d_hist[(k + no) * stride + i] += d;
    }
  }
}

#define PREIMAGE_HOG_INSTANTIATE(T)                                                                             \
  template void hog_gradient_forward<T>(const T*, int64_t, int64_t, int64_t, T*, T*);                           \
  template void hog_gradient_backward<T>(const T*, const T*, int64_t, int64_t, int64_t, T*);                    \
  template void hog_binning_forward<T>(const T*, int64_t, int64_t, const HogBinningParams&, T*);                \
  template void hog_binning_backward<T>(const T*, const T*, int64_t, int64_t, const HogBinningParams&, T*);     \
  template void hog_normalise_forward<T>(const T*, int64_t, int64_t, int, HogVariant, T*);                      \
  template void hog_normalise_backward<T>(const T*, const T*, int64_t, int64_t, int, HogVariant, T*);
PREIMAGE_HOG_INSTANTIATE(float)
PREIMAGE_HOG_INSTANTIATE(double)
#undef PREIMAGE_HOG_INSTANTIATE

}  // namespace preimage::kernels::ref
