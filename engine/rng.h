#pragma once
// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11;
// the Random123 reference). A draw is a pure function of (key, counter), so a CPU loop and a CUDA kernel that index
// the same counters get the same bits, in any order and any thread layout (design decision 7).
//
// The block function (everything below is header-inline and marked PI_HOST_DEVICE so a .cu file can include it):
//   multipliers M0 = 0xD2511F53, M1 = 0xCD9E8D57; Weyl key increments W0 = 0x9E3779B9, W1 = 0xBB67AE85.
//   one round on counter c[4] with key k[2]:
//     (hi0, lo0) = M0 * c[0] (64-bit product split), (hi1, lo1) = M1 * c[2]
//     c = { hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0 }
//   10 rounds; the key is bumped by (W0, W1) between consecutive rounds (9 bumps).
//   Known answer (Random123 kat_vectors): counter 0, key 0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
//
// How the engine maps a (seed, index) stream onto blocks -- a CUDA kernel must do exactly this:
//   key     = { low 32 bits of seed, high 32 bits of seed }
//   counter = { low 32 bits of block, high 32 bits of block, low 32 of stream, high 32 of stream }
//   uniform number i of (seed, stream): block = i / 4, word = i % 4 of that block's output,
//                                       value = (word >> 8) * 2^-24  (exact in float, in [0, 1 - 2^-24])
//   normal number i of (seed, stream):  block = i / 2, words 2*(i%2) and 2*(i%2)+1 = (a, b),
//                                       u1 = ((a >> 8) + 1) * 2^-24 in (0, 1], u2 = (b >> 8) * 2^-24,
//                                       value = sqrt(-2 ln u1) * cos(2 pi u2)   (Box-Muller, float arithmetic)
// Uniforms are bit-identical on every device. Normals go through logf/cosf/sqrtf, which CUDA and the host libm
// round differently by an ulp or two; compare them with a tolerance.
// Uniform and normal streams with the same (seed, stream) reuse the same blocks: give independent draws
// different streams (or seeds).
#include <array>
#include <cstdint>

#if defined(__CUDACC__)
#define PI_HOST_DEVICE __host__ __device__
#else
#define PI_HOST_DEVICE
#endif

namespace preimage {

struct Philox4x32 {
  uint32_t v[4];
};

PI_HOST_DEVICE inline Philox4x32 philox4x32_10(Philox4x32 ctr, uint32_t key0, uint32_t key1) {
  const uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
  const uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += w0;
      key1 += w1;
    }
    const uint64_t p0 = static_cast<uint64_t>(m0) * ctr.v[0];
    const uint64_t p1 = static_cast<uint64_t>(m1) * ctr.v[2];
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    ctr = Philox4x32{{hi1 ^ ctr.v[1] ^ key0, lo1, hi0 ^ ctr.v[3] ^ key1, lo0}};
  }
  return ctr;
}

// The four words of block `block` of the (seed, stream) sequence.
PI_HOST_DEVICE inline Philox4x32 philox_block(uint64_t seed, uint64_t block, uint64_t stream = 0) {
  const Philox4x32 ctr{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                        static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)}};
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// 24 random bits scaled to [0, 1): every value is a float exactly, so thresholds compare the same everywhere.
PI_HOST_DEVICE inline float philox_word_to_uniform(uint32_t word) {
  return static_cast<float>(word >> 8) * (1.0f / 16777216.0f);
}

// Uniform number `counter` of the (seed, stream) sequence, in [0, 1).
PI_HOST_DEVICE inline float philox_uniform(uint64_t seed, uint64_t counter, uint64_t stream = 0) {
  const Philox4x32 b = philox_block(seed, counter >> 2, stream);
  return philox_word_to_uniform(b.v[counter & 3u]);
}

// Standard normal number `counter` of the (seed, stream) sequence (host version; see the header comment).
float philox_normal(uint64_t seed, uint64_t counter, uint64_t stream = 0);

// Fills out[0..n) with uniforms first_counter, first_counter + 1, ... of (seed, stream).
void philox_fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t first_counter = 0, uint64_t stream = 0);

}  // namespace preimage
