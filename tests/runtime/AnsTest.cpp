//===- AnsTest.cpp - the rANS stack against an exact reference -----------===//
//
// The reference is ANS without renormalization on an unbounded integer
// (x' = (x / f) 2^p + x mod f + s): the streaming coder must decode what it
// encoded and spend as many bits as the reference, up to its 64-bit state.
//
//===----------------------------------------------------------------------===//

#include "runtime/Ans.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace vae;

namespace {

/// A natural number in base 2^32, least significant word first.
struct BigNatural {
  std::vector<uint32_t> limbs{1};
  void encode(uint32_t start, uint32_t freq, unsigned precision) {
    uint64_t remainder = 0; // this = (this / freq), remainder = this % freq
    for (size_t i = limbs.size(); i-- > 0;) {
      uint64_t value = (remainder << 32) | limbs[i];
      limbs[i] = uint32_t(value / freq);
      remainder = value % freq;
    }
    uint64_t carry = remainder + start; // this * 2^precision + remainder + start
    for (uint32_t &limb : limbs) {
      uint64_t value = (uint64_t(limb) << precision) + carry;
      limb = uint32_t(value);
      carry = value >> 32;
    }
    if (carry)
      limbs.push_back(uint32_t(carry));
    trim();
  }
  uint32_t low(unsigned precision) const {
    return uint32_t(limbs[0] & ((uint64_t{1} << precision) - 1));
  }
  void decode(uint32_t start, uint32_t freq, unsigned precision) {
    uint64_t carry = uint64_t(low(precision)) - start; // freq * (this >> p) + low - start
    for (size_t i = 0; i < limbs.size(); ++i) {
      uint64_t high = i + 1 < limbs.size() ? limbs[i + 1] : 0;
      uint32_t shifted = uint32_t(((high << 32) | limbs[i]) >> precision);
      uint64_t value = uint64_t(shifted) * freq + carry;
      limbs[i] = uint32_t(value);
      carry = value >> 32;
    }
    trim();
  }
  double bits() const {
    return 32.0 * double(limbs.size() - 1) + std::log2(double(limbs.back()) + 1.0);
  }
  void trim() {
    while (limbs.size() > 1 && limbs.back() == 0)
      limbs.pop_back();
  }
};

/// Random frequencies of `symbols` symbols summing to 2^precision, each at
/// least 1, skewed so that some are rare.
std::vector<uint32_t> randomCumulative(std::mt19937_64 &rng, size_t symbols, unsigned precision) {
  std::vector<double> weights(symbols);
  std::exponential_distribution<double> exponential(1.0);
  double total = 0;
  for (double &w : weights)
    total += w = std::pow(exponential(rng), 3.0);
  uint64_t spare = (uint64_t{1} << precision) - symbols;
  std::vector<uint32_t> cumulative{0};
  uint64_t used = 0;
  for (size_t i = 0; i < symbols; ++i) {
    uint64_t extra = i + 1 == symbols ? spare - used : uint64_t(weights[i] / total * double(spare));
    extra = std::min(extra, spare - used);
    used += extra;
    cumulative.push_back(uint32_t(cumulative.back() + 1 + extra));
  }
  return cumulative;
}

size_t symbolOf(const std::vector<uint32_t> &cumulative, uint32_t value) {
  return size_t(std::upper_bound(cumulative.begin(), cumulative.end(), value) - cumulative.begin() -
                1);
}

} // namespace

