// HOG (features/hog.h, kernels/hog.h): forward against VLFeat 0.9.21's vl_hog (libvl, the oracle) on photos and
// synthetic images for UoCTTI, DalalTriggs and bilinear orientations (HOGb); channel layout; tie-breaking of the
// hard assignment; gradient checks of each step and of the whole chain; the tape op; the glyph renderer against
// vl_hog_render; errors.
#include <catch2/catch.hpp>

#include <vl/hog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "each_isa.h"
#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/ops.h"
#include "engine/threads.h"
#include "features/hog.h"
#include "features/hog_render.h"
#include "kernels/dispatch.h"
#include "kernels/hog.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;
using features::HogParams;
using kernels::HogVariant;

namespace {

// ---- the oracle ----
struct VlHogResult {
  std::vector<float> features;  // f[x + hogW*(y + hogH*k)]
  int64_t dimension = 0, hog_h = 0, hog_w = 0;
};

VlHog* new_vl_hog(const HogParams& p) {
  VlHog* h = vl_hog_new(p.variant == HogVariant::uoctti ? VlHogVariantUoctti : VlHogVariantDalalTriggs,
                        static_cast<vl_size>(p.num_orientations), VL_FALSE);
  vl_hog_set_use_bilinear_orientation_assignments(h, p.bilinear_orientations ? VL_TRUE : VL_FALSE);
  return h;
}

// image [1,C,H,W]: VLFeat's non-transposed layout is the same planar [C][H][W] (x fastest), so no copy is needed.
VlHogResult vl_hog_of(const Tensor& image, const HogParams& p) {
  const Shape& s = image.shape();
  VlHog* h = new_vl_hog(p);
  vl_hog_put_image(h, image.data(), static_cast<vl_size>(s.w()), static_cast<vl_size>(s.h()),
                   static_cast<vl_size>(s.c()), static_cast<vl_size>(p.cell_size));
  VlHogResult r;
  r.dimension = static_cast<int64_t>(vl_hog_get_dimension(h));
  r.hog_h = static_cast<int64_t>(vl_hog_get_height(h));
  r.hog_w = static_cast<int64_t>(vl_hog_get_width(h));
  r.features.resize(static_cast<size_t>(r.dimension * r.hog_h * r.hog_w));
  vl_hog_extract(h, r.features.data());
  vl_hog_delete(h);
  return r;
}

// max |ours - vl| / ||vl|| (the brief's measure), after checking the shapes agree.
double relative_error(const Tensor& ours, const VlHogResult& vl) {
  REQUIRE(ours.shape() == (Shape{1, vl.dimension, vl.hog_h, vl.hog_w}));
  double worst = 0, norm2 = 0;
  for (size_t i = 0; i < vl.features.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(ours.data()[i]) - vl.features[i]));
    norm2 += static_cast<double>(vl.features[i]) * vl.features[i];
  }
  return worst / std::max(std::sqrt(norm2), 1e-30);
}

double max_abs(const Tensor& ours, const VlHogResult& vl) {
  double worst = 0;
  for (size_t i = 0; i < vl.features.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(ours.data()[i]) - vl.features[i]));
  return worst;
}

std::vector<HogParams> variants(int cell_size = 8, int num_orientations = 9) {
  std::vector<HogParams> v;
  for (HogVariant var : {HogVariant::uoctti, HogVariant::dalal_triggs}) {
    for (bool bilinear : {false, true}) {
      HogParams p;
      p.cell_size = cell_size;
      p.num_orientations = num_orientations;
      p.variant = var;
      p.bilinear_orientations = bilinear;
      v.push_back(p);
    }
  }
  return v;
}

std::string describe(const HogParams& p) {
  return std::string(p.variant == HogVariant::uoctti ? "UoCTTI" : "DalalTriggs") +
         (p.bilinear_orientations ? " bilinear" : " hard") + " cs " + std::to_string(p.cell_size) + " NO " +
         std::to_string(p.num_orientations);
}

// ---- images ----
Tensor crop(const Tensor& img, int64_t top, int64_t left, int64_t h, int64_t w) {
  const Shape& s = img.shape();
  REQUIRE(top + h <= s.h());
  REQUIRE(left + w <= s.w());
  Tensor out = Tensor::empty(Shape{1, s.c(), h, w});
  for (int64_t c = 0; c < s.c(); ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        out.data()[(c * h + y) * w + x] = img.data()[(c * s.h() + top + y) * s.w() + left + x];
  return out;
}

const char* kSkimage = "/usr/lib/python3/dist-packages/skimage/data/";
const char* kMate = "/usr/share/backgrounds/mate/nature/";

std::vector<std::string> photo_paths() {
  std::vector<std::string> paths;
  for (const char* f : {"astronaut.png", "chelsea.png", "coffee.png"}) paths.push_back(std::string(kSkimage) + f);
  for (const char* f : {"Garden.jpg", "LadyBird.jpg"}) paths.push_back(std::string(kMate) + f);
  return paths;
}

// A synthetic image [1,C,H,W] from a function of (c, x, y).
template <typename F> Tensor synth(int64_t c, int64_t h, int64_t w, F f) {
  Tensor t = Tensor::empty(Shape{1, c, h, w});
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) t.data()[(k * h + y) * w + x] = static_cast<float>(f(k, x, y));
  return t;
}

