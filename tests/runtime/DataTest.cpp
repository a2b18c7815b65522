//===- DataTest.cpp - binarization draws ----------------------------------===//

#include "runtime/Data.h"

#include <catch2/catch.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

using namespace vae;

TEST_CASE("static binarization is one fixed draw and dynamic a fresh draw per step", "[data]") {
  Dataset data =
      Dataset::fromBytes("t", Element::U8, 2, 4000, std::vector<uint8_t>(8000, 64)); // p = 64/255
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

TEST_CASE("a slice of a noise or binarization stream draws what the whole stream does", "[data]") {
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

namespace {

std::string tempPath(const std::string &name) { return std::string(VAE_TEST_TMP) + "/" + name; }

void writeText(const std::string &path, const std::string &text) { std::ofstream(path) << text; }

/// `values` as a .npy file of `shape`, written by xtensor.
template <typename T>
void dumpNpy(const std::string &name, std::vector<T> values, std::vector<size_t> shape) {
  xt::dump_npy(tempPath(name), xt::adapt(values, shape));
}

/// 0, step, 2 step, ... (n values).
template <typename T> std::vector<T> ramp(size_t n, T step) {
  std::vector<T> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = T(i) * step;
  return values;
}

} // namespace

TEST_CASE(".npy files round-trip through xtensor, memory-mapped", "[data]") {
  std::string error;
  std::vector<float> f32 = ramp(30, 1.0f / 29.0f);
  dumpNpy("f32.npy", f32, {5, 2, 3});
  Dataset data;
  REQUIRE(Dataset::load(tempPath("f32.npy"), 0, "", data, error));
  CHECK(data.isMapped());
  CHECK(data.element == Element::F32);
  CHECK(data.count == 5);
  CHECK(data.size == 6);
  CHECK(data.exampleShape == std::vector<size_t>{2, 3});
  for (size_t i = 0; i < 5; ++i)
    for (size_t j = 0; j < 6; ++j)
      CHECK(data.value(i, j) == f32[i * 6 + j]);

  dumpNpy("u8.npy", ramp<uint8_t>(12, 20), {4, 3});
  REQUIRE(Dataset::load(tempPath("u8.npy"), 3, "", data, error)); // --limit 3
  CHECK(data.count == 3);
  CHECK(data.value(2, 1) == 140.0f / 255.0f);
  std::vector<float> x(2 * 3);
  uint32_t rows[2] = {2, 0};
  gather(data, rows, 2, x);
  CHECK(x ==
        std::vector<float>{120 / 255.0f, 140 / 255.0f, 160 / 255.0f, 0, 20 / 255.0f, 40 / 255.0f});

  dumpNpy("f64.npy", ramp(8, 0.125), {2, 4});
  REQUIRE(Dataset::load(tempPath("f64.npy"), 0, "", data, error));
  CHECK(data.element == Element::F64);
  CHECK(data.value(1, 3) == 0.875f);
  // A static binarization writes its copy of the pages, never the file.
  data.binarizeStatically(0);
  Dataset again;
  REQUIRE(Dataset::load(tempPath("f64.npy"), 0, "", again, error));
  CHECK(again.value(1, 3) == 0.875f);
}

TEST_CASE("bad .npy files are refused naming the element", "[data]") {
  std::string error;
  Dataset data;
  std::vector<float> nan(24, 0.0f);
  nan[3 * 6 + 1 * 3 + 2] = std::nanf("");
  dumpNpy("nan.npy", nan, {4, 2, 3});
  CHECK_FALSE(Dataset::load(tempPath("nan.npy"), 0, "", data, error));
  CHECK_THAT(error, Catch::Contains("nan.npy': x[3, 1, 2] (example 3) is NaN"));
  CHECK(Dataset::load(tempPath("nan.npy"), 3, "", data, error)); // not among the first 3

  dumpNpy("i64.npy", std::vector<int64_t>(4), {2, 2});
  CHECK_FALSE(Dataset::load(tempPath("i64.npy"), 0, "", data, error));
  CHECK_THAT(error, Catch::Contains("<i8"));
  dumpNpy("vector.npy", std::vector<float>(7), {7});
  CHECK_FALSE(Dataset::load(tempPath("vector.npy"), 0, "", data, error));
  CHECK_THAT(error, Catch::Contains("[N, ...]"));
  writeText(tempPath("text.npy"), "not numpy at all");
  CHECK_FALSE(Dataset::load(tempPath("text.npy"), 0, "", data, error));
  CHECK_THAT(error, Catch::Contains("is not a NumPy .npy file"));
}

TEST_CASE("CSV files: a header, a label column, and each bad cell located", "[data]") {
  std::string error;
  Dataset data;
  writeText(tempPath("ok.csv"), "a,label,b\n0.5, 3 ,1e-1\n# a comment\n\n-2,7,4\n");
  bool loaded = Dataset::load(tempPath("ok.csv"), 0, "label", data, error);
  INFO(error);
  REQUIRE(loaded);
  CHECK(data.count == 2);
  CHECK(data.size == 2);
  CHECK(data.labels == std::vector<int32_t>{3, 7});
  CHECK(data.value(0, 0) == 0.5f);
  CHECK(data.value(0, 1) == 0.1f);
  CHECK(data.value(1, 0) == -2.0f);
  Dataset picked = data.subset({1});
  CHECK(picked.labels == std::vector<int32_t>{7});
  CHECK(picked.value(0, 1) == 4.0f);

  writeText(tempPath("plain.csv"), "1,2\n3,4\n");
  REQUIRE(Dataset::load(tempPath("plain.csv"), 0, "", data, error)); // no header
  CHECK(data.count == 2);
  CHECK(data.labels.empty());

  auto refused = [&](const std::string &text, const std::string &labelColumn) {
    writeText(tempPath("bad.csv"), text);
    CHECK_FALSE(Dataset::load(tempPath("bad.csv"), 0, labelColumn, data, error));
    return error;
  };
  CHECK_THAT(refused("a,b\n1,2\n3,x\n", ""),
             Catch::Contains("bad.csv', line 3, column 2 ('b'): 'x' is not a number"));
  CHECK_THAT(refused("a,b\n1,2\n1.5.2,3\n", ""), Catch::Contains("line 3, column 1 ('a')"));
  CHECK_THAT(refused("a,b\n1,2\n3\n", ""),
             Catch::Contains("line 3: 1 cells, where the header has 2"));
  CHECK_THAT(refused("a,b\n1,2\n3,4,5\n", ""), Catch::Contains("line 3: 3 cells"));
  CHECK_THAT(refused("a,b\n1,\n", ""),
             Catch::Contains("line 2, column 2 ('b'): '' is not a number"));
  CHECK_THAT(refused("a,b\n1,inf\n", ""),
             Catch::Contains("line 2, column 2 ('b'): inf is not finite"));
  CHECK_THAT(refused("a,label\n1,2.5\n", "label"),
             Catch::Contains("the label 2.5 is not an integer"));
  CHECK_THAT(refused("a,b\n1,2\n", "label"),
             Catch::Contains("no column named 'label'; its columns are: a, b"));
  CHECK_THAT(refused("1,2\n", "label"), Catch::Contains("has no header line"));
  CHECK_THAT(refused("a,b\n", ""), Catch::Contains("has no rows of data"));
}

TEST_CASE("the labels of --classes: single ones and ranges", "[data]") {
  std::vector<int32_t> classes;
  std::string error;
  REQUIRE(parseClasses("0-8", classes, error));
  CHECK(classes == std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  REQUIRE(parseClasses("7,1-3,2", classes, error));
  CHECK(classes == std::vector<int32_t>{1, 2, 3, 7});
  for (const char *bad : {"3-1", "a", "1-", "-1", "1,,2", "1-2-3"}) {
    CHECK_FALSE(parseClasses(bad, classes, error));
    CHECK_THAT(error, Catch::Contains("--classes"));
  }
}