TEST_CASE("rANS decodes what it encodes and spends the reference's bits", "[ans]") {
  std::mt19937_64 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    unsigned precision = 1 + unsigned(rng() % AnsStack::kMaxPrecision);
    size_t maxSymbols = std::min<size_t>(size_t{1} << precision, 300);
    size_t symbols = 1 + size_t(rng() % maxSymbols);
    auto cumulative = randomCumulative(rng, symbols, precision);
    size_t count = size_t(rng() % 2000);
    std::vector<size_t> message(count);
    // Draw symbols by their frequencies (the case a coder is built for).
    for (size_t &s : message)
      s = symbolOf(cumulative, uint32_t(rng() & ((uint64_t{1} << precision) - 1)));
    AnsStack stack(AnsStack::kLow, {}, 0, 0); // (empty: no seeded bits)
    BigNatural reference;
    double information = 0;
    for (size_t s : message) {
      uint32_t start = cumulative[s], freq = cumulative[s + 1] - cumulative[s];
      stack.push(start, freq, precision);
      reference.encode(start, freq, precision);
      information += double(precision) - std::log2(double(freq));
    }
    INFO("trial " << trial << ": precision " << precision << ", " << symbols << " symbols, "
                  << count << " pushes");
    CHECK(double(stack.bits()) >= information);
    CHECK(std::abs(double(stack.bits()) - reference.bits()) <= 64 + 1e-6 * information);
    // (Each push rounds x / f down: up to a bit each while x is small.)
    CHECK(reference.bits() <= information + precision + 2.0);
    AnsStack decoder(stack.state(), stack.words(), 0, 0);
    decoder.allowBorrowing(false);
    for (size_t i = count; i-- > 0;) {
      size_t s = symbolOf(cumulative, decoder.peek(precision));
      REQUIRE(s == message[i]);
      REQUIRE(symbolOf(cumulative, reference.low(precision)) == s);
      decoder.pop(cumulative[s], cumulative[s + 1] - cumulative[s], precision);
      reference.decode(cumulative[s], cumulative[s + 1] - cumulative[s], precision);
    }
    CHECK(decoder.state() == AnsStack::kLow);
    CHECK(decoder.words().empty());
    CHECK_FALSE(decoder.exhausted());
    CHECK(reference.limbs == std::vector<uint32_t>{1});
  }
}

TEST_CASE("Pops from an empty stack borrow seeded words, and pushing back returns them", "[ans]") {
  // Bits-back's pattern: pop (borrowing), push, push; then the reverse.
  std::mt19937_64 rng(99);
  const unsigned precision = 16;
  auto cumulative = randomCumulative(rng, 50, precision);
  AnsStack coder(/*seed=*/42);
  // Each round pops a symbol and pushes one; the first rounds pop more
  // than they push, so that the seeded state runs out.
  std::vector<std::vector<size_t>> popped;
  std::vector<size_t> pushed;
  for (int round = 0; round < 300; ++round) {
    popped.emplace_back();
    for (int i = 0; i < (round < 20 ? 4 : 1); ++i) {
      size_t s = symbolOf(cumulative, coder.peek(precision));
      coder.pop(cumulative[s], cumulative[s + 1] - cumulative[s], precision);
      popped.back().push_back(s);
    }
    size_t t = size_t(rng() % 50);
    coder.push(cumulative[t], cumulative[t + 1] - cumulative[t], precision);
    pushed.push_back(t);
  }
  CHECK(coder.borrowedWords() > 0);
  AnsStack decoder(coder.state(), coder.words(), coder.borrowedWords(), 42);
  decoder.allowBorrowing(false);
  for (size_t i = pushed.size(); i-- > 0;) {
    size_t t = symbolOf(cumulative, decoder.peek(precision));
    REQUIRE(t == pushed[i]);
    decoder.pop(cumulative[t], cumulative[t + 1] - cumulative[t], precision);
    for (size_t k = popped[i].size(); k-- > 0;) {
      size_t s = popped[i][k];
      decoder.push(cumulative[s], cumulative[s + 1] - cumulative[s], precision);
    }
  }
  CHECK_FALSE(decoder.exhausted());
  CHECK(decoder.isInitial());
  // Another seed's words are not what was borrowed.
  CHECK_FALSE(AnsStack(decoder.state(), decoder.words(), decoder.borrowedWords(), 43).isInitial());
}

TEST_CASE("A decoder that runs out of words says so instead of reading past the stack", "[ans]") {
  AnsStack empty(AnsStack::kLow, {}, 0, 0);
  empty.allowBorrowing(false);
  for (int i = 0; i < 4; ++i)
    empty.pop(0, 1, 8); // each pop of a 1-in-256 symbol needs 8 bits
  CHECK(empty.exhausted());
  CHECK(empty.state() >= AnsStack::kLow);
}
