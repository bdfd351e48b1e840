// Pre-image solver (solvers/): objective gradient, convergence on a problem with a known answer, jitter
// bookkeeping, and an end-to-end HOG inversion of a real photo judged by VLFeat's own HOG.
#include <catch2/catch.hpp>

#include <vl/hog.h>

#include <cmath>
#include <vector>

#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "features/hog.h"
#include "solvers/preimage.h"
#include "solvers/straight_through.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;
using solvers::ObjectiveParams;

namespace {
// A smooth (linear) representation for checking the objective's gradient: conv 3x3 stride 2 with fixed weights.
struct LinearRep {
  Tensor w = random_tensor(Shape{4, 1, 3, 3}, 5);
  solvers::Representation fn() const {
    return [this](Tape& t, Var x) {
      return ops::conv2d(t, x, t.leaf(w.view(), false), Var{}, kernels::Conv2dParams::symmetric(2, 1));
    };
  }
};

double objective_at(const Tensor& x, const solvers::Representation& phi, const Tensor& phi0,
                    const ObjectiveParams& p, int ty, int tx) {
  Tape t;
  Var phi0v = t.leaf(phi0.view(), false);
  solvers::ObjectiveTerms terms;
  solvers::build_objective(t, t.leaf(x.view(), false), phi, phi0v, Var{}, p, ty, tx, &terms);
  return terms.total;
}

// VLFeat's HOG of a gray [1,1,H,W] image (the oracle, independent of our features/hog).
std::vector<float> vl_hog_of(const Tensor& gray) {
  const int h = static_cast<int>(gray.shape()[2]), w = static_cast<int>(gray.shape()[3]);
  VlHog* hog = vl_hog_new(VlHogVariantUoctti, 9, VL_FALSE);
  vl_hog_put_image(hog, gray.data(), static_cast<vl_size>(w), static_cast<vl_size>(h), 1, 8);
  std::vector<float> f(vl_hog_get_width(hog) * vl_hog_get_height(hog) * vl_hog_get_dimension(hog));
  vl_hog_extract(hog, f.data());
  vl_hog_delete(hog);
  return f;
}

double relative_distance(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, n = 0;
  for (size_t i = 0; i < a.size(); ++i) d += double(a[i] - b[i]) * (a[i] - b[i]), n += double(b[i]) * b[i];
  return std::sqrt(d / n);
}

Tensor shifted(const View& v, float s) {
  Tensor t = Tensor::copy_of(v);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] += s;
  return t;
}
}  // namespace

TEST_CASE("objective gradient matches finite differences (IJCV form with jitter)", "[preimage][gradcheck]") {
  LinearRep rep;
  ObjectiveParams p;
  p.C = 20;
  p.jitter = 3;
  p.beta = 2;  // smooth TV
  Tensor x = random_tensor(Shape{1, 1, 13, 11}, 1, -60, 60);         // canvas H+T-1 x W+T-1
  Tensor target_image = random_tensor(Shape{1, 1, 11, 9}, 2, -60, 60);
  Tensor phi0;
  {
    Tape t;
    phi0 = Tensor::copy_of(t.value(rep.fn()(t, t.leaf(target_image.view(), false))));
  }
  const int ty = 1, tx = 2;
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var E = solvers::build_objective(t, xv, rep.fn(), t.leaf(phi0.view(), false), Var{}, p, ty, tx, nullptr);
  t.backward(E);
  const std::vector<float> g(t.grad(xv).data, t.grad(xv).data + x.numel());
  // The tape runs in float, so the objective (~10) carries rounding of ~1e-6 and the difference quotient an error
  // of ~1e-6 / eps; errors are measured against the gradient's scale (its largest magnitude), not per element.
  const float eps = 0.25f;
  double scale = 0, worst = 0;
  for (float v : g) scale = std::max(scale, double(std::abs(v)));
  for (int64_t i = 0; i < x.numel(); i += 3) {
    const float saved = x.data()[i];
    x.data()[i] = saved + eps;
    const double ep = objective_at(x, rep.fn(), phi0, p, ty, tx);
    x.data()[i] = saved - eps;
    const double em = objective_at(x, rep.fn(), phi0, p, ty, tx);
    x.data()[i] = saved;
    const double numeric = (ep - em) / (2 * eps);
    worst = std::max(worst, std::abs(numeric - g[static_cast<size_t>(i)]) / scale);
  }
  INFO("gradient scale " << scale);
  CHECK(worst < 1e-3);
}

