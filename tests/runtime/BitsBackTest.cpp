//===- BitsBackTest.cpp - .vaez round trips and refusals -----------------===//
//
// With the generated mnist_vae at batch 7 and its initial parameters (a
// trained model compresses better, but any parameters must round-trip).
//
//===----------------------------------------------------------------------===//

#include "runtime/Vaez.h"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstring>
#include <random>

using namespace vae;

namespace {

struct Fixture {
  std::unique_ptr<Model> model;
  AlignedBuffer params, arena;
  explicit Fixture(const char *library = VAE_TEST_MODEL) {
    std::string error;
    model = Model::load(library, error);
    REQUIRE(model);
    params = model->newParams();
    arena = model->newArena();
    model->initParams(params.data(), 7);
  }
};

/// `count` random binary examples of 784 values stored as `element`, with
/// a share `ones` of ones.
Dataset binaryData(Element element, size_t count, double ones, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution draw(ones);
  size_t width = element == Element::U8 ? 1 : element == Element::F32 ? 4 : 8;
  std::vector<uint8_t> bytes(count * 784 * width);
  for (size_t i = 0; i < count * 784; ++i) {
    bool one = draw(rng);
    if (element == Element::U8)
      bytes[i] = one ? 255 : 0;
    else if (element == Element::F32) {
      float v = one ? 1.0f : 0.0f;
      std::memcpy(&bytes[4 * i], &v, 4);
    } else {
      double v = one ? 1.0 : 0.0;
      std::memcpy(&bytes[8 * i], &v, 8);
    }
  }
  Dataset data = Dataset::fromBytes("random.npy", element, count, 784, std::move(bytes));
  data.exampleShape = {28, 28};
  return data;
}

std::string compressOrFail(Fixture &f, const Dataset &data, CompressionStats &stats) {
  std::string bytes, error;
  INFO(error);
  REQUIRE(compressToVaez(*f.model, f.params.data(), f.arena.bytes(), data, BitsBackPrecisions{},
                         bytes, stats, error));
  return bytes;
}

/// Parses and decompresses `bytes`; the error, or "" with `out` set.
std::string decompressBytes(Fixture &f, const std::string &bytes, Dataset &out) {
  std::string error;
  VaezFile file;
  if (!parseVaez(bytes, "x.vaez", file, error) ||
      !decompressVaez(*f.model, f.params.data(), f.arena.bytes(), file, "x.vaez", out, error))
    return error;
  return "";
}

bool sameExamples(const Dataset &a, const Dataset &b) {
  return a.count == b.count && a.size == b.size && a.element == b.element &&
         a.exampleShape == b.exampleShape &&
         (a.count == 0 || std::memcmp(a.bytes(), b.bytes(), a.count * a.rowBytes()) == 0);
}

/// Recomputes every chunk CRC-32 and the header's, so that a change
/// reaches the decoder.
void reseal(std::string &bytes) {
  auto crc = [](const char *p, size_t n) {
    return uint32_t(crc32(0L, reinterpret_cast<const Bytef *>(p), uInt(n)));
  };
  uint32_t headerBytes;
  std::memcpy(&headerBytes, bytes.data() + 8, 4);
  uint32_t c = crc(bytes.data() + 12, headerBytes);
  std::memcpy(&bytes[12 + headerBytes], &c, 4);
  size_t at = 16 + headerBytes;
  while (at + 20 <= bytes.size()) {
    uint64_t payload;
    std::memcpy(&payload, bytes.data() + at + 8, 8);
    if (payload > bytes.size() - at - 20)
      break;
    c = crc(bytes.data() + at + 20, payload);
    std::memcpy(&bytes[at + 16], &c, 4);
    at += 20 + payload;
  }
}

} // namespace

TEST_CASE("compress/decompress give back the same bytes, dtype and shape", "[vaez]") {
  Fixture f;
  // None, one, part of a round of 7 lanes, whole rounds, and a second chunk
  // (512 rounds of 7 a chunk).
  for (size_t count : {size_t{0}, size_t{1}, size_t{6}, size_t{7}, size_t{23}, size_t{3590}})
    for (Element element : {Element::U8, Element::F32, Element::F64}) {
      if (count == 3590 && element != Element::U8)
        continue;
      Dataset data = binaryData(element, count, count % 2 ? 0.2 : 0.7, count);
      CompressionStats stats;
      std::string bytes = compressOrFail(f, data, stats);
      Dataset back;
      INFO(count << " examples");
      REQUIRE(decompressBytes(f, bytes, back) == "");
      CHECK(sameExamples(data, back));
      CHECK(stats.fileBytes == bytes.size());
    }
}

TEST_CASE("Compression is deterministic and costs about the model's -log2 p", "[vaez]") {
  Fixture f;
  Dataset data = binaryData(Element::U8, 40, 0.5, 3);
  CompressionStats a, b;
  CHECK(compressOrFail(f, data, a) == compressOrFail(f, data, b));
  // An untrained decoder says p(x_j = 1) is near 1/2: about a bit a value.
  double bitsPerValue = double(a.codedBits - a.initialBits) / double(a.values);
  CHECK(bitsPerValue > 0.9);
  CHECK(bitsPerValue < 1.2);
}