// Smooth random image: a few random plane waves per channel, in [0, 1] (amplitudes of order one keep the
// gradients of the whole chain of order one, so the absolute error of grad_check is meaningful).
std::vector<double> smooth_image(int64_t c, int64_t h, int64_t w, uint64_t seed) {
  const std::vector<double> r = random_vector(static_cast<size_t>(c) * 4 * 4, seed, 0.0, 1.0);
  std::vector<double> img(static_cast<size_t>(c * h * w));
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        double v = 0.5;
        for (int m = 0; m < 4; ++m) {
          const double* q = &r[static_cast<size_t>((k * 4 + m) * 4)];
          v += 0.12 * std::sin(0.9 * (q[0] - 0.5) * x + 0.9 * (q[1] - 0.5) * y + 6.28 * q[2]) * (0.5 + q[3]);
        }
        img[static_cast<size_t>((k * h + y) * w + x)] = v;
      }
  return img;
}

// ---- kink detection for the gradient checks ----
// A point is near a kink when some output is not locally linear within +-10 eps: the second difference
// |y(x+h) + y(x-h) - 2 y(x)| of a smooth output is h^2 |y''| ~ 1e-10 |y''| (measured: at most ~1e-9 on the smooth
// test images), while a kink crossed within +-eps (bin switch, clamp switch, channel switch) gives at least
// 9 eps |slope jump| ~ 1e-6 for a jump of order 0.1, and a jump of the hard assignment gives the jump itself.
std::function<bool(size_t, size_t, double)> second_difference_kinks(const GradCheckOp& op, double threshold) {
  return [op, threshold](size_t input, size_t element, double eps) {
    std::vector<std::vector<double>> x = op.inputs;
    auto run = [&](double delta) {
      x[input][element] = op.inputs[input][element] + delta;
      std::vector<const double*> p;
      for (auto& v : x) p.push_back(v.data());
      std::vector<double> y(op.output_size);
      op.forward(p, y.data());
      return y;
    };
    const double h = 10 * eps;
    const std::vector<double> y0 = run(0), yp = run(h), ym = run(-h);
    double worst = 0;
    for (size_t i = 0; i < y0.size(); ++i) worst = std::max(worst, std::abs(yp[i] + ym[i] - 2 * y0[i]));
    return worst > threshold;
  };
}

constexpr double kKinkThreshold = 2e-8;

// The whole HOG chain on the double references: image [C,H,W] -> features [D,hogH,hogW].
struct HogChain {
  int64_t C, H, W;
  HogParams p;
  kernels::HogBinningParams bp() const { return {p.cell_size, p.num_orientations, p.bilinear_orientations}; }
  int64_t hog_h() const { return kernels::hog_cells(H, p.cell_size); }
  int64_t hog_w() const { return kernels::hog_cells(W, p.cell_size); }
  size_t hist_size() const { return static_cast<size_t>(2 * p.num_orientations * hog_h() * hog_w()); }
  size_t output_size() const { return static_cast<size_t>(features::hog_dimension(p) * hog_h() * hog_w()); }

