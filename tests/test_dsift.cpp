// DSIFT: libvl's vl_dsift as the oracle (frame geometry, Gaussian and flat windows, several steps and bin sizes, real
// photos and synthetic images), gradient check of the exact-math stages, the tape op, the fast/exact difference,
// and errors.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

extern "C" {
#include <vl/dsift.h>
}

#include "each_isa.h"
#include "engine/ops.h"
#include "feature_images.h"
#include "features/dsift.h"
#include "features/dsift_render.h"
#include "kernels/dispatch.h"
#include "kernels/dsift.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {

struct VlDsiftOutput {
  Tensor descr;                          // [1, 128, FY, FX] in our layout
  std::vector<VlDsiftKeypoint> frames;   // vl order: y outer, x inner
  int num_frames = 0;
};

// Runs libvl on a [1, 1, H, W] image; FY, FX are taken from our geometry and cross-checked by the frame count.
VlDsiftOutput vl_dsift(const Tensor& gray, const features::DsiftParams& p) {
  const int H = static_cast<int>(gray.shape()[2]), W = static_cast<int>(gray.shape()[3]);
  VlDsiftFilter* f = vl_dsift_new_basic(W, H, p.step, p.bin_size);
  vl_dsift_set_flat_window(f, p.flat_window);
  vl_dsift_process(f, gray.data());
  VlDsiftOutput r;
  r.num_frames = vl_dsift_get_keypoint_num(f);
  const VlDsiftKeypoint* k = vl_dsift_get_keypoints(f);
  r.frames.assign(k, k + r.num_frames);
  const features::DsiftGeometry g = features::dsift_geometry(H, W, p);
  const int64_t F = g.frames_y * g.frames_x;
  r.descr = Tensor::zeros(Shape{1, 128, g.frames_y, g.frames_x});
  if (r.num_frames == F) {
    const float* d = vl_dsift_get_descriptors(f);
    for (int64_t i = 0; i < F; ++i)
      for (int c = 0; c < 128; ++c) r.descr.data()[c * F + i] = d[i * 128 + c];
  }
  vl_dsift_delete(f);
  return r;
}

double vl_relative_error(const Tensor& gray, const features::DsiftParams& p) {
  VlDsiftOutput vl = vl_dsift(gray, p);
  Tensor ours = features::dsift(gray.view(), p);
  REQUIRE(ours.shape() == vl.descr.shape());
  REQUIRE(vl.num_frames == ours.shape()[2] * ours.shape()[3]);
  return relative_error(ours.data(), vl.descr.data(), static_cast<size_t>(ours.numel()));
}

std::vector<features::DsiftParams> param_grid() {
  std::vector<features::DsiftParams> ps;
  for (bool flat : {false, true}) {
    ps.push_back({4, 8, flat});  // our default
    ps.push_back({5, 5, flat});  // VLFeat's default
    ps.push_back({3, 4, flat});
    ps.push_back({7, 6, flat});
  }
  return ps;
}

std::string describe(const features::DsiftParams& p) {
  return "step " + std::to_string(p.step) + " bin " + std::to_string(p.bin_size) +
         (p.flat_window ? " flat window" : " Gaussian window");
}

}  // namespace

TEST_CASE("dsift frame geometry and centres match vl_dsift", "[dsift]") {
  for (int bin : {3, 5, 8}) {
    for (int step : {1, 4, 5}) {
      const int frame = 3 * bin + 1;
      for (int extra : {0, step - 1, step, 2 * step + 1}) {
        const int W = frame + extra, H = frame + (extra + 3) % (2 * step + 1);
        features::DsiftParams p{step, bin, false};
        Tensor img = synthetic_image(Synthetic::noise, H, W, 3);
        VlDsiftOutput vl = vl_dsift(img, p);
        const features::DsiftGeometry g = features::dsift_geometry(H, W, p);
        INFO("W " << W << " H " << H << " " << describe(p));
        REQUIRE(vl.num_frames == g.frames_x * g.frames_y);
        for (int64_t fy = 0; fy < g.frames_y; ++fy) {
          for (int64_t fx = 0; fx < g.frames_x; ++fx) {
            const VlDsiftKeypoint& k = vl.frames[static_cast<size_t>(fy * g.frames_x + fx)];
            CHECK(k.x == features::dsift_frame_center_x(g, fx));
            CHECK(k.y == features::dsift_frame_center_y(g, fy));
          }
        }
      }
    }
  }
}

