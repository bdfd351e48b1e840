#pragma once
// Shared test support: deterministic random data, double-precision finite-difference gradient checks of the CPU
// references, golden-file reading, and tolerance comparisons.
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace preimage::test {

// Uniform values in [lo, hi), reproducible from `seed`.
std::vector<double> random_vector(size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0);
std::vector<float> to_float(const std::vector<double>& v);
std::vector<double> to_double(const std::vector<float>& v);
Tensor random_tensor(const Shape& s, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
// The values of several tensors one after another (parameter lists compared bit for bit).
std::vector<float> flat(const std::vector<Tensor>& ts);

// ---- gradient check (DESIGN.md "Tests") ----
// The op under test maps inputs (flat double buffers) to one output buffer. The check uses the objective
// L = sum_i c_i * f(x)_i with random c, compares the analytic gradient (backward called with d_y = c, which must
// ACCUMULATE into zeroed d_inputs) with central differences, and scales the error by max(|g|, 1).
struct GradCheckOp {
  std::vector<std::vector<double>> inputs;        // values at which to check
  std::vector<bool> differentiable;               // per input; false = constant (not checked)
  size_t output_size = 0;
  std::function<void(const std::vector<const double*>& x, double* y)> forward;
  std::function<void(const std::vector<const double*>& x, const double* d_y, const std::vector<double*>& d_x)>
      backward;
  // Optional: true if element `e` of input `i` lies within `eps` of a kink of the function (max-pool ties, relu
  // at 0, clamps). Such elements are skipped and counted.
  std::function<bool(size_t input, size_t element, double eps)> near_kink;
};
struct GradCheckResult {
  double max_error = 0;  // max over checked elements of |analytic - numeric| / max(|analytic|, 1)
  size_t checked = 0;
  size_t skipped = 0;
  std::string worst;     // where the max error occurred
};
// Checks every element when an input has <= max_elements, else a random subset of that size.
GradCheckResult grad_check(const GradCheckOp& op, double eps = 1e-6, size_t max_elements = 400,
                           uint64_t seed = 7);

// ---- golden files (tests/golden/make_golden.py) ----
// Format: "PIGOLD" magic (8 bytes incl. version "01"), uint32 count, then per tensor: uint32 name length, name,
// uint32 ndim, int64 dims[ndim], float32 data (little endian).
struct GoldenTensor {
  std::vector<int64_t> dims;
  std::vector<float> data;
  Shape shape() const { return Shape::of(dims.data(), static_cast<int>(dims.size())); }
};
using Golden = std::map<std::string, GoldenTensor>;
Golden read_golden(const std::string& name);   // PREIMAGE_GOLDEN_DIR/<name>.bin; throws on a malformed file
Golden read_golden_file(const std::string& path);
Tensor golden_tensor(const Golden& g, const std::string& key);
float golden_scalar(const Golden& g, const std::string& key);

// max |a - r| / (atol + rtol |r|): <= 1 means within tolerance.
double tolerance_ratio(const float* a, const float* r, size_t n, double atol, double rtol);
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace preimage::test