  void forward(const double* image, double* out) const {
    std::vector<double> grad(static_cast<size_t>(2 * H * W)), channel(static_cast<size_t>(H * W)), hist(hist_size());
    kernels::ref::hog_gradient_forward(image, C, H, W, grad.data(), channel.data());
    kernels::ref::hog_binning_forward(grad.data(), H, W, bp(), hist.data());
    kernels::ref::hog_normalise_forward(hist.data(), hog_h(), hog_w(), p.num_orientations, p.variant, out);
  }
  void backward(const double* image, const double* d_out, double* d_image) const {
    std::vector<double> grad(static_cast<size_t>(2 * H * W)), channel(static_cast<size_t>(H * W)), hist(hist_size());
    kernels::ref::hog_gradient_forward(image, C, H, W, grad.data(), channel.data());
    kernels::ref::hog_binning_forward(grad.data(), H, W, bp(), hist.data());
    std::vector<double> d_hist(hist.size(), 0.0), d_grad(grad.size(), 0.0);
    kernels::ref::hog_normalise_backward(hist.data(), d_out, hog_h(), hog_w(), p.num_orientations, p.variant,
                                         d_hist.data());
    kernels::ref::hog_binning_backward(grad.data(), d_hist.data(), H, W, bp(), d_grad.data());
    kernels::ref::hog_gradient_backward(channel.data(), d_grad.data(), C, H, W, d_image);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Forward against VLFeat

TEST_CASE("hog matches vl_hog on photos, gray and colour, odd crops", "[hog]") {
  // W x H crops: square AlexNet input, odd sizes with partial cells, tall and narrow
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{227, 227}, {131, 97}, {64, 200}};
  double worst = 0;
  int compared = 0;
  for (const std::string& path : photo_paths()) {
    for (ImageChannels ch : {ImageChannels::rgb, ImageChannels::gray}) {
      const Tensor photo = read_image(path, ch);
      for (auto [w, h] : sizes) {
        const int64_t top = (photo.shape().h() - h) / 3, left = (photo.shape().w() - w) / 2;
        const Tensor img = crop(photo, top, left, h, w);
        for (const HogParams& p : variants()) {
          INFO(path << " " << (ch == ImageChannels::rgb ? "rgb" : "gray") << " " << w << "x" << h << " "
                    << describe(p));
          const Tensor ours = features::hog_forward(img, p);
          const VlHogResult vl = vl_hog_of(img, p);
          const double e = relative_error(ours, vl);
          CHECK(e <= 1e-5);
          worst = std::max(worst, e);
          ++compared;
        }
      }
    }
  }
  CHECK(compared == 5 * 2 * 3 * 4);
  WARN("hog vs vl_hog on photos: worst max|ours - vl| / ||vl|| = " << worst << " over " << compared << " cases");
}

TEST_CASE("hog matches vl_hog for other cell sizes and orientation counts", "[hog]") {
  const Tensor photo = read_image(std::string(kSkimage) + "chelsea.png", ImageChannels::rgb);
  const Tensor img = crop(photo, 40, 60, 101, 143);
  for (int cs : {4, 5, 6, 16}) {
    for (int no : {4, 6, 9, 12}) {
      for (const HogParams& p : variants(cs, no)) {
        INFO(describe(p));
        CHECK(relative_error(features::hog_forward(img, p), vl_hog_of(img, p)) <= 1e-5);
      }
    }
  }
}

TEST_CASE("hog matches vl_hog bit for bit on synthetic images (tie-breaking of the hard assignment)", "[hog]") {
  const int64_t H = 37, W = 45;
  const std::vector<double> noise = random_vector(static_cast<size_t>(3 * H * W), 11, 0.0, 255.0);
  struct Case {
    const char* name;
    Tensor image;
  };
  std::vector<Case> cases;
  // vertical edges (gradient along +x and -x: bins 0 and NO), horizontal edges (gradient exactly along y: the
  // scores of bins 4 and 5 tie, VLFeat keeps the first), diagonal and ramps, flat, noise, a colour image whose
  // channels carry different edges (the argmax over channels), and a chequerboard
  cases.push_back({"vertical edge dark-bright", synth(1, H, W, [](int64_t, int64_t x, int64_t) { return x < 20 ? 10 : 200; })});
  cases.push_back({"vertical edge bright-dark", synth(1, H, W, [](int64_t, int64_t x, int64_t) { return x < 23 ? 250 : 3; })});
  cases.push_back({"horizontal edge dark-bright", synth(1, H, W, [](int64_t, int64_t, int64_t y) { return y < 17 ? 0 : 255; })});
  cases.push_back({"horizontal edge bright-dark", synth(1, H, W, [](int64_t, int64_t, int64_t y) { return y < 12 ? 180 : 20; })});
  cases.push_back({"diagonal edge", synth(1, H, W, [](int64_t, int64_t x, int64_t y) { return x + y < 40 ? 30 : 220; })});
  cases.push_back({"ramp x", synth(1, H, W, [](int64_t, int64_t x, int64_t) { return 4.0 * x; })});
  cases.push_back({"ramp y", synth(1, H, W, [](int64_t, int64_t, int64_t y) { return 255.0 - 5.0 * y; })});
  cases.push_back({"ramp 45 degrees", synth(1, H, W, [](int64_t, int64_t x, int64_t y) { return 2.0 * x + 2.0 * y; })});
  cases.push_back({"ramp 30ish degrees", synth(1, H, W, [](int64_t, int64_t x, int64_t y) { return 3.0 * x + 2.0 * y; })});
  cases.push_back({"flat", synth(1, H, W, [](int64_t, int64_t, int64_t) { return 128.0; })});
  cases.push_back({"noise gray", synth(1, H, W, [&](int64_t, int64_t x, int64_t y) { return noise[static_cast<size_t>(y * W + x)]; })});
  cases.push_back({"noise colour", synth(3, H, W, [&](int64_t c, int64_t x, int64_t y) { return noise[static_cast<size_t>((c * H + y) * W + x)]; })});
  cases.push_back({"colour edges", synth(3, H, W, [](int64_t c, int64_t x, int64_t y) {
                     return c == 0 ? (x < 15 ? 0 : 100) : c == 1 ? (y < 20 ? 0 : 150) : (x + y < 30 ? 0 : 120);
                   })});
  cases.push_back({"equal channels", synth(3, H, W, [](int64_t, int64_t x, int64_t y) { return (x * 7 + y * 3) % 50; })});
  cases.push_back({"chequerboard", synth(1, H, W, [](int64_t, int64_t x, int64_t y) { return ((x / 5 + y / 5) % 2) * 255; })});
  for (const Case& c : cases) {
    for (const HogParams& p : variants()) {
      INFO(c.name << " " << describe(p));
      const Tensor ours = features::hog_forward(c.image, p);
      const VlHogResult vl = vl_hog_of(c.image, p);
      CHECK(max_abs(ours, vl) == 0.0);
    }
  }
}

TEST_CASE("hog layout: VLFeat channel order, grid from H and W, no transposition", "[hog]") {
  const int64_t H = 32, W = 48;
  HogParams p;  // UoCTTI, 9 orientations, cell 8
  // gradient along +x (dark left, bright right) -> directed bin 0 -> channels 0 (directed) and 18 (undirected)
  const Tensor right = synth(1, H, W, [](int64_t, int64_t x, int64_t) { return x < 24 ? 0 : 255; });
  const Tensor f = features::hog_forward(right, p);
  REQUIRE(f.shape() == (Shape{1, 31, 4, 6}));  // [1, D, hogH = (32+4)/8, hogW = (48+4)/8]
  const VlHogResult vl = vl_hog_of(right, p);
  CHECK(vl.hog_h == 4);
  CHECK(vl.hog_w == 6);
  const int64_t stride = 4 * 6;
  auto at = [&](const Tensor& t, int64_t k, int64_t y, int64_t x) { return t.data()[k * stride + y * 6 + x]; };
  for (int64_t y = 0; y < 4; ++y) {
    for (int64_t x = 2; x <= 3; ++x) {  // the cells next to the edge at x = 24
      CHECK(at(f, 0, y, x) > 0.05f);
      CHECK(at(f, 18, y, x) > 0.05f);
      CHECK(at(f, 9, y, x) == 0.0f);  // the opposite direction
      for (int64_t k = 1; k < 18; ++k)
        if (k != 9) CHECK(at(f, k, y, x) == 0.0f);
      for (int64_t k = 27; k < 31; ++k) CHECK(at(f, k, y, x) > 0.0f);  // texture
    }
    CHECK(at(f, 0, y, 0) == 0.0f);  // far from the edge
  }
  // gradient along -x -> bin 9
  const Tensor left = synth(1, H, W, [](int64_t, int64_t x, int64_t) { return x < 24 ? 255 : 0; });
  const Tensor g = features::hog_forward(left, p);
  CHECK(at(g, 9, 1, 2) > 0.05f);
  CHECK(at(g, 0, 1, 2) == 0.0f);
  CHECK(at(g, 18, 1, 2) == Approx(at(f, 18, 1, 2)));  // undirected: the same
  // gradient along +y (y points down; dark above): exactly between bins 4 and 5; VLFeat keeps bin 4
  const Tensor down = synth(1, H, W, [](int64_t, int64_t, int64_t y) { return y < 16 ? 0 : 255; });
  const Tensor d = features::hog_forward(down, p);
  for (int64_t k = 0; k < 18; ++k) {
    INFO("k " << k);
    CHECK((at(d, k, 1, 3) > 0.05f) == (k == 4));
  }
  // DalalTriggs: the undirected bin k under the 4 block normalisations in channels k, 9+k, 18+k, 27+k
  HogParams dt;
  dt.variant = HogVariant::dalal_triggs;
  const Tensor fd = features::hog_forward(right, dt);
  REQUIRE(fd.shape() == (Shape{1, 36, 4, 6}));
  for (int64_t k = 0; k < 36; ++k) {
    INFO("k " << k);
    CHECK((at(fd, k, 1, 2) > 0.0f) == (k % 9 == 0));
  }
  // the transposed image has the transposed grid (the C API takes x fastest; nothing is transposed)
  const Tensor rightT = synth(1, W, H, [](int64_t, int64_t, int64_t y) { return y < 24 ? 0 : 255; });
  CHECK(features::hog_forward(rightT, p).shape() == (Shape{1, 31, 6, 4}));
  CHECK(at(features::hog_forward(rightT, p), 4, 2, 1) > 0.05f);  // gradient along +y now
}

TEST_CASE("hog reference path matches vl_hog too", "[hog]") {
  // the launchers default to the cellrow path; the plain reference must be the spec on its own
  kernels::set_cpu_path(kernels::CpuPath::reference);
  const Tensor photo = read_image(std::string(kSkimage) + "coffee.png", ImageChannels::rgb);
  for (auto [w, h] : std::vector<std::pair<int64_t, int64_t>>{{227, 227}, {131, 97}}) {
    const Tensor img = crop(photo, 20, 30, h, w);
    for (const HogParams& p : variants()) {
      INFO(w << "x" << h << " " << describe(p));
      CHECK(max_abs(features::hog_forward(img, p), vl_hog_of(img, p)) == 0.0);
    }
  }
  kernels::set_cpu_path(kernels::CpuPath::fast);
}

TEST_CASE("hog cellrow path equals the reference bit for bit at 1 and 2 threads", "[hog][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  const int saved_threads = num_threads();
  std::vector<Tensor> images;
  const Tensor photo = read_image(std::string(kMate) + "LadyBird.jpg", ImageChannels::rgb);
  images.push_back(crop(photo, 100, 200, 480, 640));
  images.push_back(crop(photo, 300, 500, 97, 131));
  images.push_back(rgb_to_gray(crop(photo, 50, 50, 200, 64)));
  images.push_back(synth(1, 37, 45, [](int64_t, int64_t, int64_t y) { return y < 17 ? 0 : 255; }));
  images.push_back(synth(3, 13, 12, [](int64_t c, int64_t x, int64_t y) { return (x * 31 + y * 17 + c * 7) % 256; }));
  for (const Tensor& img : images) {
    const Shape& s = img.shape();
    for (int cs : {8, 5}) {
      for (bool bilinear : {false, true}) {
        const kernels::HogBinningParams bp{cs, 9, bilinear};
        Tensor g_ref = Tensor::empty(Shape{1, 2, s.h(), s.w()}), c_ref = Tensor::empty(Shape{1, 1, s.h(), s.w()});
        const Shape hs{1, 18, kernels::hog_cells(s.h(), cs), kernels::hog_cells(s.w(), cs)};
        Tensor h_ref = Tensor::empty(hs);
        kernels::set_cpu_path(kernels::CpuPath::reference);
        kernels::hog_gradient_forward(img, g_ref, c_ref);
        kernels::hog_binning_forward(g_ref, bp, h_ref);
        kernels::set_cpu_path(kernels::CpuPath::fast);
        for (int threads : {1, 2}) {
          set_num_threads(threads);
          INFO(s.str() << " cs " << cs << (bilinear ? " bilinear" : " hard") << " threads " << threads);
          Tensor g = Tensor::empty(g_ref.shape()), c = Tensor::empty(c_ref.shape()), h = Tensor::empty(hs);
          kernels::hog_gradient_forward(img, g, c);
          kernels::hog_binning_forward(g, bp, h);
          CHECK(max_abs_diff(g.to_vector(), g_ref.to_vector()) == 0.0);
          CHECK(max_abs_diff(c.to_vector(), c_ref.to_vector()) == 0.0);
          CHECK(max_abs_diff(h.to_vector(), h_ref.to_vector()) == 0.0);
        }
      }
    }
  }
  set_num_threads(saved_threads);
}

TEST_CASE("hog cellrow backward (and normalisation) equals the reference bit for bit at 1 and 2 threads",
          "[hog][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  // The backward steps accumulate: start from random d_grad / d_image so the += is checked too. The gradient map
  // and channel map come from the (tested) forward; d_hist is random, d_grad random (with exact zeros: a skipped
  // source must leave its target bit-identical).
  const int saved_threads = num_threads();
  std::vector<Tensor> images;
  const Tensor photo = read_image(std::string(kMate) + "LadyBird.jpg", ImageChannels::rgb);
  images.push_back(crop(photo, 100, 200, 227, 227));
  images.push_back(crop(photo, 300, 500, 97, 131));
  images.push_back(rgb_to_gray(crop(photo, 50, 50, 200, 64)));
  images.push_back(synth(1, 37, 45, [](int64_t, int64_t, int64_t y) { return y < 17 ? 0 : 255; }));  // ties
  images.push_back(synth(3, 13, 12, [](int64_t c, int64_t x, int64_t y) { return (x * 31 + y * 17 + c * 7) % 256; }));
  images.push_back(synth(1, 16, 16, [](int64_t, int64_t, int64_t) { return 7; }));  // flat: no pixel has a gradient
  uint64_t seed = 1;
  for (const Tensor& img : images) {
    const Shape& s = img.shape();
    Tensor grad = Tensor::empty(Shape{1, 2, s.h(), s.w()}), channel = Tensor::empty(Shape{1, 1, s.h(), s.w()});
    kernels::hog_gradient_forward(img, grad, channel);
    // gradient step: d_grad -> d_image
    Tensor d_grad = random_tensor(grad.shape(), ++seed, -1.0f, 1.0f);
    for (int64_t i = 0; i < d_grad.numel(); i += 5) d_grad.data()[i] = 0.0f;
    const Tensor d_image0 = random_tensor(s, ++seed, -1.0f, 1.0f);
    Tensor di_ref = d_image0.clone();
    kernels::set_cpu_path(kernels::CpuPath::reference);
    kernels::hog_gradient_backward(channel, d_grad, di_ref);
    kernels::set_cpu_path(kernels::CpuPath::fast);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      INFO(s.str() << " gradient backward, threads " << threads);
      Tensor di = d_image0.clone();
      kernels::hog_gradient_backward(channel, d_grad, di);
      CHECK(max_abs_diff(di.to_vector(), di_ref.to_vector()) == 0.0);
    }
    // normalisation step, forward and backward, both variants, on this image's histogram (cell size 8 and a
    // 5-pixel one, whose grids have other widths)
    for (int cs : {8, 5}) {
      const kernels::HogBinningParams bp{cs, 9, false};
      const Shape hs{1, 18, kernels::hog_cells(s.h(), cs), kernels::hog_cells(s.w(), cs)};
      Tensor hist = Tensor::empty(hs);
      kernels::hog_binning_forward(grad, bp, hist);
      for (HogVariant v : {HogVariant::uoctti, HogVariant::dalal_triggs}) {
        const Shape fs{1, kernels::hog_dimension(v, 9), hs.h(), hs.w()};
        Tensor f_ref = Tensor::empty(fs);
        const Tensor d_out = random_tensor(fs, ++seed, -1.0f, 1.0f);
        const Tensor d_hist0 = random_tensor(hs, ++seed, -1.0f, 1.0f);
        Tensor dh_ref = d_hist0.clone();
        kernels::set_cpu_path(kernels::CpuPath::reference);
        kernels::hog_normalise_forward(hist, v, f_ref);
        kernels::hog_normalise_backward(hist, d_out, v, dh_ref);
        kernels::set_cpu_path(kernels::CpuPath::fast);
        for (int threads : {1, 2}) {
          set_num_threads(threads);
          INFO(s.str() << " normalise cs " << cs << (v == HogVariant::uoctti ? " UoCTTI" : " DalalTriggs")
                       << " threads " << threads);
          Tensor f = Tensor::empty(fs), dh = d_hist0.clone();
          kernels::hog_normalise_forward(hist, v, f);
          kernels::hog_normalise_backward(hist, d_out, v, dh);
          CHECK(max_abs_diff(f.to_vector(), f_ref.to_vector()) == 0.0);
          CHECK(max_abs_diff(dh.to_vector(), dh_ref.to_vector()) == 0.0);
        }
      }
    }
    // binning step: d_hist -> d_grad
    for (int cs : {8, 5}) {
      for (int no : {9, 4}) {
        for (bool bilinear : {false, true}) {
          const kernels::HogBinningParams bp{cs, no, bilinear};
          const Shape hs{1, 2 * no, kernels::hog_cells(s.h(), cs), kernels::hog_cells(s.w(), cs)};
          if (hs.h() < 1 || hs.w() < 1) continue;
          const Tensor d_hist = random_tensor(hs, ++seed, -1.0f, 1.0f);
          const Tensor d_grad0 = random_tensor(grad.shape(), ++seed, -1.0f, 1.0f);
          Tensor dg_ref = d_grad0.clone();
          kernels::set_cpu_path(kernels::CpuPath::reference);
          kernels::hog_binning_backward(grad, d_hist, bp, dg_ref);
          kernels::set_cpu_path(kernels::CpuPath::fast);
          for (int threads : {1, 2}) {
            set_num_threads(threads);
            INFO(s.str() << " cs " << cs << " NO " << no << (bilinear ? " bilinear" : " hard") << " threads "
                         << threads);
            Tensor dg = d_grad0.clone();
            kernels::hog_binning_backward(grad, d_hist, bp, dg);
            CHECK(max_abs_diff(dg.to_vector(), dg_ref.to_vector()) == 0.0);
          }
        }
      }
    }
  }
  set_num_threads(saved_threads);
}