TEST_CASE("jitter crops a window of the canvas and leaves the rest untouched by the loss", "[preimage]") {
  // With the regularisers off (CVPR form, zero lambdas) only the jittered window gets a loss gradient.
  LinearRep rep;
  ObjectiveParams p;
  p.form = solvers::ObjectiveForm::cvpr;
  p.jitter = 4;
  Tensor x = random_tensor(Shape{1, 1, 15, 14}, 3, -50, 50);
  Tensor phi0 = Tensor::full(Shape{1, 4, 6, 6}, 1.0f);
  std::vector<Shape> seen;
  solvers::Representation spy = [&](Tape& t, Var img) {
    seen.push_back(t.shape(img));
    return rep.fn()(t, img);
  };
  Tape t;
  Var xv = t.leaf(x.view(), true);
  t.backward(solvers::build_objective(t, xv, spy, t.leaf(phi0.view(), false), Var{}, p, 2, 3, nullptr));
  REQUIRE(seen.back() == Shape({1, 1, 12, 11}));
  View g = t.grad(xv);
  for (int64_t y = 0; y < 15; ++y)
    for (int64_t xx = 0; xx < 14; ++xx) {
      const bool inside = y >= 2 && y < 14 && xx >= 3 && xx < 14;
      if (!inside) REQUIRE(g.data[y * 14 + xx] == 0.0f);
    }
}

TEST_CASE("the solver recovers the image when the representation is the identity", "[preimage]") {
  // phi = identity: the loss pulls x towards x0 and the regularisers only slightly away; a stalled or diverging
  // solver would leave the random start (relative distance ~1) or produce NaN.
  Tensor x0 = random_tensor(Shape{1, 1, 16, 16}, 9, -40, 40);
  solvers::PreimageProblem pb;
  pb.phi = [](Tape& t, Var x) { return ops::scale(t, x, 1.0f); };
  View target = x0.view();
  pb.phi0 = &target;
  pb.image_shape = x0.shape();
  ObjectiveParams p;
  p.C = 1000;
  for (solvers::SolverKind kind : {solvers::SolverKind::adagrad, solvers::SolverKind::momentum}) {
    solvers::SolverParams s;
    s.kind = kind;
    s.iterations = 300;
    solvers::PreimageResult r = solvers::invert(pb, p, s);
    double d = 0, n = 0;
    for (int64_t i = 0; i < x0.numel(); ++i)
      d += std::pow(r.image.data()[i] - x0.data()[i], 2), n += std::pow(x0.data()[i], 2);
    INFO("solver " << static_cast<int>(kind));
    CHECK(std::sqrt(d / n) < 0.05);
    CHECK(r.trace.back().terms.total < r.trace.front().terms.total);
    CHECK(r.image.shape() == x0.shape());
  }
}

TEST_CASE("the B+ projection bounds every pixel of the result", "[preimage]") {
  Tensor x0 = random_tensor(Shape{1, 3, 8, 8}, 4, -300, 300);  // far outside B+ = 160
  solvers::PreimageProblem pb;
  pb.phi = [](Tape& t, Var x) { return ops::scale(t, x, 1.0f); };
  View target = x0.view();
  pb.phi0 = &target;
  pb.image_shape = x0.shape();
  ObjectiveParams p;
  p.C = 1000;
  solvers::SolverParams s;
  s.iterations = 50;
  solvers::PreimageResult r = solvers::invert(pb, p, s);
  const int64_t hw = 64;
  for (int64_t i = 0; i < hw; ++i) {
    double n2 = 0;
    for (int c = 0; c < 3; ++c) n2 += std::pow(r.image.data()[c * hw + i], 2);
    REQUIRE(std::sqrt(n2) <= p.B_plus * (1 + 1e-5));
  }
}

