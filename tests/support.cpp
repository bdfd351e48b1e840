#include "support.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>

#include "engine/error.h"

namespace preimage::test {

std::vector<double> random_vector(size_t n, uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }
std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

std::vector<float> flat(const std::vector<Tensor>& ts) {
  std::vector<float> out;
  for (const Tensor& t : ts) {
    const std::vector<float> v = t.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

Tensor random_tensor(const Shape& s, uint64_t seed, float lo, float hi) {
  return Tensor::from(to_float(random_vector(static_cast<size_t>(s.numel()), seed, lo, hi)), s);
}

GradCheckResult grad_check(const GradCheckOp& op, double eps, size_t max_elements, uint64_t seed) {
  const size_t nin = op.inputs.size();
  PI_CHECK(op.differentiable.size() == nin, "grad_check: differentiable flags do not match inputs");
  std::vector<std::vector<double>> x = op.inputs;
  const std::vector<double> c = random_vector(op.output_size, seed + 1000, -1.0, 1.0);

  auto pointers = [&]() {
    std::vector<const double*> p;
    for (auto& v : x) p.push_back(v.data());
    return p;
  };
  std::vector<double> y(op.output_size);
  auto objective = [&]() {
    op.forward(pointers(), y.data());
    double L = 0;
    for (size_t i = 0; i < y.size(); ++i) L += c[i] * y[i];
    return L;
  };

  std::vector<std::vector<double>> g(nin);
  std::vector<double*> gp(nin, nullptr);
  for (size_t i = 0; i < nin; ++i) {
    if (!op.differentiable[i]) continue;
    g[i].assign(x[i].size(), 0.0);
    gp[i] = g[i].data();
  }
  op.backward(pointers(), c.data(), gp);

  GradCheckResult r;
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < nin; ++i) {
    if (!op.differentiable[i]) continue;
    std::vector<size_t> idx(x[i].size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    if (idx.size() > max_elements) {
      std::shuffle(idx.begin(), idx.end(), rng);
      idx.resize(max_elements);
    }
    for (size_t e : idx) {
      if (op.near_kink && op.near_kink(i, e, eps)) {
        ++r.skipped;
        continue;
      }
      const double saved = x[i][e];
      x[i][e] = saved + eps;
      const double lp = objective();
      x[i][e] = saved - eps;
      const double lm = objective();
      x[i][e] = saved;
      const double numeric = (lp - lm) / (2 * eps);
      const double analytic = g[i][e];
      double err = std::abs(analytic - numeric) / std::max(std::abs(analytic), 1.0);
      if (!std::isfinite(err)) err = INFINITY;  // a NaN gradient must fail, not compare false
      ++r.checked;
      if (err > r.max_error || (std::isinf(err) && r.worst.empty())) {
        r.max_error = err;
        r.worst = "input " + std::to_string(i) + " element " + std::to_string(e) + ": analytic " +
                  std::to_string(analytic) + " numeric " + std::to_string(numeric);
      }
    }
  }
  return r;
}

Golden read_golden_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  PI_CHECK(f.good(), "golden file ", path, " is missing: build the golden_files target (needs /usr/bin/python3 "
           "with python3-torch)");
  f.seekg(0, std::ios::end);
  const int64_t file_size = static_cast<int64_t>(f.tellg());
  f.seekg(0);
  char magic[8];
  f.read(magic, 8);
  PI_CHECK(f && std::memcmp(magic, "PIGOLD01", 8) == 0, path, ": not a golden file (bad magic/version)");
  uint32_t count = 0;
  f.read(reinterpret_cast<char*>(&count), 4);
  PI_CHECK(f && count < 1000, path, ": bad tensor count");
  Golden g;
  for (uint32_t t = 0; t < count; ++t) {
    uint32_t len = 0;
    f.read(reinterpret_cast<char*>(&len), 4);
    PI_CHECK(f && len > 0 && len < 256, path, ": bad name length");
    std::string name(len, '\0');
    f.read(&name[0], len);
    uint32_t ndim = 0;
    f.read(reinterpret_cast<char*>(&ndim), 4);
    PI_CHECK(f && ndim <= 6, path, ": bad ndim for ", name);
    GoldenTensor gt;
    gt.dims.resize(ndim);
    if (ndim) f.read(reinterpret_cast<char*>(gt.dims.data()), 8 * ndim);
    int64_t n = 1;
    for (int64_t d : gt.dims) {
      PI_CHECK(d >= 0 && d < (int64_t{1} << 28) && (d == 0 || n <= (int64_t{1} << 28) / d), path,
               ": bad dimension for ", name);
      n *= d;
    }
    // Sizes are checked against the file before allocating (a 66-byte file declaring 2^28 values took 10 s to
    // fill; found by tests/fuzz/fuzz_golden).
    PI_CHECK(n < (int64_t{1} << 28) && 4 * n <= file_size - static_cast<int64_t>(f.tellg()), path, ": tensor ", name,
             " declares more values than the file holds");
    gt.data.resize(static_cast<size_t>(n));
    f.read(reinterpret_cast<char*>(gt.data.data()), 4 * n);
    PI_CHECK(f, path, ": truncated in tensor ", name);
    g[name] = std::move(gt);
  }
  return g;
}

Golden read_golden(const std::string& name) {
  return read_golden_file(std::string(PREIMAGE_GOLDEN_DIR) + "/" + name + ".bin");
}

Tensor golden_tensor(const Golden& g, const std::string& key) {
  auto it = g.find(key);
  PI_CHECK(it != g.end(), "golden file has no tensor '", key, "'");
  return Tensor::from(it->second.data, it->second.shape());
}

float golden_scalar(const Golden& g, const std::string& key) {
  auto it = g.find(key);
  PI_CHECK(it != g.end() && it->second.data.size() == 1, "golden file has no scalar '", key, "'");
  return it->second.data[0];
}

double tolerance_ratio(const float* a, const float* r, size_t n, double atol, double rtol) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::abs(static_cast<double>(a[i]) - r[i]);
    const double allowed = atol + rtol * std::abs(static_cast<double>(r[i]));
    worst = std::max(worst, std::isfinite(d) ? d / allowed : INFINITY);
  }
  return worst;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  PI_CHECK(a.size() == b.size(), "max_abs_diff: sizes differ");
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace preimage::test
