// Perturbed feature vectors (solvers/feature_perturb.h).
#include "solvers/feature_perturb.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "engine/rng.h"

namespace preimage::solvers {
namespace {

double norm_of(const float* v, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(v[i]) * v[i];
  return std::sqrt(s);
}

void rescale_to(float* v, int64_t n, double norm) {
  const double now = norm_of(v, n);
  if (now == 0) return;
  const double k = norm / now;
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(v[i] * k);
}

void binarize(float* v, int64_t n) {
  int64_t nnz = 0;
  for (int64_t i = 0; i < n; ++i) nnz += v[i] != 0;
  if (nnz == 0) return;
  const float m = static_cast<float>(norm_of(v, n) / std::sqrt(double(nnz)));
  for (int64_t i = 0; i < n; ++i) v[i] = v[i] > 0 ? m : v[i] < 0 ? -m : 0.0f;
}

// floor(n / 2) of the n indices, uniformly at random: a partial Fisher-Yates shuffle on Philox(seed, sample).
void dropout_random(float* v, int64_t n, uint64_t seed, uint64_t sample) {
  const double norm = norm_of(v, n);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  const int64_t drop = n / 2;
  for (int64_t k = 0; k < drop; ++k) {
    const double u = philox_uniform(seed, uint64_t(k), sample);  // [0, 1)
    const int64_t j = k + std::min(n - k - 1, static_cast<int64_t>(u * double(n - k)));
    std::swap(idx[size_t(k)], idx[size_t(j)]);
    v[idx[size_t(k)]] = 0.0f;
  }
  rescale_to(v, n, norm);
}

// Indices ordered by |v| (ties by index), smallest first.
std::vector<int64_t> order_by_magnitude(const float* v, int64_t n) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  std::stable_sort(idx.begin(), idx.end(), [v](int64_t a, int64_t b) { return std::abs(v[a]) < std::abs(v[b]); });
  return idx;
}

void dropout_least(float* v, int64_t n) {
  const double norm = norm_of(v, n);
  std::vector<int64_t> nonzero;
  for (int64_t i : order_by_magnitude(v, n))
    if (v[i] != 0) nonzero.push_back(i);
  const size_t drop = nonzero.size() / 2;
  for (size_t k = 0; k < drop; ++k) v[nonzero[k]] = 0.0f;
  rescale_to(v, n, norm);
}

// The 5 largest entries by value (FC8 scores are signed: "largest" means the top predictions), ties by index.
std::vector<int64_t> top5_of(const float* v, int64_t n) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  const size_t k = static_cast<size_t>(std::min<int64_t>(5, n));
  std::partial_sort(idx.begin(), idx.begin() + long(k), idx.end(),
                    [v](int64_t a, int64_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  idx.resize(k);
  return idx;
}

}  // namespace

const std::vector<std::string>& perturbation_names() {
  static const std::vector<std::string> names = {"none", "binarize", "dropout", "dropout-least",
                                                 "binarize-dropout", "binarize-dropout-least", "top5", "drop-top5"};
  return names;
}

Perturbation parse_perturbation(const std::string& name) {
  const std::vector<std::string>& names = perturbation_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    std::string all;
    for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
    fail("unknown perturbation '", name, "'; choose one of ", all);
  }
  return static_cast<Perturbation>(it - names.begin());
}

std::string perturbation_name(Perturbation p) { return perturbation_names()[static_cast<size_t>(p)]; }

void perturb_vector(float* v, int64_t n, Perturbation p, uint64_t seed, uint64_t sample) {
  switch (p) {
    case Perturbation::none: return;
    case Perturbation::binarize: binarize(v, n); return;
    case Perturbation::dropout: dropout_random(v, n, seed, sample); return;
    case Perturbation::dropout_least: dropout_least(v, n); return;
    case Perturbation::binarize_dropout: dropout_random(v, n, seed, sample); binarize(v, n); return;
    case Perturbation::binarize_dropout_least: dropout_least(v, n); binarize(v, n); return;
    case Perturbation::top5: {
      const std::vector<int64_t> keep = top5_of(v, n);
      std::vector<float> kept;
      for (int64_t i : keep) kept.push_back(v[i]);
      std::fill(v, v + n, 0.0f);
      for (size_t k = 0; k < keep.size(); ++k) v[keep[k]] = kept[k];
      return;
    }
    case Perturbation::drop_top5:
      for (int64_t i : top5_of(v, n)) v[i] = 0.0f;
      return;
  }
}

Tensor perturb_features(const View& features, Perturbation p, uint64_t seed) {
  PI_CHECK(features.device == Device::cpu, "perturb_features: host features expected");
  PI_CHECK(features.shape.ndim() >= 2, "perturb_features: a batch [N, ...] expected, got ", features.shape.str());
  Tensor out = Tensor::copy_of(features);
  const int64_t n = features.shape[0], d = features.numel() / std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; ++i) perturb_vector(out.data() + i * d, d, p, seed, uint64_t(i));
  return out;
}

Tensor one_hot_features(const Shape& shape, int64_t unit, float value) {
  const int64_t d = shape.numel();
  PI_CHECK(unit >= 0 && unit < d, "unit ", unit, " is out of range: the features have ", d, " entries ",
           shape.str(), " (give 0 ... ", d - 1, ")");
  Shape batch;
  {
    std::vector<int64_t> dims = {1};
    for (int i = 0; i < shape.ndim(); ++i) dims.push_back(shape[i]);
    batch = Shape::of(dims.data(), int(dims.size()));
  }
  Tensor t = Tensor::zeros(batch);
  t.data()[unit] = value;
  return t;
}

}  // namespace preimage::solvers