TEST_CASE("dsift matches vl_dsift on photos", "[dsift][vlfeat]") {
  struct Crop { std::string path; int64_t top, left, h, w; };
  const std::vector<Crop> crops = {
      {std::string(kSkimageData) + "astronaut.png", 31, 150, 141, 187},
      {std::string(kSkimageData) + "chelsea.png", 17, 101, 123, 151},
      {std::string(kSkimageData) + "coffee.png", 97, 203, 119, 133},
      {std::string(kMateNature) + "LadyBird.jpg", 301, 411, 105, 129},
  };
  for (const Crop& c : crops) {
    Tensor img = gray_crop(c.path, c.top, c.left, c.h, c.w);
    for (const features::DsiftParams& p : param_grid()) {
      const double err = vl_relative_error(img, p);
      INFO(c.path << " " << describe(p) << ": relative error " << err);
      CHECK(err <= 1e-5);
    }
  }
}

TEST_CASE("dsift matches vl_dsift on synthetic images", "[dsift][vlfeat]") {
  for (Synthetic s : {Synthetic::vertical_edge, Synthetic::diagonal_edge, Synthetic::ramp, Synthetic::noise,
                      Synthetic::disc}) {
    Tensor img = synthetic_image(s, 53, 47, 11);
    for (const features::DsiftParams& p : param_grid()) {
      const double err = vl_relative_error(img, p);
      INFO("synthetic " << static_cast<int>(s) << " " << describe(p) << ": relative error " << err);
      CHECK(err <= 1e-5);
    }
  }
}

TEST_CASE("dsift of a flat image is zero as in vl_dsift", "[dsift][vlfeat]") {
  Tensor img = synthetic_image(Synthetic::flat, 40, 37);
  for (const features::DsiftParams& p : param_grid()) {
    if (3 * p.bin_size + 1 > 37) continue;
    VlDsiftOutput vl = vl_dsift(img, p);
    Tensor ours = features::dsift(img.view(), p);
    CHECK(max_abs_diff(ours.to_vector(), vl.descr.to_vector()) == 0.0);
    CHECK(max_abs_diff(ours.to_vector(), std::vector<float>(static_cast<size_t>(ours.numel()), 0.0f)) == 0.0);
  }
}

TEST_CASE("dsift launcher handles a batch sample by sample", "[dsift]") {
  const features::DsiftParams p{3, 4, false};
  Tensor a = synthetic_image(Synthetic::noise, 29, 31, 5), b = synthetic_image(Synthetic::disc, 29, 31);
  Tensor batch = Tensor::empty(Shape{2, 1, 29, 31});
  std::copy(a.data(), a.data() + a.numel(), batch.data());
  std::copy(b.data(), b.data() + b.numel(), batch.data() + a.numel());
  Tensor both = features::dsift(batch.view(), p);
  Tensor da = features::dsift(a.view(), p), db = features::dsift(b.view(), p);
  REQUIRE(both.shape()[0] == 2);
  const std::vector<float> all = both.to_vector();
  CHECK(std::vector<float>(all.begin(), all.begin() + da.numel()) == da.to_vector());
  CHECK(std::vector<float>(all.begin() + da.numel(), all.end()) == db.to_vector());
}

