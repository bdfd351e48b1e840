// Perturbed feature vectors (solvers/feature_perturb.h, seed 002 sect. 4.3-4.4): each definition on small vectors
// worked by hand, norms kept, counts dropped, signs, determinism per seed, per-sample independence.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.h"
#include "solvers/feature_perturb.h"

using namespace preimage;
using solvers::Perturbation;

namespace {
std::vector<float> perturbed(std::vector<float> v, Perturbation p, uint64_t seed = 1, uint64_t sample = 0) {
  solvers::perturb_vector(v.data(), int64_t(v.size()), p, seed, sample);
  return v;
}
double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}
int64_t zeros(const std::vector<float>& v) { return std::count(v.begin(), v.end(), 0.0f); }

// A ReLU-like vector: 10 entries, 6 non-zero, norm sqrt(1 + 4 + 9 + 16 + 25 + 36) = sqrt(91).
const std::vector<float> kRelu = {0, 1, 0, 2, 3, 0, 4, 5, 0, 6};
}  // namespace

TEST_CASE("binarize keeps signs and the norm with one magnitude", "[perturb]") {
  const std::vector<float> b = perturbed(kRelu, Perturbation::binarize);
  const float m = static_cast<float>(std::sqrt(91.0 / 6.0));
  for (size_t i = 0; i < kRelu.size(); ++i) CHECK(b[i] == (kRelu[i] == 0 ? 0.0f : m));
  CHECK(norm(b) == Approx(std::sqrt(91.0)).epsilon(1e-6));
  // Signed (FC8-like) entries keep their sign.
  const std::vector<float> s = perturbed({-3, 0, 4}, Perturbation::binarize);  // norm 5, two non-zero
  CHECK(s[0] == Approx(-5 / std::sqrt(2.0)));
  CHECK(s[1] == 0.0f);
  CHECK(s[2] == Approx(5 / std::sqrt(2.0)));
}

TEST_CASE("dropout zeroes half of all entries at random and restores the norm", "[perturb]") {
  std::vector<float> v(101);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1.0f + float(i % 7);
  const std::vector<float> d = perturbed(v, Perturbation::dropout, 5);
  CHECK(zeros(d) == 50);  // floor(101 / 2)
  CHECK(norm(d) == Approx(norm(v)).epsilon(1e-6));
  // Kept entries are scaled by one factor.
  double k = 0;
  for (size_t i = 0; i < v.size(); ++i)
    if (d[i] != 0) {
      if (k == 0) k = d[i] / v[i];
      CHECK(d[i] / v[i] == Approx(k).epsilon(1e-6));
    }
  CHECK(k > 1.0);
  // Deterministic per (seed, sample); another seed or sample draws other entries.
  CHECK(perturbed(v, Perturbation::dropout, 5) == d);
  CHECK(perturbed(v, Perturbation::dropout, 6) != d);
  CHECK(perturbed(v, Perturbation::dropout, 5, 1) != d);
}

TEST_CASE("dropout of a vector that becomes all zero stays zero", "[perturb]") {
  // One non-zero entry among two: whether it is dropped depends on the draw; either way no NaN.
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const std::vector<float> d = perturbed({0, 3}, Perturbation::dropout, seed);
    CHECK(zeros(d) >= 1);
    CHECK(std::isfinite(d[1]));
    CHECK((d[1] == 0.0f || d[1] == Approx(3.0f)));
  }
}

TEST_CASE("dropout-least zeroes the smaller half of the non-zero entries", "[perturb]") {
  // Non-zero 1 2 3 4 5 6: the three smallest go; 4 5 6 are rescaled to the norm sqrt(91).
  const std::vector<float> d = perturbed(kRelu, Perturbation::dropout_least);
  const double k = std::sqrt(91.0 / 77.0);
  const std::vector<float> want = {0, 0, 0, 0, 0, 0, float(4 * k), float(5 * k), 0, float(6 * k)};
  for (size_t i = 0; i < d.size(); ++i) CHECK(d[i] == Approx(want[i]).epsilon(1e-6));
  // By magnitude: -9 is not among the smallest.
  const std::vector<float> s = perturbed({-9, 1, 2, 0}, Perturbation::dropout_least);
  CHECK(s[1] == 0.0f);
  CHECK(s[0] < 0);
  CHECK(s[2] > 0);
}