// ---------------------------------------------------------------------------------------------------------------
// Gradient checks (double references)

TEST_CASE("hog_gradient reference gradient matches finite differences", "[hog][gradcheck]") {
  const int64_t C = 3, H = 7, W = 9;
  GradCheckOp op;
  op.inputs = {random_vector(static_cast<size_t>(C * H * W), 5, 0.0, 1.0)};
  op.differentiable = {true};
  op.output_size = static_cast<size_t>(2 * H * W);
  op.forward = [=](auto& x, double* y) {
    std::vector<double> channel(static_cast<size_t>(H * W));
    kernels::ref::hog_gradient_forward(x[0], C, H, W, y, channel.data());
  };
  op.backward = [=](auto& x, const double* d_y, auto& d_x) {
    std::vector<double> grad(static_cast<size_t>(2 * H * W)), channel(static_cast<size_t>(H * W));
    kernels::ref::hog_gradient_forward(x[0], C, H, W, grad.data(), channel.data());
    kernels::ref::hog_gradient_backward(channel.data(), d_y, C, H, W, d_x[0]);
  };
  op.near_kink = second_difference_kinks(op, kKinkThreshold);  // a switch of the chosen channel
  const GradCheckResult r = grad_check(op);
  INFO(r.worst << "; skipped " << r.skipped);
  CHECK(r.checked > 150);
  CHECK(r.max_error < 1e-8);
}

