//===- DataTest.cpp - binarization draws ----------------------------------===//

#include "runtime/Data.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

using namespace vae;

TEST_CASE("static binarization is one fixed draw and dynamic a fresh draw per step",
          "[data]") {
  Dataset data = Dataset::fromBytes("t", Element::U8, 2, 4000,
                                    std::vector<uint8_t>(8000, 64)); // p = 64/255
  Dataset again = data;
  data.binarizeStatically(0);
  again.binarizeStatically(0);
  auto values = [](const Dataset &d) { return std::vector<uint8_t>(d.bytes(), d.bytes() + 8000); };
  std::vector<uint8_t> pixels = values(data);
  CHECK(pixels == values(again));
  size_t ones = 0;
  for (uint8_t v : pixels) {
    REQUIRE((v == 0 || v == 255));
    ones += v == 255;
  }
  double fraction = double(ones) / double(pixels.size());
  CHECK(fraction == Approx(64.0 / 255.0).margin(0.02));
  // Two examples of equal intensities binarize differently.
  CHECK_FALSE(std::equal(pixels.begin(), pixels.begin() + 4000, pixels.begin() + 4000));

  std::vector<float> a(4000, 0.75f), b = a, c = a;
  binarizeDynamically(a.data(), a.size(), 1, 0, 0);
  binarizeDynamically(b.data(), b.size(), 1, 0, 0);
  binarizeDynamically(c.data(), c.size(), 1, 0, 1);
  CHECK(a == b);
  CHECK(a != c);
  double mean = std::accumulate(a.begin(), a.end(), 0.0) / double(a.size());
  CHECK(mean == Approx(0.75).margin(0.03));
}

TEST_CASE("a slice of a noise or binarization stream draws what the whole stream does",
          "[data]") {
  // A rank's share of a global batch, an example of an evaluation batch:
  // offsets that are no multiple of Philox's four lanes included.
  std::vector<float> whole(1000);
  fillNoise(whole, 7, 3, 11);
  for (size_t first : {0, 1, 2, 3, 4, 5, 60, 997}) {
    std::vector<float> slice(std::min<size_t>(37, whole.size() - first));
    fillNoise(slice, 7, 3, 11, first);
    CHECK(std::equal(slice.begin(), slice.end(), whole.begin() + long(first)));
  }
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i % 17) / 16.0f;
  std::vector<float> binarized = x;
  binarizeDynamically(binarized.data(), binarized.size(), 7, 3, 11);
  for (size_t first : {0, 3, 5, 998}) {
    std::vector<float> slice(x.begin() + long(first), x.end());
    binarizeDynamically(slice.data(), slice.size(), 7, 3, 11, first);
    CHECK(std::equal(slice.begin(), slice.end(), binarized.begin() + long(first)));
  }
}