TEST_CASE("Values a Bernoulli likelihood cannot code exactly are refused", "[vaez]") {
  Fixture f;
  Dataset data = binaryData(Element::U8, 3, 0.5, 1);
  std::vector<uint8_t> bytes(data.bytes(), data.bytes() + 3 * 784);
  bytes[784 + 30] = 51; // example 1, row 1, column 2
  Dataset grey = Dataset::fromBytes("grey.npy", Element::U8, 3, 784, bytes);
  grey.exampleShape = {28, 28};
  std::string out, error;
  CompressionStats stats;
  CHECK_FALSE(compressToVaez(*f.model, f.params.data(), f.arena.bytes(), grey, BitsBackPrecisions{},
                             out, stats, error));
  CHECK(error.find("x[1, 1, 2] is the byte 51") != std::string::npos);
  CHECK(out.empty());
  // -0.0 is not +0.0: it would come back changed.
  Dataset floats = binaryData(Element::F32, 2, 0.5, 1);
  std::vector<uint8_t> fb(floats.bytes(), floats.bytes() + 2 * 784 * 4);
  float minusZero = -0.0f;
  std::memcpy(&fb[4 * 5], &minusZero, 4);
  Dataset signedZero = Dataset::fromBytes("z.npy", Element::F32, 2, 784, fb);
  CHECK_FALSE(compressToVaez(*f.model, f.params.data(), f.arena.bytes(), signedZero,
                             BitsBackPrecisions{}, out, stats, error));
  CHECK(error.find("codes exactly 0 and 1 only") != std::string::npos);
}

TEST_CASE("Truncated, corrupt and foreign .vaez files are refused", "[vaez]") {
  Fixture f;
  Dataset data = binaryData(Element::U8, 9, 0.3, 5);
  CompressionStats stats;
  std::string bytes = compressOrFail(f, data, stats);
  Dataset back;
  for (size_t n = 0; n < bytes.size(); ++n) // every prefix
    REQUIRE(decompressBytes(f, bytes.substr(0, n), back) != "");
  CHECK(decompressBytes(f, bytes + "x", back).find("follow the last chunk") != std::string::npos);
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bad = bytes;
    size_t at = size_t(rng() % bad.size());
    bad[at] = char(bad[at] ^ (1 + rng() % 255));
    INFO("byte " << at);
    REQUIRE(decompressBytes(f, bad, back) != ""); // caught by a CRC-32 or the magic
    reseal(bad); // past the checksums, the decoder itself must notice
    std::string error = decompressBytes(f, bad, back);
    if (error.empty())
      REQUIRE(sameExamples(data, back)); // (a flip in an unused bit is harmless)
  }
  // Another checkpoint's parameters, or a header from another machine.
  VaezFile file;
  std::string error;
  REQUIRE(parseVaez(bytes, "x.vaez", file, error));
  f.params.data()[0] += 1e-3f;
  CHECK_FALSE(
      decompressVaez(*f.model, f.params.data(), f.arena.bytes(), file, "x.vaez", back, error));
  CHECK(error.find("other parameters") != std::string::npos);
  f.params.data()[0] -= 1e-3f;
  for (auto [field, expected] : {std::pair{&VaezHeader::cpu, "compressed on a CPU"},
                                 std::pair{&VaezHeader::librarySha256, "another build"},
                                 std::pair{&VaezHeader::fingerprint, "compressed by model"}}) {
    VaezFile other;
    REQUIRE(parseVaez(bytes, "x.vaez", other, error));
    other.header.*field = "something else";
    CHECK_FALSE(
        decompressVaez(*f.model, f.params.data(), f.arena.bytes(), other, "x.vaez", back, error));
    CHECK(error.find(expected) != std::string::npos);
  }
}

TEST_CASE("A discretized logistic model codes 8-bit values exactly", "[vaez]") {
  Fixture f(VAE_TEST_PIXEL_MODEL);
  std::mt19937_64 rng(8);
  for (size_t count : {size_t{1}, size_t{9}}) {
    std::vector<uint8_t> bytes(count * 784), floats(count * 784 * 4);
    for (size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = uint8_t(i % 3 ? rng() % 256 : 0); // dark, as images are, and any level
      float v = bytes[i];
      std::memcpy(&floats[4 * i], &v, 4);
    }
    for (auto [element, raw] : {std::pair{Element::U8, bytes}, std::pair{Element::F32, floats}}) {
      Dataset data = Dataset::fromBytes("levels.npy", element, count, 784, raw);
      data.exampleShape = {784};
      data.byteDivisor = 1.0f;
      CompressionStats stats;
      std::string file = compressOrFail(f, data, stats);
      Dataset back;
      REQUIRE(decompressBytes(f, file, back) == "");
      CHECK(sameExamples(data, back));
    }
  }
  // Not an integer, or beyond 255: refused, naming the value.
  std::vector<uint8_t> floats(784 * 4);
  float half = 12.5f;
  std::memcpy(&floats[4 * 3], &half, 4);
  Dataset bad = Dataset::fromBytes("half.npy", Element::F32, 1, 784, floats);
  std::string out, error;
  CompressionStats stats;
  CHECK_FALSE(compressToVaez(*f.model, f.params.data(), f.arena.bytes(), bad, BitsBackPrecisions{},
                             out, stats, error));
  CHECK(error.find("x[0, 3] is 12.5: its discretized logistic codes exactly the integers 0 ... "
                   "255 only") != std::string::npos);
}
