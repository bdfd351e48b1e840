#pragma once
// Device-parity helpers for the [gpu] tests (DESIGN.md "Tests"): run an op on Device::cuda (the real GPU, or the
// emulated device in the PREIMAGE_CUDA_EMULATION build) and on the CPU reference, and compare
// |a - r| <= atol + rtol |r| elementwise.
#include <catch2/catch.hpp>

#include <vector>

#include "engine/shape.h"
#include "support.h"

namespace preimage::test {

// Small shapes with odd extents: partial blocks and warps, one element, and one that needs many blocks.
inline std::vector<Shape> parity_shapes() {
  return {Shape{1}, Shape{7}, Shape{2, 3, 5, 7}, Shape{3, 1, 17, 33}, Shape{1, 64, 33, 35}};
}

inline void require_close(const std::vector<float>& device, const std::vector<float>& reference, double atol,
                          double rtol) {
  REQUIRE(device.size() == reference.size());
  const double ratio = tolerance_ratio(device.data(), reference.data(), device.size(), atol, rtol);
  INFO("max |cuda - cpu| / (atol + rtol |cpu|) = " << ratio << " (atol " << atol << ", rtol " << rtol << ")");
  REQUIRE(ratio <= 1.0);
}

}  // namespace preimage::test
