// Host side of engine/rng.h: Box-Muller normals and bulk uniform fills over the Philox4x32-10 block function.
#include "engine/rng.h"

#include <cmath>

namespace preimage {

float philox_normal(uint64_t seed, uint64_t counter, uint64_t stream) {
  const Philox4x32 b = philox_block(seed, counter >> 1, stream);
  const unsigned pair = static_cast<unsigned>(counter & 1u) * 2u;
  // u1 in (0, 1] keeps log finite; float arithmetic so a CUDA kernel using logf/cosf/sqrtf matches to an ulp or two.
  const float u1 = static_cast<float>((b.v[pair] >> 8) + 1u) * (1.0f / 16777216.0f);
  const float u2 = philox_word_to_uniform(b.v[pair + 1]);
  const float two_pi = 6.28318530717958647692f;
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(two_pi * u2);
}

void philox_fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t first_counter, uint64_t stream) {
  // out[n]; one block serves four consecutive counters, so draw it once per group.
  int64_t i = 0;
  while (i < n) {
    const uint64_t counter = first_counter + static_cast<uint64_t>(i);
    const Philox4x32 b = philox_block(seed, counter >> 2, stream);
    for (unsigned word = static_cast<unsigned>(counter & 3u); word < 4 && i < n; ++word, ++i)
      out[i] = philox_word_to_uniform(b.v[word]);
  }
}

}  // namespace preimage