TEST_CASE(
    "dsift fast paths (interleaved orientation and pooling, framevec normalisation) equal the reference bit for bit",
    "[dsift][fastpath]") {
  PREIMAGE_EACH_CPU_ISA();
  // Whole launchers (orientation -> pooling -> normalisation, and the backward chain) on the fast paths against
  // cpu_path() == reference. The backward accumulates: d_image starts random.
  std::vector<Tensor> images;
  images.push_back(gray_crop(std::string(kSkimageData) + "astronaut.png", 100, 150, 97, 131));
  images.push_back(gray_crop(std::string(kSkimageData) + "coffee.png", 40, 60, 64, 80));
  images.push_back(synthetic_image(Synthetic::disc, 33, 29));
  images.push_back(synthetic_image(Synthetic::flat, 25, 25));
  const std::vector<features::DsiftParams> params = {{4, 8, false}, {4, 8, true}, {5, 5, false}, {3, 4, true},
                                                     {7, 6, false}};
  uint64_t seed = 11;
  for (const Tensor& img : images) {
    for (const features::DsiftParams& p : params) {
      const features::DsiftGeometry g = features::dsift_geometry(img.shape()[2], img.shape()[3], p);
      const Shape os{1, 128, g.frames_y, g.frames_x};
      const Tensor d_out = random_tensor(os, ++seed, -1.0f, 1.0f);
      const Tensor d_image0 = random_tensor(img.shape(), ++seed, -1.0f, 1.0f);
      for (features::DsiftMath math : {features::DsiftMath::vlfeat, features::DsiftMath::exact}) {
        kernels::set_cpu_path(kernels::CpuPath::reference);
        const Tensor ref = features::dsift(img.view(), p, math);
        kernels::set_cpu_path(kernels::CpuPath::fast);
        const Tensor fast = features::dsift(img.view(), p, math);
        INFO(img.shape().str() << " step " << p.step << " bin " << p.bin_size << (p.flat_window ? " flat" : " gauss")
                               << (math == features::DsiftMath::exact ? " exact" : " vlfeat"));
        CHECK(max_abs_diff(fast.to_vector(), ref.to_vector()) == 0.0);
      }
      Tensor di_ref = d_image0.clone(), di_fast = d_image0.clone();
      kernels::set_cpu_path(kernels::CpuPath::reference);
      kernels::dsift_backward(img.view(), d_out.view(), di_ref.view(), p);
      kernels::set_cpu_path(kernels::CpuPath::fast);
      kernels::dsift_backward(img.view(), d_out.view(), di_fast.view(), p);
      INFO(img.shape().str() << " step " << p.step << " bin " << p.bin_size << (p.flat_window ? " flat" : " gauss")
                             << " backward");
      CHECK(max_abs_diff(di_fast.to_vector(), di_ref.to_vector()) == 0.0);
      // The backward from the forward's saved intermediates (what the tape op does) is the recomputing one's.
      for (kernels::CpuPath path : {kernels::CpuPath::reference, kernels::CpuPath::fast}) {
        kernels::set_cpu_path(path);
        kernels::DsiftSaved saved;
        Tensor out = Tensor::empty(os);
        kernels::dsift_forward(img.view(), out.view(), p, features::DsiftMath::vlfeat, &saved);
        CHECK(saved.samples == 0);  // only the exact math has a derivative to save for
        kernels::dsift_forward(img.view(), out.view(), p, features::DsiftMath::exact, &saved);
        REQUIRE(saved.samples == 1);
        CHECK(max_abs_diff(out.to_vector(), features::dsift(img.view(), p, features::DsiftMath::exact).to_vector()) ==
              0.0);
        Tensor di_saved = d_image0.clone();
        kernels::dsift_backward(img.view(), d_out.view(), di_saved.view(), p, &saved);
        CHECK(max_abs_diff(di_saved.to_vector(), di_ref.to_vector()) == 0.0);
      }
      kernels::set_cpu_path(kernels::CpuPath::fast);
    }
  }
}

namespace {
// Which piecewise-smooth piece the exact-math DSIFT is on at x: orientation bin of every pixel, whether the gradient
// vanishes, and which entries the 0.2 clamp cuts. Two points with equal signatures lie on one smooth piece.
std::vector<int> dsift_signature(const std::vector<double>& x, int64_t H, int64_t W,
                                 const kernels::DsiftGeometry& g) {
  std::vector<int> sig;
  std::vector<double> binned(static_cast<size_t>(8 * H * W));
  kernels::ref::dsift_orient_forward(x.data(), binned.data(), H, W, kernels::DsiftMath::exact);
  for (int64_t y = 0; y < H; ++y) {
    for (int64_t xx = 0; xx < W; ++xx) {
      const double gx = xx == 0 ? x[y * W + 1] - x[y * W] : xx == W - 1 ? x[y * W + W - 1] - x[y * W + W - 2]
                                                                         : 0.5 * (x[y * W + xx + 1] - x[y * W + xx - 1]);
      const double gy = y == 0 ? x[W + xx] - x[xx] : y == H - 1 ? x[y * W + xx] - x[(y - 1) * W + xx]
                                                                 : 0.5 * (x[(y + 1) * W + xx] - x[(y - 1) * W + xx]);
      double a = std::atan2(gy, gx);
      if (a < 0) a += 2 * 3.141592653589793;
      sig.push_back(static_cast<int>(std::floor(a * 8 / (2 * 3.141592653589793))));
      sig.push_back(std::hypot(gx, gy) < 1e-9);
    }
  }
  const int64_t F = g.frames_y * g.frames_x;
  std::vector<double> raw(static_cast<size_t>(128 * F));
  kernels::ref::dsift_pool_forward(binned.data(), raw.data(), g);
  for (int64_t f = 0; f < F; ++f) {
    double s = 0;
    for (int d = 0; d < 128; ++d) s += raw[d * F + f] * raw[d * F + f];
    const double n = std::sqrt(s) + FLT_EPSILON;
    for (int d = 0; d < 128; ++d) sig.push_back(raw[d * F + f] / n > 0.2);
  }
  return sig;
}
}  // namespace