TEST_CASE("binarize-dropout(-least) drop first, then binarize", "[perturb]") {
  const std::vector<float> bl = perturbed(kRelu, Perturbation::binarize_dropout_least);
  const float m = static_cast<float>(std::sqrt(91.0 / 3.0));
  const std::vector<float> want = {0, 0, 0, 0, 0, 0, m, m, 0, m};
  for (size_t i = 0; i < bl.size(); ++i) CHECK(bl[i] == Approx(want[i]).epsilon(1e-6));
  std::vector<float> v(40, 2.0f);
  const std::vector<float> bd = perturbed(v, Perturbation::binarize_dropout, 3);
  const std::vector<float> dd = perturbed(v, Perturbation::dropout, 3);
  for (size_t i = 0; i < v.size(); ++i) CHECK((bd[i] == 0.0f) == (dd[i] == 0.0f));  // the same draw
  CHECK(norm(bd) == Approx(norm(v)).epsilon(1e-6));
}

TEST_CASE("top5 keeps the five largest scores, drop-top5 zeroes them", "[perturb]") {
  const std::vector<float> v = {0.5f, -2, 7, 3, 3, -1, 9, 0, 8, 1};  // largest: 9 (6), 8 (8), 7 (2), 3 (3), 3 (4)
  const std::vector<float> t = perturbed(v, Perturbation::top5);
  CHECK(t == std::vector<float>{0, 0, 7, 3, 3, 0, 9, 0, 8, 0});
  const std::vector<float> d = perturbed(v, Perturbation::drop_top5);
  CHECK(d == std::vector<float>{0.5f, -2, 0, 0, 0, -1, 0, 0, 0, 1});
  // Ties at the boundary: the lower index wins.
  CHECK(perturbed({1, 1, 1, 1, 1, 1, 1}, Perturbation::top5) == std::vector<float>{1, 1, 1, 1, 1, 0, 0});
}

TEST_CASE("perturb_features treats each sample on its own stream", "[perturb]") {
  Tensor x = Tensor::empty(Shape{3, 2, 2, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = float(1 + i % 11);
  const Tensor y = solvers::perturb_features(x.view(), Perturbation::dropout, 9);
  for (int64_t s = 0; s < 3; ++s) {
    std::vector<float> v(x.data() + s * 20, x.data() + (s + 1) * 20);
    CHECK(std::vector<float>(y.data() + s * 20, y.data() + (s + 1) * 20) ==
          perturbed(v, Perturbation::dropout, 9, uint64_t(s)));
  }
  const Tensor none = solvers::perturb_features(x.view(), Perturbation::none, 9);
  CHECK(none.to_vector() == x.to_vector());
}

TEST_CASE("perturbation names parse, unknown ones are refused with the list", "[perturb]") {
  for (const std::string& n : solvers::perturbation_names())
    CHECK(solvers::perturbation_name(solvers::parse_perturbation(n)) == n);
  CHECK_THROWS_WITH(solvers::parse_perturbation("binarise"), Catch::Contains("binarize-dropout-least"));
}

TEST_CASE("one-hot features: one unit active, out-of-range units refused", "[perturb]") {
  const Tensor t = solvers::one_hot_features(Shape{1000}, 17, 4.5f);
  CHECK(t.shape() == Shape{1, 1000});
  CHECK(t.data()[17] == 4.5f);
  CHECK(zeros(t.to_vector()) == 999);
  CHECK(solvers::one_hot_features(Shape{256, 6, 6}, 0, 1).shape() == Shape{1, 256, 6, 6});
  CHECK_THROWS_WITH(solvers::one_hot_features(Shape{1000}, 1000, 1), Catch::Contains("out of range"));
}
