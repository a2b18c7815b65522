//===- vae/philox.h - Philox4x32-10 counter-based RNG -----------*- C++ -*-===//
//
// Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11). The
// same function is generated into every model's vae_init_params, so a seed
// gives the same weights on every machine; the runtime uses it for noise and
// shuffling.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_PHILOX_H
#define VAE_PHILOX_H

#include <array>
#include <cstdint>

namespace vae {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
inline constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

inline PhiloxCounter philox4x32_10(PhiloxCounter c, PhiloxKey k) {
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t{kPhiloxM0} * c[0];
    uint64_t p1 = uint64_t{kPhiloxM1} * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k[0], uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k[1],
         uint32_t(p0)};
    k = {k[0] + kPhiloxW0, k[1] + kPhiloxW1};
  }
  return c;
}

/// The top 24 bits as a float in [0, 1).
inline float uniformFloat(uint32_t bits) { return float(bits >> 8) * (1.0f / 16777216.0f); }

/// Parameter `paramIndex`, element `element`, as vae_init_params draws it:
/// counter (element, paramIndex, 0, 0), key (seed low, seed high), first word.
inline float initUniform(uint64_t seed, uint32_t paramIndex, uint32_t element, float bound) {
  PhiloxCounter out =
      philox4x32_10({element, paramIndex, 0, 0}, {uint32_t(seed), uint32_t(seed >> 32)});
  return bound * (2.0f * uniformFloat(out[0]) - 1.0f);
}

} // namespace vae

#endif // VAE_PHILOX_H