TEST_CASE("dsift exact-math reference gradient matches finite differences", "[dsift][gradcheck]") {
  const int64_t H = 15, W = 14;
  for (bool flat : {false, true}) {
    const kernels::DsiftParams p{2, 3, flat};
    const kernels::DsiftGeometry g = kernels::dsift_geometry(H, W, p);
    const size_t out_n = static_cast<size_t>(128 * g.frames_y * g.frames_x);
    GradCheckOp op;
    // A smooth random image: strong gradients everywhere keep |g| away from 0.
    std::vector<double> x0 = random_vector(static_cast<size_t>(H * W), 21, 0.0, 1.0);
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) x0[y * W + x] += 0.3 * x + 0.2 * y;
    op.inputs = {x0};
    op.differentiable = {true};
    op.output_size = out_n;
    op.forward = [=](auto& x, double* y) {
      std::vector<double> binned(static_cast<size_t>(8 * H * W)), raw(out_n);
      kernels::ref::dsift_orient_forward(x[0], binned.data(), H, W, kernels::DsiftMath::exact);
      kernels::ref::dsift_pool_forward(binned.data(), raw.data(), g);
      kernels::ref::dsift_normalise_forward(raw.data(), y, g.frames_y * g.frames_x, kernels::DsiftMath::exact);
    };
    op.backward = [=](auto& x, const double* d_y, auto& d_x) {
      std::vector<double> binned(static_cast<size_t>(8 * H * W)), raw(out_n);
      std::vector<double> d_raw(out_n, 0.0), d_binned(binned.size(), 0.0);
      kernels::ref::dsift_orient_forward(x[0], binned.data(), H, W, kernels::DsiftMath::exact);
      kernels::ref::dsift_pool_forward(binned.data(), raw.data(), g);
      kernels::ref::dsift_normalise_backward(raw.data(), d_y, d_raw.data(), g.frames_y * g.frames_x);
      kernels::ref::dsift_pool_backward(d_raw.data(), d_binned.data(), g);
      kernels::ref::dsift_orient_backward(x[0], d_binned.data(), d_x[0], H, W);
    };
    op.near_kink = [=](size_t, size_t e, double eps) {
      std::vector<double> lo = x0, hi = x0;
      lo[e] -= 4 * eps;
      hi[e] += 4 * eps;
      return dsift_signature(lo, H, W, g) != dsift_signature(hi, H, W, g);
    };
    GradCheckResult r = grad_check(op);
    INFO((flat ? "flat: " : "gaussian: ") << r.worst << " skipped " << r.skipped);
    CHECK(r.checked > 150);
    CHECK(r.max_error < 1e-6);
  }
}

TEST_CASE("dsift tape op: exact-math forward and its gradient", "[dsift][gradcheck]") {
  const features::DsiftParams p{3, 4, false};
  Tensor img = gray_crop(std::string(kSkimageData) + "chelsea.png", 40, 120, 27, 25);
  Tape t;
  Var x = t.leaf(img.view(), true);
  Var y = features::dsift(t, x, p);
  CHECK(t.op(y) == Op::dsift);
  Tensor exact = features::dsift(img.view(), p, features::DsiftMath::exact);
  CHECK(max_abs_diff(Tensor::copy_of(t.value(y)).to_vector(), exact.to_vector()) == 0.0);
  // sum(c * y) with random c: the tape gradient equals J^T c from the double-precision reference.
  Tensor c = random_tensor(t.shape(y), 4);
  t.backward(ops::sum(t, ops::mul(t, y, t.constant(c.clone()))));
  const int64_t H = 27, W = 25;
  const kernels::DsiftGeometry g = kernels::dsift_geometry(H, W, p);
  const size_t out_n = static_cast<size_t>(c.numel());
  std::vector<double> xd = to_double(img.to_vector()), cd = to_double(c.to_vector());
  std::vector<double> binned(static_cast<size_t>(8 * H * W)), raw(out_n), d_raw(out_n, 0.0), d_binned(binned.size());
  std::vector<double> d_x(xd.size(), 0.0);
  kernels::ref::dsift_orient_forward(xd.data(), binned.data(), H, W, kernels::DsiftMath::exact);
  kernels::ref::dsift_pool_forward(binned.data(), raw.data(), g);
  kernels::ref::dsift_normalise_backward(raw.data(), cd.data(), d_raw.data(), g.frames_y * g.frames_x);
  kernels::ref::dsift_pool_backward(d_raw.data(), d_binned.data(), g);
  kernels::ref::dsift_orient_backward(xd.data(), d_binned.data(), d_x.data(), H, W);
  const std::vector<float> ref = to_float(d_x);
  const View grad = t.grad(x);
  REQUIRE(grad.numel() == img.numel());
  CHECK(tolerance_ratio(grad.data, ref.data(), ref.size(), 1e-6, 1e-4) <= 1.0);
  // Accumulation: a second backward doubles the gradient.
  const std::vector<float> once(grad.data, grad.data + grad.numel());
  t.backward(ops::sum(t, ops::mul(t, y, t.constant(c.clone()))));
  std::vector<float> twice_expected(once.size());
  for (size_t i = 0; i < once.size(); ++i) twice_expected[i] = 2 * once[i];
  CHECK(tolerance_ratio(t.grad(x).data, twice_expected.data(), once.size(), 1e-6, 1e-5) <= 1.0);
}

