//===- Ans.h - a range-variant ANS stack for bits-back coding ---*- C++ -*-===//
//
// rANS (Duda, "Asymmetric numeral systems", 2013) in the streaming form of
// Giesen's rans64: a 64-bit state kept in [2^31, 2^63) by moving 32-bit
// words to and from a stack. Push and pop are exact inverses, last in
// first out, which is what bits-back coding needs: the compressor pops
// latents off the message before it pushes the data they explain.
//
// Symbols are given by their interval [start, start + freq) of cumulative
// frequencies that sum to 2^precision (precision at most 31, freq at least 1).
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_ANS_H
#define VAE_RUNTIME_ANS_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vae {

class AnsStack {
public:
  /// The lowest state: a stack holds at least 31 bits.
  static constexpr uint64_t kLow = uint64_t{1} << 31;
  static constexpr unsigned kMaxPrecision = 31;

  /// An empty stack: its state holds 62 seeded bits (Philox keyed by
  /// `seed`), and a pop that needs a word the stack does not have takes the
  /// next of a stream of seeded words; borrowedWords() counts them. These
  /// are the "initial bits" of bits-back coding: the first examples' latents
  /// are drawn from them. (A fixed start state would give every stack's
  /// first example the same, extreme, draw.)
  explicit AnsStack(uint64_t seed = 0) : x(initialState(seed)), seed(seed) {}
  /// A stack as serialized by state() and words(); `borrowed` as
  /// borrowedWords() said when it was.
  AnsStack(uint64_t state, std::vector<uint32_t> words, uint64_t borrowed, uint64_t seed)
      : x(state), stack(std::move(words)), borrowed(borrowed), seed(seed) {}

  void push(uint32_t start, uint32_t freq, unsigned precision);
  /// The cumulative frequency of the symbol on top: in [0, 2^precision).
  uint32_t peek(unsigned precision) const { return uint32_t(x & ((uint64_t{1} << precision) - 1)); }
  /// Removes the symbol on top, whose interval holds peek(precision).
  void pop(uint32_t start, uint32_t freq, unsigned precision);

  uint64_t state() const { return x; }
  const std::vector<uint32_t> &words() const { return stack; }
  uint64_t borrowedWords() const { return borrowed; }
  /// Whether a pop had to borrow a word while borrowing was off (a
  /// decompressor's stack running dry: a corrupt stream).
  bool exhausted() const { return ranDry; }
  /// Whether pops may borrow seeded words (on for compression).
  void allowBorrowing(bool allow) { mayBorrow = allow; }
  /// Whether the stack holds exactly what an empty one became by borrowing
  /// borrowedWords() words: what a decompressor ends with.
  bool isInitial() const;
  /// Bits a serialized stack takes: the state and the words.
  uint64_t bits() const { return 64 + 32 * uint64_t(stack.size()); }

  /// Seeded word `index` of the stream of `seed`.
  static uint32_t seededWord(uint64_t seed, uint64_t index);
  /// The state an empty stack of `seed` starts in: 2^62 + 62 seeded bits.
  static uint64_t initialState(uint64_t seed);
  /// Bits an empty stack starts with: the seeded part of its state.
  static constexpr unsigned kInitialStateBits = 62;

private:
  uint64_t x = kLow;
  std::vector<uint32_t> stack;
  uint64_t borrowed = 0, seed = 0;
  bool mayBorrow = true, ranDry = false;
};

} // namespace vae

#endif // VAE_RUNTIME_ANS_H
