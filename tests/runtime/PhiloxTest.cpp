//===- PhiloxTest.cpp - Philox4x32-10 against published answers ----------===//

#include "vae/philox.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace vae;

// Known-answer vectors of Random123 (kat_vectors, philox4x32 10 rounds).
TEST_CASE("Philox4x32-10 matches the Random123 known answers", "[rng]") {
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) ==
        PhiloxCounter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                      {0xffffffffu, 0xffffffffu}) ==
        PhiloxCounter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                      {0xa4093822u, 0x299f31d0u}) ==
        PhiloxCounter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("initUniform stays inside the bound and is centred", "[rng]") {
  const float bound = 0.05f;
  double sum = 0;
  for (uint32_t i = 0; i < 100000; ++i) {
    float v = initUniform(7, 3, i, bound);
    REQUIRE(std::fabs(v) <= bound);
    sum += v;
  }
  // Uniform(-b, b) has standard deviation b/sqrt(3); the mean of 1e5 draws
  // is within 5 standard errors of 0.
  CHECK(std::fabs(sum / 100000) < 5 * bound / std::sqrt(3.0) / std::sqrt(1e5));
}
