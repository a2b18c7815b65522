//===- Vaez.h - .vaez files: data compressed by a trained VAE ---*- C++ -*-===//
//
// A .vaez file is
//   "VAEZ", u32 format version (1),
//   u32 header bytes, the header (JSON), u32 CRC-32 of the header,
//   one record per chunk: u64 examples, u64 payload bytes, u32 CRC-32 of
//     the payload, the payload: per lane, u64 ANS state, u64 words borrowed
//     (initial bits), u64 words, the words (u32 each),
// all little-endian, nothing after the last chunk. The header names the
// model (its fingerprint), the library (the SHA-256 of the file), the CPU
// features of the machine that wrote it, the parameters (their SHA-256),
// the examples (count, shape of one, dtype), the likelihood, the
// precisions and the chunking: a decoder that differs in any of them
// refuses the file instead of decoding something else. Chunks are coded
// independently (each pays its own initial bits).
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_VAEZ_H
#define VAE_RUNTIME_VAEZ_H

#include "BitsBack.h" // (beside it, in the tree and installed as <vae/...>)
#include "Data.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vae {

inline constexpr uint32_t kVaezVersion = 1;

/// What a .vaez header records.
struct VaezHeader {
  std::string model, fingerprint, librarySha256, cpu, parametersSha256;
  std::string likelihood;      ///< "bernoulli"
  std::string dtype;           ///< "uint8", "float32" or "float64": the file's
  std::vector<uint64_t> shape; ///< of one example
  uint64_t examples = 0, lanes = 0, chunkExamples = 0, chunks = 0;
  BitsBackPrecisions precisions;
};

/// One chunk's stacks, one per lane.
struct VaezChunk {
  uint64_t examples = 0;
  std::vector<AnsStack> stacks;
};

struct VaezFile {
  VaezHeader header;
  std::vector<VaezChunk> chunks;
};

/// Sizes of a compression.
struct CompressionStats {
  uint64_t fileBytes = 0;
  uint64_t codedBits = 0;   ///< the stacks (states and words), all chunks
  uint64_t initialBits = 0; ///< seeded words the first pops borrowed
  uint64_t values = 0;      ///< examples times their size
};

/// The header a compression of `data` with this model and parameters
/// writes (and a decompression must find).
VaezHeader vaezHeaderFor(const Model &model, const float *params, const Dataset &data);

/// Maps every value of `data` to the symbol the likelihood codes (0/1 for
/// a Bernoulli model): false, naming the first value it cannot code
/// exactly, if there is one.
bool dataToSymbols(const Model &model, const Dataset &data, std::vector<uint8_t> &symbols,
                   std::string &error);

/// Compresses `data` into the bytes of a .vaez file at `precisions`.
bool compressToVaez(const Model &model, const float *params, void *arena, const Dataset &data,
                    const BitsBackPrecisions &precisions, std::string &bytes,
                    CompressionStats &stats, std::string &error);

/// Why `precisions` cannot be used ("" if they can).
std::string checkPrecisions(const BitsBackPrecisions &precisions);

/// The bytes of a .vaez file of header `h` and one payload per chunk (as
/// the format above describes them), the checksums computed.
std::string serializeVaez(const VaezHeader &h, const std::vector<std::string> &payloads);

/// Reads the framing of a .vaez file: header, chunks, checksums (no model
/// needed). Errors name `path` and the byte offset.
bool parseVaez(const std::string &bytes, const std::string &path, VaezFile &file,
               std::string &error);

/// Decodes a parsed file with the model that wrote it into `data` (the
/// dtype, shape and values that were compressed). Refused: another model,
/// library, CPU, parameters or likelihood; a stream that does not decode
/// to exactly the stacks compression started from.
bool decompressVaez(const Model &model, const float *params, void *arena, VaezFile &file,
                    const std::string &path, Dataset &data, std::string &error);

/// Writes `data` as a .npy file (its dtype, shape [count, example shape]).
bool writeNpy(const std::string &path, const Dataset &data, std::string &error);

/// The CPU features that decide what the library and libm compute:
/// "x86-64 avx2 fma avx512f", "aarch64".
std::string cpuSignature();

} // namespace vae

#endif // VAE_RUNTIME_VAEZ_H