TEST_CASE("hog_binning reference gradient matches finite differences (hard and bilinear)", "[hog][gradcheck]") {
  const int64_t H = 13, W = 11;
  for (bool bilinear : {false, true}) {
    const kernels::HogBinningParams bp{4, 9, bilinear};
    const int64_t hh = kernels::hog_cells(H, 4), hw = kernels::hog_cells(W, 4);
    GradCheckOp op;
    op.inputs = {random_vector(static_cast<size_t>(2 * H * W), bilinear ? 21 : 22, -1.0, 1.0)};
    op.differentiable = {true};
    op.output_size = static_cast<size_t>(18 * hh * hw);
    op.forward = [=](auto& x, double* y) { kernels::ref::hog_binning_forward(x[0], H, W, bp, y); };
    op.backward = [=](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::hog_binning_backward(x[0], d_y, H, W, bp, d_x[0]);
    };
    // explicit kinks: hard bins switch half-way between bin centres (a jump); the bilinear weights are hat
    // functions of the angle with kinks at the bin centres, where VLFeat's acos(score/|g|) is also
    // ill-conditioned (theta to ~1e-16/theta), so points within 0.03 bins of a centre are skipped; |g| is not
    // differentiable at 0 and the angle's derivatives grow as 1/|g|
    const std::vector<double> g = op.inputs[0];
    op.near_kink = [=](size_t, size_t e, double eps) {
      const size_t i = e % static_cast<size_t>(H * W);
      const double gx = g[i], gy = g[static_cast<size_t>(H * W) + i];
      const double m = std::hypot(gx, gy);
      if (m < 0.05) return true;
      const double u = std::atan2(gy, gx) / (M_PI / 9) + (bilinear ? 0.0 : 0.5);  // kinks at integer u
      const double distance = std::abs(u - std::round(u));                         // in bins
      return bilinear ? distance < 0.03 : distance * m < 1e3 * eps;
    };
    const GradCheckResult r = grad_check(op);
    INFO((bilinear ? "bilinear: " : "hard: ") << r.worst << "; skipped " << r.skipped);
    CHECK(r.checked > 250);
    CHECK(r.max_error < 1e-7);
  }
}

