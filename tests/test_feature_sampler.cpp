// Random feature vectors (solvers/feature_sampler.h, seed 002 sect. 4.5): the histogram sampler reproduces known
// marginals and per-dimension sparsity, the truncated Gaussian recovers the parameters of data drawn from it,
// contrast scales, and samples depend on (seed, index) only.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "engine/error.h"
#include "engine/rng.h"
#include "solvers/feature_sampler.h"

using namespace preimage;
using solvers::FeatureSampler;
using solvers::SamplerMethod;

namespace {
struct Column {
  int64_t nonzero = 0;
  double sum = 0, min = INFINITY, max = -INFINITY, below = 0;  // below: count of non-zero values < threshold
};
Column column(const Tensor& s, int64_t d, double threshold = 0) {
  Column c;
  const int64_t n = s.shape()[0], dims = s.numel() / n;
  for (int64_t i = 0; i < n; ++i) {
    const double v = s.data()[i * dims + d];
    if (v == 0) continue;
    ++c.nonzero;
    c.sum += v;
    c.min = std::min(c.min, v);
    c.max = std::max(c.max, v);
    c.below += v < threshold;
  }
  return c;
}
}  // namespace

TEST_CASE("histogram sampler: per-dimension sparsity and marginals of a known distribution", "[sampler]") {
  // 4000 "images" of 3 dimensions ([M, 3, 1, 1]): d0 non-zero w.p. 0.3, then uniform(1, 2); d1 always non-zero,
  // uniform(0, 10) squared / 10 (skewed: P(v < 2.5) = 0.5); d2 always zero.
  const int64_t m = 4000;
  Tensor x = Tensor::zeros(Shape{m, 3, 1, 1});
  for (int64_t i = 0; i < m; ++i) {
    if (philox_uniform(11, uint64_t(3 * i)) < 0.3f) x.data()[3 * i] = 1 + philox_uniform(11, uint64_t(3 * i + 1));
    const double u = 1e-6 + 10 * double(philox_uniform(11, uint64_t(3 * i + 2)));
    x.data()[3 * i + 1] = float(u * u / 10);
  }
  const FeatureSampler fs(x.view(), SamplerMethod::histogram);
  const int64_t n = 20000;
  const Tensor s = fs.sample(n, 5, 1.0);
  CHECK(s.shape() == Shape{n, 3, 1, 1});
  const Column c0 = column(s, 0), c1 = column(s, 1, 2.5), c2 = column(s, 2);
  const Column r0 = column(x, 0);
  // Sparsity as in the data (binomial sd of the fraction: 0.0032 at n = 20000).
  CHECK(double(c0.nonzero) / n == Approx(double(r0.nonzero) / m).margin(0.015));
  CHECK(c1.nonzero == n);
  CHECK(c2.nonzero == 0);
  // Values stay in the data's range and follow its shape: the data's mean of d0 (uniform(1, 2): 1.5 within its
  // sd 0.008), the skewed one's median 2.5 (32 bins over [0, 10] are 0.31 wide: the bin holding 2.5 moves the
  // fraction by at most its mass, ~0.02).
  CHECK(c0.min >= r0.min);
  CHECK(c0.max <= r0.max);
  INFO("data mean of d0 " << r0.sum / double(r0.nonzero));
  CHECK(r0.sum / double(r0.nonzero) == Approx(1.5).margin(0.03));
  CHECK(c0.sum / double(c0.nonzero) == Approx(r0.sum / double(r0.nonzero)).margin(0.01));
  CHECK(c1.below / double(n) == Approx(0.5).margin(0.03));
  CHECK(c1.sum / double(n) == Approx(column(x, 1).sum / double(m)).epsilon(0.03));
}

TEST_CASE("samples depend on (seed, index) only; contrast scales them", "[sampler]") {
  Tensor x = Tensor::zeros(Shape{50, 8});
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = (i % 3 == 0) ? 0.0f : float(i % 7);
  for (SamplerMethod method : {SamplerMethod::histogram, SamplerMethod::gaussian}) {
    const FeatureSampler fs(x.view(), method);
    const Tensor a = fs.sample(5, 3, 1.0), b = fs.sample(2, 3, 1.0), c = fs.sample(5, 3, 2.0), d = fs.sample(5, 4, 1.0);
    CHECK(std::vector<float>(a.data(), a.data() + 16) == b.to_vector());
    for (int64_t i = 0; i < a.numel(); ++i) CHECK(c.data()[i] == 2 * a.data()[i]);
    CHECK(a.to_vector() != d.to_vector());
  }
}

TEST_CASE("truncated Gaussian: recovers mu and sigma of max(0, N(mu, sigma^2)) data", "[sampler]") {
  // mu 1, sigma 2: P(0) = Phi(-0.5) = 0.309.
  const int64_t m = 2000, dims = 16;
  Tensor x = Tensor::empty(Shape{m, dims});
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::max(0.0f, 1 + 2 * philox_normal(21, uint64_t(i)));
  const FeatureSampler fs(x.view(), SamplerMethod::gaussian);
  const nlohmann::json r = fs.record();
  CHECK(r["zero_fraction"].get<double>() == Approx(0.3085).margin(0.01));
  CHECK(r["mu"].get<double>() == Approx(1.0).margin(0.06));
  CHECK(r["sigma"].get<double>() == Approx(2.0).margin(0.06));
  CHECK(r["truncated_at_zero"].get<bool>());
  const Tensor s = fs.sample(4000, 1, 1.0);
  int64_t zeros = 0;
  for (int64_t i = 0; i < s.numel(); ++i) zeros += s.data()[i] == 0;
  CHECK(double(zeros) / double(s.numel()) == Approx(r["zero_fraction"].get<double>()).margin(0.01));
}

TEST_CASE("Gaussian sampler of signed features without zeros is the plain Gaussian", "[sampler]") {
  Tensor x = Tensor::empty(Shape{1000, 10});
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = -3 + 0.5f * philox_normal(4, uint64_t(i));
  const FeatureSampler fs(x.view(), SamplerMethod::gaussian);
  CHECK_FALSE(fs.record()["truncated_at_zero"].get<bool>());
  CHECK(fs.record()["mu"].get<double>() == Approx(-3).margin(0.02));
  CHECK(fs.record()["sigma"].get<double>() == Approx(0.5).margin(0.02));
}

TEST_CASE("feature sampler refuses what it cannot fit", "[sampler]") {
  const Tensor one = Tensor::zeros(Shape{1, 4});
  CHECK_THROWS_WITH(FeatureSampler(one.view(), SamplerMethod::histogram), Catch::Contains("at least 2 images"));
  const Tensor zeros = Tensor::zeros(Shape{3, 4});
  CHECK_THROWS_WITH(FeatureSampler(zeros.view(), SamplerMethod::gaussian), Catch::Contains("every feature"));
  CHECK_THROWS_WITH(solvers::parse_sampler_method("uniform"), Catch::Contains("histogram or gaussian"));
}
