// Philox4x32-10: Random123 known-answer vectors, the (seed, counter) -> block mapping the CUDA side must copy, and
// the distribution of the derived uniforms and normals.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/rng.h"

using namespace preimage;

TEST_CASE("philox4x32_10 matches the Random123 known-answer vectors", "[rng]") {
  // Random123 kat_vectors, "philox4x32 10": counter[4] key[2] -> output[4]
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
      {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
       {0xffffffffu, 0xffffffffu},
       {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
      {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
       {0xa4093822u, 0x299f31d0u},
       {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
  };
  for (const Kat& k : kats) {
    const Philox4x32 r = philox4x32_10(Philox4x32{{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}}, k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i) CHECK(r.v[i] == k.out[i]);
  }
}

TEST_CASE("philox (seed, counter, stream) maps onto key and counter words as documented", "[rng]") {
  const uint64_t seed = 0x299f31d0a4093822ull, block = 0x85a308d3243f6a88ull, stream = 0x0370734413198a2eull;
  const Philox4x32 b = philox_block(seed, block, stream);
  // the third KAT vector: key {a4093822, 299f31d0}, counter {243f6a88, 85a308d3, 13198a2e, 03707344}
  CHECK(b.v[0] == 0xd16cfe09u);
  CHECK(b.v[3] == 0x24126ea1u);
  // uniform i uses word i % 4 of block i / 4, top 24 bits (a 64-bit counter reaches blocks below 2^62)
  const uint64_t small_block = block >> 2;
  const Philox4x32 sb = philox_block(seed, small_block, stream);
  for (uint32_t word = 0; word < 4; ++word) {
    const float u = philox_uniform(seed, small_block * 4 + word, stream);
    CHECK(u == static_cast<float>(sb.v[word] >> 8) / 16777216.0f);
  }
  // normal i uses words 2 (i % 2), 2 (i % 2) + 1 of block i / 2 (Box-Muller)
  for (uint32_t half = 0; half < 2; ++half) {
    const float u1 = static_cast<float>((sb.v[2 * half] >> 8) + 1) / 16777216.0f;
    const float u2 = static_cast<float>(sb.v[2 * half + 1] >> 8) / 16777216.0f;
    const double z = std::sqrt(-2.0 * std::log(double(u1))) * std::cos(6.283185307179586 * double(u2));
    CHECK(philox_normal(seed, small_block * 2 + half, stream) == Approx(z).epsilon(1e-5).margin(1e-5));
  }
  CHECK(philox_uniform(0, 0) == static_cast<float>(0x6627e8d5u >> 8) / 16777216.0f);
  // the bulk fill agrees with single draws from any starting counter
  std::vector<float> bulk(11);
  philox_fill_uniform(bulk.data(), 11, 42, 6, 3);
  for (uint64_t i = 0; i < 11; ++i) CHECK(bulk[i] == philox_uniform(42, 6 + i, 3));
  // distinct seeds and streams give distinct numbers
  CHECK(philox_uniform(1, 0) != philox_uniform(2, 0));
  CHECK(philox_uniform(1, 0, 0) != philox_uniform(1, 0, 1));
}

TEST_CASE("philox uniforms and normals have the right moments", "[rng]") {
  const int n = 200000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  float umin = 1, umax = 0;
  for (int i = 0; i < n; ++i) {
    const float u = philox_uniform(7, static_cast<uint64_t>(i));
    umin = std::min(umin, u);
    umax = std::max(umax, u);
    su += u;
    su2 += double(u) * u;
    const float z = philox_normal(7, static_cast<uint64_t>(i), 1);
    REQUIRE(std::isfinite(z));
    sn += z;
    sn2 += double(z) * z;
  }
  CHECK(umin >= 0.0f);
  CHECK(umax < 1.0f);
  // standard errors: uniform mean 0.29/sqrt(n) ~ 6.5e-4, normal mean 1/sqrt(n) ~ 2.2e-3, variance ~ 3.2e-3
  CHECK(std::abs(su / n - 0.5) < 5e-3);
  CHECK(std::abs(su2 / n - su / n * su / n - 1.0 / 12) < 2e-3);
  CHECK(std::abs(sn / n) < 1.5e-2);
  CHECK(std::abs(sn2 / n - 1.0) < 2e-2);
}
