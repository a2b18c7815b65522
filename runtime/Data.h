//===- Data.h - batches, noise and shuffling for vae-train ------*- C++ -*-===//
//
// Every random choice of a run — the order of examples, the noise of the
// reparameterization, dynamic binarization — is Philox keyed by (seed, epoch,
// step), so a run and a run resumed from any checkpoint draw the same numbers.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_DATA_H
#define VAE_RUNTIME_DATA_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vae {

/// How pixel intensities reach the model (binarized-MNIST experiments).
enum class Binarize {
  None,    ///< intensities in [0, 1]
  Static,  ///< one Bernoulli draw per pixel, fixed for all runs and epochs
  Dynamic, ///< a fresh Bernoulli draw each time a training example is used
};

/// Images of one IDX file as u8, loaded once (shuffling needs random
/// access); `limit` keeps the first examples only (0: all).
struct Dataset {
  std::string path;
  std::vector<uint8_t> pixels;
  size_t count = 0, size = 0;
  /// zlib's CRC-32 of the examples as loaded (before any binarization): a
  /// checkpoint records it, so a run resumes on the data it began with.
  uint32_t checksum = 0;
  static bool load(const std::string &path, size_t limit, Dataset &out,
                   std::string &error);
  /// Replaces every pixel by a Bernoulli draw with its intensity as the
  /// probability (0 or 255), keyed by `stream` and the example index only:
  /// the same binarized set in every run.
  void binarizeStatically(uint32_t stream);
};

/// Finds `stem` or `stem.gz` in `dir`; empty when neither exists.
std::string findIdx(const std::string &dir, const std::string &stem);

/// Standard normal noise for (seed, epoch, step), by Box-Muller on Philox:
/// eps[j] is element `first + j` of that stream, so a slice of a batch (one
/// rank's share of a global batch, one example) draws what the whole would.
void fillNoise(std::vector<float> &eps, uint64_t seed, uint32_t epoch,
               uint32_t step, size_t first = 0);

/// A permutation of [0, n) for (seed, epoch): Fisher-Yates on Philox.
std::vector<uint32_t> shuffle(size_t n, uint64_t seed, uint32_t epoch);

/// Examples `indices[0..n)` of `data` as floats in [0, 1] into the first n
/// rows of `x`; the other rows are zeroed (the padding of a last batch).
void gather(const Dataset &data, const uint32_t *indices, size_t n,
            std::vector<float> &x);

/// Replaces the first `count` values of `x` by Bernoulli draws keyed by
/// (seed, epoch, step): dynamic binarization. x[j] takes element
/// `first + j` of the stream (as fillNoise).
void binarizeDynamically(float *x, size_t count, uint64_t seed, uint32_t epoch,
                         uint32_t step, size_t first = 0);

} // namespace vae

#endif // VAE_RUNTIME_DATA_H