TEST_CASE("hog_normalise reference gradient matches finite differences", "[hog][gradcheck]") {
  const int64_t hh = 3, hw = 4;
  const int no = 9;
  for (HogVariant v : {HogVariant::uoctti, HogVariant::dalal_triggs}) {
    GradCheckOp op;
    std::vector<double> h = random_vector(static_cast<size_t>(2 * no * hh * hw), 31, 0.0, 1.0);
    for (size_t i = 0; i < h.size(); i += 7) h[i] *= 6;  // dominant bins: some entries clamp at 0.2
    op.inputs = {h};
    op.differentiable = {true};
    op.output_size = static_cast<size_t>(kernels::hog_dimension(v, no) * hh * hw);
    op.forward = [=](auto& x, double* y) { kernels::ref::hog_normalise_forward(x[0], hh, hw, no, v, y); };
    op.backward = [=](auto& x, const double* d_y, auto& d_x) {
      kernels::ref::hog_normalise_backward(x[0], d_y, hh, hw, no, v, d_x[0]);
    };
    op.near_kink = second_difference_kinks(op, kKinkThreshold);  // the 0.2 clamp
    // the clamp is active somewhere, so its (zero) gradient is exercised
    std::vector<double> out(op.output_size);
    op.forward(std::vector<const double*>{h.data()}, out.data());
    const double clamped = static_cast<double>(std::count_if(out.begin(), out.end(), [](double o) {
      return std::abs(o - 0.2) < 1e-12 || std::abs(o - 0.1) < 1e-12;
    }));
    INFO("entries at the clamp value: " << clamped);
    const GradCheckResult r = grad_check(op, 1e-6, 500);
    INFO((v == HogVariant::uoctti ? "UoCTTI: " : "DalalTriggs: ") << r.worst << "; skipped " << r.skipped);
    CHECK(r.checked > 200);
    CHECK(r.max_error < 1e-7);
  }
}