TEST_CASE("dsift fast (VLFeat) and exact math differ by the fast-math approximation only", "[dsift][vlfeat]") {
  // vl_fast_atan2_f is off by up to 0.0061 rad, i.e. 0.8 % of an orientation bin width: the two forwards differ by
  // a fraction of a percent of the feature norm, never more.
  for (const char* name : {"astronaut.png", "coffee.png"}) {
    Tensor img = gray_crop(std::string(kSkimageData) + name, 60, 60, 151, 171);
    for (bool flat : {false, true}) {
      const features::DsiftParams p{4, 8, flat};
      Tensor fast = features::dsift(img.view(), p, features::DsiftMath::vlfeat);
      Tensor exact = features::dsift(img.view(), p, features::DsiftMath::exact);
      const double d = relative_error(exact.data(), fast.data(), static_cast<size_t>(fast.numel()));
      INFO(name << (flat ? " flat" : " gaussian") << ": exact vs vlfeat math relative difference " << d);
      CHECK(d > 1e-5);
      CHECK(d < 1e-2);
    }
  }
}

TEST_CASE("dsift rejects images smaller than a frame and colour input", "[dsift][errors]") {
  Tensor small = Tensor::zeros(Shape{1, 1, 24, 40});  // frame of bin 8 is 25 pixels
  REQUIRE_THROWS_WITH(features::dsift(small.view(), features::DsiftParams{4, 8, false}),
                      Catch::Contains("smaller than one descriptor frame"));
  Tensor rgb = Tensor::zeros(Shape{1, 3, 40, 40});
  REQUIRE_THROWS_WITH(features::dsift(rgb.view(), features::DsiftParams{}), Catch::Contains("gray image"));
  Tensor ok = Tensor::zeros(Shape{1, 1, 40, 40});
  REQUIRE_THROWS_WITH(features::dsift(ok.view(), features::DsiftParams{0, 8, false}), Catch::Contains("step"));
  Tensor wrong = Tensor::zeros(Shape{1, 128, 2, 2});
  REQUIRE_THROWS(kernels::dsift_forward(ok.view(), wrong.view(), features::DsiftParams{}, kernels::DsiftMath::vlfeat));
}

TEST_CASE("dsift glyphs draw each orientation ray from its bin centre", "[dsift][render]") {
  const features::DsiftParams p{4, 8, false};
  Tensor d = Tensor::zeros(Shape{1, 128, 1, 1});  // a 25x25 image has exactly one frame
  d.data()[0 + 8 * (1 + 4 * 1)] = 0.25f;          // t = 0 (gradient pointing right) in bin (1, 1), centre (8, 8)
  d.data()[2 + 8 * (2 + 4 * 2)] = 0.125f;         // t = 2 (pointing down, y down) in bin (2, 2), centre (16, 16)
  Tensor img = features::render_dsift(d.view(), 25, 25, p);
  REQUIRE(img.shape() == Shape{1, 1, 25, 25});
  auto at = [&](int x, int y) { return img.data()[y * 25 + x]; };
  CHECK(at(11, 8) == 255.0f);  // full-scale ray: 3.5 pixels long
  CHECK(at(8, 11) < 255.0f);
  CHECK(at(16, 17) == 255.0f);  // half-scale ray downwards
  CHECK(at(16, 15) < 255.0f);
  CHECK(at(19, 16) < 255.0f);
  for (float v : img.to_vector()) CHECK((v >= 0.0f && v <= 255.0f));
  Tensor zoomed = features::render_dsift(d.view(), 25, 25, p, features::DsiftRenderOptions{3, 0.25f, false});
  CHECK(zoomed.shape() == Shape{1, 1, 75, 75});
  CHECK(zoomed.data()[(8 * 3) * 75 + 11 * 3] == 255.0f);
  REQUIRE_THROWS_WITH(features::render_dsift(d.view(), 30, 25, p), Catch::Contains("do not match"));
}
