//===- Ans.cpp - a range-variant ANS stack for bits-back coding -----------===//

#include "runtime/Ans.h"

#include "vae/philox.h"

using namespace vae;

void AnsStack::push(uint32_t start, uint32_t freq, unsigned precision) {
  // Move a word out first if the new state would pass 2^63.
  uint64_t limit = ((kLow >> precision) << 32) * freq;
  if (x >= limit) {
    stack.push_back(uint32_t(x));
    x >>= 32;
  }
  x = ((x / freq) << precision) + (x % freq) + start;
}

void AnsStack::pop(uint32_t start, uint32_t freq, unsigned precision) {
  uint64_t cumulative = x & ((uint64_t{1} << precision) - 1);
  x = uint64_t(freq) * (x >> precision) + cumulative - start;
  if (x >= kLow)
    return;
  uint32_t word = 0;
  if (!stack.empty()) {
    word = stack.back();
    stack.pop_back();
  } else if (mayBorrow) {
    word = seededWord(seed, borrowed++);
  } else {
    ranDry = true;
  }
  x = (x << 32) | word;
}

bool AnsStack::isInitial() const {
  if (x != initialState(seed) || stack.size() != borrowed)
    return false;
  // The first word borrowed is the last pushed back.
  for (uint64_t i = 0; i < borrowed; ++i)
    if (stack[i] != seededWord(seed, borrowed - 1 - i))
      return false;
  return true;
}

uint32_t AnsStack::seededWord(uint64_t seed, uint64_t index) {
  PhiloxCounter out = philox4x32_10({uint32_t(index), uint32_t(index >> 32), 0x616e73u, 0},
                                    {uint32_t(seed), uint32_t(seed >> 32)});
  return out[0];
}

uint64_t AnsStack::initialState(uint64_t seed) {
  PhiloxCounter out = philox4x32_10({0, 0, 0x616e73u, 1}, {uint32_t(seed), uint32_t(seed >> 32)});
  uint64_t bits = (uint64_t(out[0]) << 32 | out[1]) & ((uint64_t{1} << kInitialStateBits) - 1);
  return (uint64_t{1} << kInitialStateBits) | bits;
}