TEST_CASE("whole HOG chain gradient matches finite differences away from kinks", "[hog][gradcheck]") {
  // 19 x 23 pixels, cell 8: a 3 x 2 grid (every cell touches a border: clamped block indices included)
  size_t checked = 0, skipped = 0;
  double worst = 0;
  for (int64_t C : {1, 3}) {
    for (const HogParams& p : variants()) {
      const HogChain chain{C, 23, 19, p};
      GradCheckOp op;
      op.inputs = {smooth_image(C, chain.H, chain.W, 40 + static_cast<uint64_t>(C))};
      op.differentiable = {true};
      op.output_size = chain.output_size();
      op.forward = [chain](auto& x, double* y) { chain.forward(x[0], y); };
      op.backward = [chain](auto& x, const double* d_y, auto& d_x) { chain.backward(x[0], d_y, d_x[0]); };
      op.near_kink = second_difference_kinks(op, kKinkThreshold);
      const GradCheckResult r = grad_check(op, 1e-6, 500);
      INFO("C " << C << " " << describe(p) << ": " << r.worst << "; checked " << r.checked << " skipped "
                << r.skipped);
      CHECK(r.checked > 300);
      CHECK(r.skipped < r.checked / 5);
      CHECK(r.max_error < 1e-6);
      checked += r.checked;
      skipped += r.skipped;
      worst = std::max(worst, r.max_error);
    }
  }
  WARN("whole HOG chain grad_check: " << checked << " points checked, " << skipped << " skipped near kinks, worst "
       "error " << worst);
}

// ---------------------------------------------------------------------------------------------------------------
// Tape op

