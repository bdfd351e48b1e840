// solvers/straight_through: the representation takes its value from one network and its gradient from another
// (hard HOG's value, HOGb's gradient when inverting HOG: docs/preimage.md).
#include <catch2/catch.hpp>

#include "features/hog.h"
#include "solvers/straight_through.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {
features::HogParams hog_params(bool bilinear) {
  features::HogParams p;
  p.bilinear_orientations = bilinear;
  return p;
}
solvers::Representation hog_rep(bool bilinear) {
  const features::HogParams p = hog_params(bilinear);
  return [p](Tape& t, Var x) { return features::hog(t, x, p); };
}

// Value of phi at x and the gradient of sum(c * phi(x)) with respect to x.
struct ValueAndGradient {
  std::vector<float> value, gradient;
};
ValueAndGradient evaluate(const solvers::Representation& phi, const Tensor& x, const Tensor& c) {
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var f = phi(t, xv);
  Var loss = ops::sum(t, ops::mul(t, f, t.leaf(c.view(), false)));
  t.backward(loss);
  return {Tensor::copy_of(t.value(f)).to_vector(), Tensor::copy_of(t.grad(xv)).to_vector()};
}
}  // namespace

TEST_CASE("straight-through HOG has hard HOG's value and HOGb's gradient", "[preimage][straight_through]") {
  // A 43x37 image (odd, partial cells) with values on the 0-255 scale minus the mean, as the solver sees them.
  const Tensor x = random_tensor(Shape{1, 1, 43, 37}, 11, -100.0f, 100.0f);
  const Shape fs = features::hog_forward(x.view(), hog_params(false)).shape();
  const Tensor c = random_tensor(fs, 12);
  const ValueAndGradient hard = evaluate(hog_rep(false), x, c), soft = evaluate(hog_rep(true), x, c);
  const ValueAndGradient st = evaluate(solvers::straight_through(hog_rep(false), hog_rep(true)), x, c);
  REQUIRE(hard.value != soft.value);  // otherwise the test could not tell the two apart
  REQUIRE(hard.gradient != soft.gradient);
  // value = soft + (hard - soft): one float rounding away from hard's value.
  CHECK(tolerance_ratio(st.value.data(), hard.value.data(), st.value.size(), 1e-6, 1e-6) <= 1.0);
  // The added constant carries no gradient: exactly HOGb's.
  CHECK(st.gradient == soft.gradient);
}

TEST_CASE("straight-through refuses networks whose outputs differ in shape", "[preimage][straight_through][errors]") {
  features::HogParams other = hog_params(true);
  other.cell_size = 6;
  const solvers::Representation soft6 = [other](Tape& t, Var x) { return features::hog(t, x, other); };
  const Tensor x = random_tensor(Shape{1, 1, 40, 40}, 13, -100.0f, 100.0f);
  const Tensor c = random_tensor(features::hog_forward(x.view(), hog_params(false)).shape(), 14);
  REQUIRE_THROWS_WITH(evaluate(solvers::straight_through(hog_rep(false), soft6), x, c),
                      Catch::Contains("straight_through: the value network gives"));
}