TEST_CASE("NaN in the objective stops the solver with a clear error", "[preimage][errors]") {
  Tensor x0 = random_tensor(Shape{1, 1, 8, 8}, 4);
  solvers::PreimageProblem pb;
  pb.phi = [](Tape& t, Var x) { return ops::scale(t, x, NAN); };
  Tensor phi0 = Tensor::full(Shape{1, 1, 8, 8}, 1.0f);
  View target = phi0.view();
  pb.phi0 = &target;
  pb.image_shape = x0.shape();
  REQUIRE_THROWS_WITH(solvers::invert(pb, ObjectiveParams{}, solvers::SolverParams{}), Catch::Contains("became"));
}

TEST_CASE("HOG inversion of a real photo reconstructs what VLFeat's HOG sees", "[preimage][hog][e2e]") {
  // astronaut, gray, 96x96. Threshold: the reconstruction's VLFeat-HOG error must be below half that of the solver's
  // own random starting point, and below 0.55 (IJCV Table 4 reports 0.366 at 227x227; a 96x96 image has a larger
  // share of border cells, measured 0.40 here).
  Tensor rgb = read_image("/usr/lib/python3/dist-packages/skimage/data/astronaut.png", ImageChannels::gray);
  Tensor img = resize_bilinear(center_square(rgb.view()).view(), 96, 96);
  features::HogParams hp;
  solvers::PreimageProblem pb;
  pb.phi = [hp](Tape& t, Var x) { return features::hog(t, x, hp); };
  Tensor x0 = shifted(img.view(), -128.0f);
  Tensor phi0 = features::hog_forward(x0.view(), hp);
  View target = phi0.view();
  pb.phi0 = &target;
  pb.image_shape = img.shape();
  ObjectiveParams p;
  p.C = 20;
  solvers::SolverParams s;
  s.iterations = 300;
  s.seed = 3;
  solvers::PreimageResult r = solvers::invert(pb, p, s);
  const std::vector<float> ref = vl_hog_of(img);
  const double err = relative_distance(vl_hog_of(shifted(r.image.view(), 128.0f)), ref);
  s.iterations = 1;  // the random start after one step: the baseline a non-working solver stays near
  const double baseline = relative_distance(vl_hog_of(shifted(solvers::invert(pb, p, s).image.view(), 128)), ref);
  INFO("error " << err << " baseline " << baseline);
  CHECK(err < 0.5 * baseline);
  CHECK(err < 0.55);
}

TEST_CASE("annealing and the straight-through HOG gradient lower the HOG inversion error", "[preimage][hog][e2e]") {
  // The same 96x96 astronaut as above. The papers' Algorithm 1 on hard HOG reaches ~0.36 here (measured); annealing
  // the step (anneal_from = 0) and taking hard HOG's derivative through HOGb (solvers/straight_through.h) reach ~0.10
  // (measured). Each change alone measured 0.19 (straight-through) and 0.26 (annealing), so the thresholds, below
  // 0.15 outright and below 0.45 x the papers' algorithm, fail when either is silently turned off.
  Tensor rgb = read_image("/usr/lib/python3/dist-packages/skimage/data/astronaut.png", ImageChannels::gray);
  Tensor img = resize_bilinear(center_square(rgb.view()).view(), 96, 96);
  features::HogParams hard, soft;
  soft.bilinear_orientations = true;
  const solvers::Representation hard_phi = [hard](Tape& t, Var x) { return features::hog(t, x, hard); };
  const solvers::Representation soft_phi = [soft](Tape& t, Var x) { return features::hog(t, x, soft); };
  Tensor x0 = shifted(img.view(), -128.0f);
  Tensor phi0 = features::hog_forward(x0.view(), hard);
  View target = phi0.view();
  const std::vector<float> ref = vl_hog_of(img);
  auto error_of = [&](const solvers::Representation& phi, float anneal_from) {
    solvers::PreimageProblem pb;
    pb.phi = phi;
    pb.phi0 = &target;
    pb.image_shape = img.shape();
    ObjectiveParams p;
    p.C = 20;
    solvers::SolverParams s;
    s.seed = 3;
    s.anneal_from = anneal_from;
    return relative_distance(vl_hog_of(shifted(solvers::invert(pb, p, s).image.view(), 128.0f)), ref);
  };
  const double papers = error_of(hard_phi, 1.0f);
  const double ours = error_of(solvers::straight_through(hard_phi, soft_phi), 0.0f);
  INFO("papers' algorithm " << papers << ", annealed straight-through " << ours);
  CHECK(ours < 0.15);
  CHECK(ours < 0.45 * papers);
}
