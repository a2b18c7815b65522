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
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vae {

/// How pixel intensities reach the model (binarized-MNIST experiments).
enum class Binarize {
  None,    ///< intensities in [0, 1]
  Static,  ///< one Bernoulli draw per pixel, fixed for all runs and epochs
  Dynamic, ///< a fresh Bernoulli draw each time a training example is used
};

/// How the values of a data file are stored.
enum class Element : uint8_t {
  U8,  ///< bytes (IDX, uint8 .npy): scaled by 1/255
  F32, ///< float32 (.npy, and CSV as parsed)
  F64, ///< float64 (.npy): converted to float32 as batches are gathered
};

/// The examples of one data file (IDX, .npy or .csv), row-major,
/// `size` values each, with their labels where the file has them. A .npy
/// file is memory-mapped (private, copy-on-write: binarization never writes
/// the file); the others are read into memory. Subsets (a test split, the
/// classes to train on) are copies.
struct Dataset {
  std::string path;
  Element element = Element::U8;
  size_t count = 0, size = 0;
  /// One label per example, or none.
  std::vector<int32_t> labels;
  /// zlib's CRC-32 of the examples as loaded (before any binarization): a
  /// checkpoint records it, so a run resumes on the data it began with.
  uint32_t checksum = 0;

  /// Reads `path` by its extension: .npy, .csv (an optional header, the
  /// column named `labelColumn` as the labels), else IDX (optionally
  /// .gz). `limit` keeps the first examples only (0: all). Every value must
  /// be finite; errors name the file and the row and column (or the byte
  /// offset) of the first bad value.
  static bool load(const std::string &path, size_t limit, const std::string &labelColumn,
                   Dataset &out, std::string &error);
  /// The shape of one example as the file gives it ([28, 28] for MNIST
  /// IDX, [size] for CSV).
  std::vector<size_t> exampleShape;
  /// What a byte (U8) is divided by as the model sees it: 255, or 1 for a
  /// discrete likelihood, whose data are the integers themselves. (A
  /// division, not a product with 1/255: the same floats as NumPy's x / 255.)
  float byteDivisor = 255.0f;

  /// Labels from an IDX label file (one byte per example).
  bool loadIdxLabels(const std::string &path, std::string &error);
  /// Labels from a .npy file of integers, one per example (at least as many
  /// as the examples read: with --limit, the first ones).
  bool loadNpyLabels(const std::string &path, std::string &error);

  size_t elementBytes() const {
    return element == Element::U8 ? 1 : element == Element::F32 ? 4 : 8;
  }
  size_t rowBytes() const { return size * elementBytes(); }
  const uint8_t *bytes() const { return mapped ? mapped.get() + mappedOffset : owned.data(); }
  /// Whether the examples are the file's pages (a .npy), not a copy.
  bool isMapped() const { return mapped != nullptr; }
  /// Value j of example i as the model sees it (u8 divided by byteDivisor).
  float value(size_t i, size_t j) const;
  /// Example and position of the first value outside [lo, hi], as {i, j}.
  std::optional<std::pair<size_t, size_t>> firstOutside(float lo, float hi) const;
  /// Value `j` of example `i` as NumPy indexes it: "x[i, a, b]".
  std::string indexName(size_t i, size_t j) const;
  /// Examples `rows` (with their labels) as a new in-memory set.
  Dataset subset(const std::vector<uint32_t> &rows) const;
  /// In-memory examples (tests, generated data).
  static Dataset fromBytes(std::string path, Element element, size_t count, size_t size,
                           std::vector<uint8_t> bytes);

  /// Replaces every value by a Bernoulli draw with its intensity as the
  /// probability (0 or 1), keyed by `stream` and the example index only:
  /// the same binarized set in every run.
  void binarizeStatically(uint32_t stream);

private:
  uint8_t *mutableBytes() { return mapped ? mapped.get() + mappedOffset : owned.data(); }
  std::vector<uint8_t> owned;
  std::shared_ptr<uint8_t> mapped; // the whole file, MAP_PRIVATE
  size_t mappedOffset = 0;         // where the data begin
  static bool loadNpy(const std::string &path, size_t limit, Dataset &out, std::string &error);
  static bool loadCsv(const std::string &path, size_t limit, const std::string &labelColumn,
                      Dataset &out, std::string &error);
  bool checkFinite(size_t dataOffset, std::string &error) const;
};

/// Parses "0-8", "1,3,5" or "0-3,7" into a sorted set of labels.
bool parseClasses(const std::string &text, std::vector<int32_t> &classes, std::string &error);

/// Finds `stem` or `stem.gz` in `dir`; empty when neither exists.
std::string findIdx(const std::string &dir, const std::string &stem);

/// Standard normal noise for (seed, epoch, step), by Box-Muller on Philox:
/// eps[j] is element `first + j` of that stream, so a slice of a batch (one
/// rank's share of a global batch, one example) draws what the whole would.
void fillNoise(std::vector<float> &eps, uint64_t seed, uint32_t epoch, uint32_t step,
               size_t first = 0);

/// A permutation of [0, n) for (seed, epoch): Fisher-Yates on Philox.
std::vector<uint32_t> shuffle(size_t n, uint64_t seed, uint32_t epoch);

/// Examples `indices[0..n)` of `data` as floats into the first n
/// rows of `x`; the other rows are zeroed (the padding of a last batch).
void gather(const Dataset &data, const uint32_t *indices, size_t n, std::vector<float> &x);

/// Replaces the first `count` values of `x` by Bernoulli draws keyed by
/// (seed, epoch, step): dynamic binarization. x[j] takes element
/// `first + j` of the stream (as fillNoise).
void binarizeDynamically(float *x, size_t count, uint64_t seed, uint32_t epoch, uint32_t step,
                         size_t first = 0);

} // namespace vae

#endif // VAE_RUNTIME_DATA_H
