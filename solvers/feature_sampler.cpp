// Random feature vectors (solvers/feature_sampler.h).
#include "solvers/feature_sampler.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/rng.h"

namespace preimage::solvers {
namespace {

double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Phi^{-1}(p) for 0 < p < 1 by bisection on the CDF (to 1e-12; run once per fit).
double normal_quantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (normal_cdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

SamplerMethod parse_sampler_method(const std::string& name) {
  if (name == "histogram") return SamplerMethod::histogram;
  if (name == "gaussian") return SamplerMethod::gaussian;
  fail("unknown sampling method '", name, "'; choose histogram or gaussian");
}

FeatureSampler::FeatureSampler(const View& features, SamplerMethod method) : method_(method) {
  PI_CHECK(features.device == Device::cpu, "FeatureSampler: host features expected");
  PI_CHECK(features.shape.ndim() >= 2 && features.shape[0] >= 2, "random feature vectors need the features of at "
           "least 2 images to fit their distribution; got ", features.shape.str());
  images_ = features.shape[0];
  dims_ = features.numel() / images_;
  {
    std::vector<int64_t> dims;
    for (int i = 1; i < features.shape.ndim(); ++i) dims.push_back(features.shape[i]);
    sample_shape_ = Shape::of(dims.data(), int(dims.size()));
  }
  const float* x = features.data;
  int64_t zeros = 0;
  double sum_nz = 0, sum = 0, sum2 = 0;
  for (int64_t i = 0; i < images_ * dims_; ++i) {
    PI_CHECK(std::isfinite(x[i]), "random feature vectors: a feature value is not finite (image ", i / dims_,
             ", entry ", i % dims_, ")");
    zeros += x[i] == 0;
    if (x[i] != 0) sum_nz += x[i];
    sum += x[i];
    sum2 += double(x[i]) * x[i];
  }
  const double count = double(images_ * dims_);
  zero_fraction_ = double(zeros) / count;

  if (method_ == SamplerMethod::histogram) {
    p_nonzero_.assign(size_t(dims_), 0.0);
    lo_.assign(size_t(dims_), 0.0f);
    hi_.assign(size_t(dims_), 0.0f);
    cdf_.assign(size_t(dims_), std::vector<double>(kBins, 0.0));
    for (int64_t d = 0; d < dims_; ++d) {
      float lo = INFINITY, hi = -INFINITY;
      int64_t nz = 0;
      for (int64_t m = 0; m < images_; ++m) {
        const float v = x[m * dims_ + d];
        if (v == 0) continue;
        ++nz;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      p_nonzero_[size_t(d)] = double(nz) / double(images_);
      if (nz == 0) continue;
      lo_[size_t(d)] = lo;
      hi_[size_t(d)] = hi;
      std::vector<double>& c = cdf_[size_t(d)];
      for (int64_t m = 0; m < images_; ++m) {
        const float v = x[m * dims_ + d];
        if (v == 0) continue;
        const int b = hi > lo ? std::min(kBins - 1, int(double(v - lo) / double(hi - lo) * kBins)) : 0;
        c[size_t(b)] += 1.0 / double(nz);
      }
      for (int b = 1; b < kBins; ++b) c[size_t(b)] += c[size_t(b - 1)];
      c.back() = 1.0;
    }
  } else if (zeros == 0) {
    truncated_ = false;
    mu_ = sum / count;
    sigma_ = std::sqrt(std::max(0.0, sum2 / count - mu_ * mu_));
  } else {
    const int64_t nonzero = images_ * dims_ - zeros;
    PI_CHECK(nonzero > 0, "random feature vectors: every feature of the ", images_, " images is zero");
    const double m = sum_nz / double(nonzero);
    PI_CHECK(m > 0, "the truncated Gaussian models non-negative features (after a ReLU); these have zeros and a "
             "negative mean of the non-zero entries; use --method histogram");
    const double a = normal_quantile(zero_fraction_);
    sigma_ = m / (-a + normal_pdf(a) / (1 - normal_cdf(a)));
    mu_ = -a * sigma_;
  }
}

Tensor FeatureSampler::sample(int64_t n, uint64_t seed, double contrast) const {
  PI_CHECK(n >= 1, "the number of samples must be at least 1, got ", n);
  std::vector<int64_t> dims = {n};
  for (int i = 0; i < sample_shape_.ndim(); ++i) dims.push_back(sample_shape_[i]);
  Tensor out = Tensor::zeros(Shape::of(dims.data(), int(dims.size())));
  for (int64_t i = 0; i < n; ++i) {
    float* v = out.data() + i * dims_;
    const uint64_t stream = uint64_t(i);
    for (int64_t d = 0; d < dims_; ++d) {
      double value = 0;
      if (method_ == SamplerMethod::histogram) {
        // Three uniforms per dimension: non-zero?, which bin, where in the bin.
        const uint64_t c0 = 3 * uint64_t(d);
        if (philox_uniform(seed, c0, stream) >= p_nonzero_[size_t(d)]) continue;
        const std::vector<double>& cdf = cdf_[size_t(d)];
        const double u = philox_uniform(seed, c0 + 1, stream);
        const int b = int(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
        const double w = double(hi_[size_t(d)] - lo_[size_t(d)]) / kBins;
        value = lo_[size_t(d)] + (std::min(b, kBins - 1) + philox_uniform(seed, c0 + 2, stream)) * w;
      } else {
        value = mu_ + sigma_ * philox_normal(seed, uint64_t(d), stream);
        if (truncated_) value = std::max(0.0, value);
      }
      v[d] = static_cast<float>(contrast * value);
    }
  }
  return out;
}

nlohmann::json FeatureSampler::record() const {
  nlohmann::json r = {{"method", method_ == SamplerMethod::histogram ? "histogram" : "gaussian"},
                      {"images", images_}, {"dimensions", dims_}, {"zero_fraction", zero_fraction_}};
  if (method_ == SamplerMethod::histogram) {
    r["bins"] = kBins;
  } else {
    r["mu"] = mu_;
    r["sigma"] = sigma_;
    r["truncated_at_zero"] = truncated_;
  }
  return r;
}

}  // namespace preimage::solvers
