// Batched inversion (solvers/preimage.h invert_batch): a batch of N images optimised together returns, for every
// sample, exactly (bit for bit) the image and final terms that invert() returns for that image alone with the same
// seed, for each shallow representation, both solvers, jitter and a mask; and it refuses inconsistent batches.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "engine/image_io.h"
#include "features/representation.h"
#include "solvers/preimage.h"
#include "solvers/straight_through.h"
#include "support.h"
#include "synthetic_photos.h"

using namespace preimage;
using solvers::ObjectiveParams;

namespace {

// N gray images [N, 1, h, w] in the solver's zero-mean domain, each a different synthetic photo.
Tensor gray_batch(int n, int64_t h, int64_t w) {
  const solvers::PhotoSet set = test::synthetic_photos(n, h, w);
  Tensor out = Tensor::empty(Shape{n, 1, h, w});
  for (int i = 0; i < n; ++i) {
    const Tensor g = rgb_to_gray(set.photos[static_cast<size_t>(i)].rgb.view());
    for (int64_t k = 0; k < h * w; ++k) out.data()[i * h * w + k] = g.data()[k] - 128.0f;
  }
  return out;
}

// phi of each sample computed alone, stacked into [N, ...].
Tensor targets(const solvers::Representation& phi, const Tensor& images) {
  const int64_t n = images.shape()[0];
  Tensor out;
  for (int64_t i = 0; i < n; ++i) {
    Tape t;
    const View f = t.value(phi(t, t.leaf(images.view().batch(i), false)));
    if (i == 0) {
      Shape s = f.shape;
      s[0] = n;
      out = Tensor::empty(s);
    }
    std::memcpy(out.view().batch(i).data, f.data, sizeof(float) * static_cast<size_t>(f.numel()));
  }
  return out;
}

bool same_bits(const View& a, const View& b) {
  return a.shape == b.shape && std::memcmp(a.data, b.data, sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

// Inverts the batch together and each sample alone; requires identical images and final terms.
void check_batch_equals_alone(const solvers::Representation& phi, const Tensor& images, const ObjectiveParams& p,
                              const solvers::SolverParams& s, const Tensor* mask = nullptr) {
  const int64_t n = images.shape()[0];
  const Tensor phi0 = targets(phi, images);
  solvers::BatchProblem b;
  b.phi = phi;
  const View phi0v = phi0.view();
  b.phi0 = &phi0v;
  const View maskv = mask ? mask->view() : View();
  if (mask) b.mask = &maskv;
  b.image_shape = images.shape();
  for (int64_t i = 0; i < n; ++i) b.seeds.push_back(100 + 7 * static_cast<uint64_t>(i));
  const solvers::BatchResult together = solvers::invert_batch(b, p, s);
  REQUIRE(together.images.shape() == images.shape());
  REQUIRE(together.final_terms.size() == static_cast<size_t>(n));
  REQUIRE(together.trace.size() == static_cast<size_t>(s.iterations));
  double first_total = 0;
  for (int64_t i = 0; i < n; ++i) {
    solvers::PreimageProblem pb;
    pb.phi = phi;
    const View phi0i = phi0.view().batch(i), maski = mask ? mask->view().batch(i) : View();
    pb.phi0 = &phi0i;
    if (mask) pb.mask = &maski;
    Shape one = images.shape();
    one[0] = 1;
    pb.image_shape = one;
    solvers::SolverParams si = s;
    si.seed = b.seeds[static_cast<size_t>(i)];
    const solvers::PreimageResult alone = solvers::invert(pb, p, si);
    INFO("sample " << i);
    CHECK(same_bits(together.images.view().batch(i), alone.image.view()));
    CHECK(together.final_terms[static_cast<size_t>(i)].total == alone.final_terms.total);
    CHECK(together.final_terms[static_cast<size_t>(i)].loss == alone.final_terms.loss);
    first_total += alone.trace.front().terms.total;
  }
  // The trace is the batch's sum (each term a float sum of float per-sample values in another order: 1e-5).
  CHECK(together.trace.front().terms.total == Approx(first_total).epsilon(1e-5));
}

}  // namespace

TEST_CASE("a batch of HOG, HOGb and DSIFT inversions equals each inversion alone, bit for bit",
          "[preimage][batch]") {
  const Tensor images = gray_batch(3, 40, 40);
  ObjectiveParams p;
  p.C = 20;
  solvers::SolverParams s;
  s.iterations = 12;
  s.anneal_from = 0.0f;
  features::RepresentationOptions o;
  for (const std::string name : {"hog", "hogb", "dsift"}) {
    INFO(name);
    const solvers::Representation phi = features::make_representation(name, o).phi;
    check_batch_equals_alone(phi, images, p, s);
  }
  INFO("hog with the straight-through gradient (the default of preimage invert --rep hog)");
  check_batch_equals_alone(solvers::straight_through(features::make_representation("hog", o).phi,
                                                     features::make_representation("hogb", o).phi),
                           images, p, s);
}

TEST_CASE("batched inversion matches alone with momentum (a rate per sample), the CVPR form, jitter and a mask",
          "[preimage][batch]") {
  const Tensor images = gray_batch(3, 32, 32);
  const solvers::Representation hogb = features::make_representation("hogb", {}).phi;
  solvers::SolverParams s;
  s.iterations = 10;
  {
    INFO("momentum, default rate: each sample's own first-gradient RMS");
    solvers::SolverParams m = s;
    m.kind = solvers::SolverKind::momentum;
    ObjectiveParams cvpr;
    cvpr.form = solvers::ObjectiveForm::cvpr;
    cvpr.lambda_alpha = 1e-12f;
    cvpr.lambda_tv = 1e-3f;
    check_batch_equals_alone(hogb, images, cvpr, m);
  }
  {
    INFO("jitter 3: each sample draws its own shifts");
    ObjectiveParams p;
    p.jitter = 3;
    check_batch_equals_alone(hogb, images, p, s);
  }
  {
    INFO("a mask, different per sample");
    ObjectiveParams p;
    const Tensor phi0 = targets(hogb, images);
    Tensor mask = Tensor::empty(phi0.shape());
    for (int64_t k = 0; k < mask.numel(); ++k) mask.data()[k] = (k * 7 + k / 13) % 3 ? 1.0f : 0.0f;
    check_batch_equals_alone(hogb, images, p, s, &mask);
  }
}

TEST_CASE("invert_batch refuses inconsistent batches", "[preimage][batch][errors]") {
  const Tensor images = gray_batch(2, 32, 32);
  const solvers::Representation hog = features::make_representation("hog", {}).phi;
  const Tensor phi0 = targets(hog, images);
  const View phi0v = phi0.view();
  solvers::BatchProblem b;
  b.phi = hog;
  b.phi0 = &phi0v;
  b.image_shape = images.shape();
  b.seeds = {1};
  REQUIRE_THROWS_WITH(solvers::invert_batch(b, {}, {}), Catch::Contains("1 seeds for a batch of 2"));
  b.seeds = {1, 2};
  b.image_shape = Shape{3, 1, 32, 32};
  b.seeds = {1, 2, 3};
  REQUIRE_THROWS_WITH(solvers::invert_batch(b, {}, {}), Catch::Contains("for a batch of 3 images"));
}
