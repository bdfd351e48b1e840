#pragma once
// Random feature vectors (seed 002 sect. 4.5, Fig. 11; seed 003 Figs. 8-10): the distribution of a layer's
// features is unknown, so each dimension is modelled on its own (independence is a strong and wrong assumption,
// the paper says so) from the features of a set of real images, and the samples are decoded.
//
//   histogram  per dimension d: p_d = the fraction of the images whose entry d is non-zero (so the samples have
//              the real vectors' sparsity, per dimension and on average), and a histogram of its non-zero values
//              (kBins equal bins between their min and max). A sample's entry d is non-zero with probability p_d,
//              then drawn from the histogram: a bin by its count, a value uniform within the bin.
//   gaussian   one shifted, truncated Gaussian for all dimensions: x = max(0, N(mu, sigma^2)), with mu and sigma
//              chosen so that P(x = 0) equals the real fraction of zero entries z and E[x | x > 0] equals the real
//              mean of the non-zero entries m: with a = Phi^{-1}(z), mu = -a sigma and
//              sigma = m / (-a + phi(a) / (1 - Phi(a))). Features without zeros (FC8 scores, signed) get the
//              plain Gaussian of all entries' mean and standard deviation.
//
// Each sample is then multiplied by `contrast` (the paper's alpha = 2: independent sampling gives low contrast).
// Sample i draws from Philox(seed, stream = i) only: the same seed gives the same vectors in any order or count.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"

namespace preimage::solvers {

enum class SamplerMethod { histogram, gaussian };
SamplerMethod parse_sampler_method(const std::string& name);  // "histogram" | "gaussian"; throws otherwise

class FeatureSampler {
 public:
  static constexpr int kBins = 32;

  // features: [M, ...] host, M >= 2 real vectors (each sample of the batch is one flattened vector).
  FeatureSampler(const View& features, SamplerMethod method);

  // n vectors shaped like one input sample, [n, ...] (the input's trailing dimensions).
  Tensor sample(int64_t n, uint64_t seed, double contrast) const;

  // Fit statistics for metrics.json: images, dimensions, real sparsity (fraction of zero entries) and the
  // parameters of the chosen method.
  nlohmann::json record() const;

 private:
  SamplerMethod method_;
  Shape sample_shape_;                 // without the batch dimension
  int64_t images_ = 0, dims_ = 0;
  double zero_fraction_ = 0;
  // histogram
  std::vector<double> p_nonzero_;      // [D]
  std::vector<float> lo_, hi_;         // [D] range of the non-zero values
  std::vector<std::vector<double>> cdf_;  // [D][kBins] cumulative bin probabilities
  // gaussian
  double mu_ = 0, sigma_ = 0;
  bool truncated_ = true;
};

}  // namespace preimage::solvers
