//===- Idx.h - stream MNIST-format IDX files --------------------*- C++ -*-===//
//
// IDX (the MNIST format): a big-endian header — two zero bytes, a type code
// (0x08 = unsigned byte), the number of dimensions — then one 32-bit size per
// dimension and the data. Files may be gzip-compressed; zlib reads both.
// Examples are streamed, never loaded whole.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_IDX_H
#define VAE_RUNTIME_IDX_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vae {

class IdxReader {
public:
  /// Opens `path` and checks its header; on failure returns null and a
  /// message naming the file and the byte offset.
  static std::unique_ptr<IdxReader> open(const std::string &path, std::string &error);
  ~IdxReader();

  /// Sizes after the first: [28, 28] for MNIST images, [] for labels.
  const std::vector<uint32_t> &exampleShape() const { return shape; }
  uint32_t count() const { return numExamples; }
  size_t exampleSize() const { return bytesPerExample; }

  /// Reads the next `n` examples (u8) into `out`; fails with the file and
  /// byte offset on a short read. Never reads past `count()` examples.
  bool read(size_t n, std::vector<uint8_t> &out, std::string &error);
  /// Back to the first example.
  bool rewind(std::string &error);

private:
  IdxReader() = default;
  std::string path;
  void *file = nullptr; // gzFile
  std::vector<uint32_t> shape;
  uint32_t numExamples = 0;
  size_t bytesPerExample = 0;
  uint64_t headerBytes = 0;
  uint32_t position = 0;
};

/// Writes an IDX file of unsigned bytes (for tests and tools).
bool writeIdx(const std::string &path, const std::vector<uint32_t> &dims,
              const std::vector<uint8_t> &data, std::string &error);

} // namespace vae

#endif // VAE_RUNTIME_IDX_H