TEST_CASE("hog tape op: forward equals hog_forward, backward equals the double chain", "[hog]") {
  const int64_t C = 3, H = 29, W = 35;
  const std::vector<double> img = smooth_image(C, H, W, 77);
  Tensor x = Tensor::from(to_float(img), Shape{1, C, H, W});
  for (const HogParams& p : variants()) {
    INFO(describe(p));
    Tape t;
    Var xv = t.leaf(x.view(), true);
    Var f = features::hog(t, xv, p);
    const Tensor ref_out = features::hog_forward(x, p);
    REQUIRE(t.shape(f) == ref_out.shape());
    CHECK(tolerance_ratio(t.value(f).data, ref_out.data(), static_cast<size_t>(ref_out.numel()), 0.0, 0.0) <= 0.0);
    CHECK(t.op(f) == Op::hog_normalise);
    const std::vector<double> c = random_vector(static_cast<size_t>(ref_out.numel()), 5);
    Var cv = t.constant(Tensor::from(to_float(c), ref_out.shape()));
    t.backward(ops::sum(t, ops::mul(t, f, cv)));
    // the same gradient from the double references (the decisions agree away from near-ties)
    const HogChain chain{C, H, W, p};
    std::vector<double> d_img(img.size(), 0.0);
    chain.backward(to_double(to_float(img)).data(), c.data(), d_img.data());
    double worst = 0, scale = 0;
    for (size_t i = 0; i < img.size(); ++i) {
      worst = std::max(worst, std::abs(t.grad(xv).data[i] - d_img[i]));
      scale = std::max(scale, std::abs(d_img[i]));
    }
    INFO("max |float tape - double ref| " << worst << " of max |grad| " << scale);
    CHECK(scale > 0.0);
    CHECK(worst <= 1e-4 * scale);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Renderer

TEST_CASE("hog_render draws the glyphs vl_hog_render draws", "[hog]") {
  const Tensor photo = read_image(std::string(kSkimage) + "astronaut.png", ImageChannels::rgb);
  const Tensor img = crop(photo, 30, 150, 96, 120);
  for (HogVariant v : {HogVariant::uoctti, HogVariant::dalal_triggs}) {
    HogParams p;
    p.variant = v;
    const Tensor f = features::hog_forward(img, p);
    const int64_t hh = f.shape().h(), hw = f.shape().w();
    const Tensor ours = features::hog_render_raw(f, p);
    REQUIRE(ours.shape() == (Shape{1, 1, hh * 21, hw * 21}));
    VlHog* h = new_vl_hog(p);
    REQUIRE(vl_hog_get_glyph_size(h) == 21);
    std::vector<float> vl(static_cast<size_t>(hh * hw * 21 * 21), 0.0f);
    vl_hog_render(h, vl.data(), f.data(), static_cast<vl_size>(hw), static_cast<vl_size>(hh));
    vl_hog_delete(h);
    CHECK(max_abs_diff(ours.to_vector(), vl) == 0.0);
    const Tensor png = features::hog_render(f, p);
    float lo = 1e9f, hi = -1e9f;
    for (float q : png.to_vector()) lo = std::min(lo, q), hi = std::max(hi, q);
    CHECK(lo >= 0.0f);
    CHECK(hi == Approx(255.0f));
    const std::string path = (std::filesystem::temp_directory_path() / "preimage_test_hog_render.png").string();
    write_png(path, png);
    const Tensor back = read_image(path);
    CHECK(back.shape() == png.shape());
    std::remove(path.c_str());
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

TEST_CASE("hog rejects images smaller than two cells and bad parameters", "[hog][errors]") {
  HogParams p;  // cell 8: H and W must be at least 12 for a 2 x 2 grid
  CHECK_NOTHROW(features::hog_forward(Tensor::zeros(Shape{1, 1, 12, 12}), p));
  REQUIRE_THROWS_WITH(features::hog_forward(Tensor::zeros(Shape{1, 1, 11, 40}), p),
                      Catch::Contains("smaller than two cells") && Catch::Contains("[1, 1, 11, 40]"));
  REQUIRE_THROWS_WITH(features::hog_forward(Tensor::zeros(Shape{1, 3, 40, 9}), p),
                      Catch::Contains("smaller than two cells"));
  Tape t;
  Tensor tiny = Tensor::zeros(Shape{1, 1, 3, 3});
  Var xv = t.leaf(tiny.view(), true);
  REQUIRE_THROWS_WITH(features::hog(t, xv, p), Catch::Contains("smaller than two cells"));
  HogParams bad;
  bad.cell_size = 0;
  REQUIRE_THROWS_WITH(features::hog_forward(Tensor::zeros(Shape{1, 1, 32, 32}), bad), Catch::Contains("cell size"));
  REQUIRE_THROWS_WITH(features::hog_forward(Tensor::zeros(Shape{32, 32}), p), Catch::Contains("[N, C, H, W]"));
  // kernel launchers check their operands
  Tensor grad = Tensor::zeros(Shape{1, 2, 16, 16}), hist = Tensor::zeros(Shape{1, 18, 3, 2});
  REQUIRE_THROWS_WITH(kernels::hog_binning_forward(grad, kernels::HogBinningParams{}, hist),
                      Catch::Contains("hog_binning"));
  Tensor out = Tensor::zeros(Shape{1, 36, 2, 2}), h2 = Tensor::zeros(Shape{1, 18, 2, 2});
  REQUIRE_THROWS_WITH(kernels::hog_normalise_forward(h2, HogVariant::uoctti, out), Catch::Contains("hog_normalise"));
  REQUIRE_THROWS_WITH(features::hog_render(out, p), Catch::Contains("channels"));
}
