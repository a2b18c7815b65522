//===- IdxTest.cpp - the IDX reader ---------------------------------------===//

#include "runtime/Idx.h"

#include <catch2/catch.hpp>

#include <fstream>

using namespace vae;

namespace {

std::string tmp(const std::string &name) { return std::string(VAE_TEST_TMP) + "/" + name; }

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> data(n);
  for (size_t i = 0; i < n; ++i)
    data[i] = uint8_t(i * 37 + 11);
  return data;
}

} // namespace

TEST_CASE("IDX files round-trip, raw and gzip, read in chunks", "[idx]") {
  for (std::string name : {"seven.idx", "seven.idx.gz"}) {
    std::string error;
    std::vector<uint8_t> data = pattern(7 * 4 * 3);
    REQUIRE(writeIdx(tmp(name), {7, 4, 3}, data, error));
    auto reader = IdxReader::open(tmp(name), error);
    INFO(name << ": " << error);
    REQUIRE(reader);
    CHECK(reader->count() == 7);
    CHECK(reader->exampleShape() == std::vector<uint32_t>{4, 3});
    CHECK(reader->exampleSize() == 12);
    std::vector<uint8_t> first, rest;
    REQUIRE(reader->read(3, first, error)); // odd chunk sizes
    REQUIRE(reader->read(4, rest, error));
    first.insert(first.end(), rest.begin(), rest.end());
    CHECK(first == data);
    // Past the end is an error, not a silent short read.
    CHECK_FALSE(reader->read(1, rest, error));
    CHECK(error.find("has 0 examples left, 1 asked for") != std::string::npos);
    REQUIRE(reader->rewind(error));
    REQUIRE(reader->read(1, rest, error));
    CHECK(rest == std::vector<uint8_t>(data.begin(), data.begin() + 12));
  }
}

TEST_CASE("a truncated IDX file is an error naming the byte offset", "[idx]") {
  std::string error;
  REQUIRE(writeIdx(tmp("short.idx"), {5, 2, 2}, pattern(20), error));
  // Cut the file after the header and 1.5 examples.
  std::ifstream in(tmp("short.idx"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(tmp("short.idx"), std::ios::binary) << bytes.substr(0, 16 + 6);
  auto reader = IdxReader::open(tmp("short.idx"), error);
  REQUIRE(reader);
  std::vector<uint8_t> out;
  CHECK_FALSE(reader->read(5, out, error));
  CHECK(error == "'" + tmp("short.idx") +
                     "' is truncated at byte 22: its header promises 5 "
                     "examples of 4 bytes");
}

TEST_CASE("bad magic, short headers and missing files are refused", "[idx]") {
  std::string error;
  std::ofstream(tmp("bad.idx"), std::ios::binary) << std::string("\x00\x00\x0d\x03", 4);
  CHECK_FALSE(IdxReader::open(tmp("bad.idx"), error));
  CHECK(error == "'" + tmp("bad.idx") +
                     "' is not an IDX file of unsigned bytes: magic 0x00000d03 at "
                     "byte 0 (expected 0x000008 and 1 to 4 dimensions)");
  std::ofstream(tmp("tiny.idx"), std::ios::binary) << std::string("\x00\x00", 2);
  CHECK_FALSE(IdxReader::open(tmp("tiny.idx"), error));
  CHECK(error.find("shorter than the 4-byte magic number") != std::string::npos);
  std::ofstream(tmp("header.idx"), std::ios::binary) << std::string("\x00\x00\x08\x03\x00\x00", 6);
  CHECK_FALSE(IdxReader::open(tmp("header.idx"), error));
  CHECK(error.find("truncated header in '" + tmp("header.idx") + "' at byte 6") == 0);
  CHECK_FALSE(IdxReader::open(tmp("no-such-file.idx"), error));
  CHECK(error == "cannot open '" + tmp("no-such-file.idx") + "'");
}

TEST_CASE("the default data set reads as 28x28 images", "[idx]") {
  const std::string path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  // tools/install-deps.sh installs dataset-fashion-mnist: its absence is a
  // failure, not a skip.
  REQUIRE(std::ifstream(path).good());
  std::string error;
  auto reader = IdxReader::open(path, error);
  INFO(error);
  REQUIRE(reader);
  CHECK(reader->count() == 10000);
  CHECK(reader->exampleShape() == std::vector<uint32_t>{28, 28});
  std::vector<uint8_t> out;
  REQUIRE(reader->read(10000, out, error));
  CHECK(out.size() == 10000u * 784u);
}
