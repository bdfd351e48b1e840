#pragma once
// VLFeat's vl_fast_sqrt_f (mathop.h), which vl_dsift uses for gradient moduli and descriptor norms: x * (1/sqrt(x))
// with the 0x5f3759df initial guess refined by two Newton steps; 0 below 1e-8. Shared by the DSIFT reference and
// its fast paths so that both reproduce libvl bit for bit.
#include <cstdint>
#include <cstring>

namespace preimage::kernels {

inline float vl_sqrt_approx(float x) {
  if (static_cast<double>(x) < 1e-8) return 0.0f;
  const float half_x = 0.5f * x;
  int32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits = 0x5f3759df - (bits >> 1);
  float y;
  std::memcpy(&y, &bits, sizeof y);
  y = y * (1.5f - half_x * y * y);
  y = y * (1.5f - half_x * y * y);
  return x * y;
}

}  // namespace preimage::kernels
