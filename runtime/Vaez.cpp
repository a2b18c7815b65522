//===- Vaez.cpp - .vaez files: data compressed by a trained VAE -----------===//

#include "runtime/Vaez.h"

#include "runtime/AtomicFile.h"
#include "runtime/Sha256.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <map>
#include <mutex>

using namespace vae;

namespace {

constexpr char kMagic[4] = {'V', 'A', 'E', 'Z'};
/// Rounds of the lanes per chunk: 65,536 examples at batch 128.
constexpr uint64_t kChunkRounds = 512;
/// Bounds that no real file reaches and a damaged one would.
constexpr uint64_t kMaxHeaderBytes = 1 << 20, kMaxLanes = 1 << 20, kMaxValues = uint64_t{1} << 40;

const char *dtypeName(Element element) {
  return element == Element::U8 ? "uint8" : element == Element::F32 ? "float32" : "float64";
}

uint32_t crc32Of(const void *bytes, size_t count) {
  return uint32_t(crc32(0L, static_cast<const Bytef *>(bytes), uInt(count)));
}

template <typename T> void put(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T)); // (little-endian hosts only, as libvaert)
  out.append(bytes, sizeof(T));
}

/// Reads fields in order and remembers the first problem with its offset.
struct Cursor {
  const std::string &bytes;
  size_t at = 0;
  template <typename T> bool get(T &value) {
    if (bytes.size() - at < sizeof(T))
      return false;
    std::memcpy(&value, bytes.data() + at, sizeof(T));
    at += sizeof(T);
    return true;
  }
};

/// The SHA-256 of a file, hex; "" if it cannot be read.
std::string fileSha256(const std::string &path) {
  static std::mutex lock;
  static std::map<std::string, std::string> known; // a library is hashed once per process
  std::lock_guard<std::mutex> guard(lock);
  if (auto it = known.find(path); it != known.end())
    return it->second;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return "";
  Sha256 sha;
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    sha.update(chunk.data(), size_t(in.gcount()));
  }
  return known[path] = hexDigest(sha.digest());
}

nlohmann::json headerJson(const VaezHeader &h) {
  return {{"model", h.model},
          {"fingerprint", h.fingerprint},
          {"library_sha256", h.librarySha256},
          {"cpu", h.cpu},
          {"parameters_sha256", h.parametersSha256},
          {"likelihood", h.likelihood},
          {"dtype", h.dtype},
          {"shape", h.shape},
          {"examples", h.examples},
          {"lanes", h.lanes},
          {"chunk_examples", h.chunkExamples},
          {"chunks", h.chunks},
          {"precision_latent", h.precisions.latent},
          {"precision_posterior", h.precisions.posterior},
          {"precision_likelihood", h.precisions.likelihood}};
}

/// The header from its JSON; the problem if a field is missing or bad.
std::string headerFromJson(const std::string &text, VaezHeader &h) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object())
    return "its header is not a JSON object";
  try {
    h.model = j.at("model").get<std::string>();
    h.fingerprint = j.at("fingerprint").get<std::string>();
    h.librarySha256 = j.at("library_sha256").get<std::string>();
    h.cpu = j.at("cpu").get<std::string>();
    h.parametersSha256 = j.at("parameters_sha256").get<std::string>();
    h.likelihood = j.at("likelihood").get<std::string>();
    h.dtype = j.at("dtype").get<std::string>();
    h.shape = j.at("shape").get<std::vector<uint64_t>>();
    h.examples = j.at("examples").get<uint64_t>();
    h.lanes = j.at("lanes").get<uint64_t>();
    h.chunkExamples = j.at("chunk_examples").get<uint64_t>();
    h.chunks = j.at("chunks").get<uint64_t>();
    h.precisions.latent = j.at("precision_latent").get<unsigned>();
    h.precisions.posterior = j.at("precision_posterior").get<unsigned>();
    h.precisions.likelihood = j.at("precision_likelihood").get<unsigned>();
  } catch (const nlohmann::json::exception &e) {
    return std::string("its header is incomplete (") + e.what() + ")";
  }
  return "";
}

/// Whether the header's sizes are consistent and within bounds.
std::string checkHeader(const VaezHeader &h) {
  const BitsBackPrecisions &p = h.precisions;
  if (h.dtype != "uint8" && h.dtype != "float32" && h.dtype != "float64")
    return fmt::format("its dtype '{}' is none of uint8, float32, float64", h.dtype);
  uint64_t size = 1;
  for (uint64_t n : h.shape)
    if (n == 0 || n > kMaxValues || (size *= n) > kMaxValues)
      return fmt::format("its example shape {} is not a shape", h.shape);
  if (h.shape.empty() || h.examples > kMaxValues / size)
    return fmt::format("its {} examples of shape {} are too many values", h.examples, h.shape);
  if (h.lanes == 0 || h.lanes > kMaxLanes || h.chunkExamples == 0 ||
      h.chunkExamples % h.lanes != 0 ||
      h.chunks != (h.examples + h.chunkExamples - 1) / h.chunkExamples)
    return fmt::format("its chunking ({} lanes, {} examples a chunk, {} chunks of {} examples) "
                       "is inconsistent",
                       h.lanes, h.chunkExamples, h.chunks, h.examples);
  return checkPrecisions(p);
  return "";
}

} // namespace

std::string vae::checkPrecisions(const BitsBackPrecisions &p) {
  if (p.latent < 1 || p.latent > 20 || p.posterior > AnsStack::kMaxPrecision ||
      p.posterior < p.latent + 1 || p.likelihood < 8 || p.likelihood > AnsStack::kMaxPrecision)
    return fmt::format("precisions latent {}, posterior {}, likelihood {} are out of range "
                       "(latent 1 to 20 bits, posterior more than latent and at most {}, "
                       "likelihood 8 to {})",
                       p.latent, p.posterior, p.likelihood, AnsStack::kMaxPrecision,
                       AnsStack::kMaxPrecision);
  return "";
}

std::string vae::cpuSignature() {
#if defined(__x86_64__)
  std::string out = "x86-64";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    out += " avx2";
  if (__builtin_cpu_supports("fma"))
    out += " fma";
  if (__builtin_cpu_supports("avx512f"))
    out += " avx512f";
  return out;
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

VaezHeader vae::vaezHeaderFor(const Model &model, const float *params, const Dataset &data) {
  const vae_model &d = model.desc();
  Sha256 sha;
  sha.update(params, size_t(d.param_floats) * sizeof(float));
  VaezHeader h;
  h.model = d.name;
  h.fingerprint = d.fingerprint;
  h.librarySha256 = fileSha256(model.path());
  h.cpu = cpuSignature();
  h.parametersSha256 = hexDigest(sha.digest());
  h.likelihood = d.likelihood == VAE_LIKELIHOOD_BERNOULLI ? "bernoulli"
                 : d.likelihood == VAE_LIKELIHOOD_DISCRETIZED_LOGISTIC
                     ? fmt::format("discretized_logistic({})", d.likelihood_bins)
                     : "other";
  h.dtype = dtypeName(data.element);
  h.shape.assign(data.exampleShape.begin(), data.exampleShape.end());
  if (h.shape.empty())
    h.shape = {data.size};
  h.examples = data.count;
  h.lanes = uint64_t(d.batch);
  h.chunkExamples = h.lanes * kChunkRounds;
  h.chunks = (h.examples + h.chunkExamples - 1) / h.chunkExamples;
  return h;
}

namespace {

/// The symbol a stored value codes as, or -1: an integer in [0, levels)
/// stored as that integer is written back (+0.0, not -0.0); a Bernoulli
/// model's bytes are 0 and 255 (read as 0 and 1), a discrete one's any
/// byte below its levels.
int symbolOf(Element element, const uint8_t *v, bool bernoulli, unsigned levels) {
  if (element == Element::U8)
    return bernoulli ? (*v == 0 ? 0 : *v == 255 ? 1 : -1) : (*v < levels ? int(*v) : -1);
  double value;
  if (element == Element::F32) {
    float f;
    std::memcpy(&f, v, 4);
    value = f;
  } else {
    std::memcpy(&value, v, 8);
  }
  if (!(value >= 0 && value < double(levels)) || value != std::floor(value) || std::signbit(value))
    return -1;
  return int(value);
}

/// The bytes symbol `s` is stored as (symbolOf's inverse).
void storeSymbol(Element element, bool bernoulli, uint8_t s, uint8_t *out) {
  if (element == Element::U8) {
    *out = bernoulli ? (s ? 255 : 0) : s;
  } else if (element == Element::F32) {
    float v = s;
    std::memcpy(out, &v, 4);
  } else {
    double v = s;
    std::memcpy(out, &v, 8);
  }
}

} // namespace

bool vae::dataToSymbols(const Model &model, const Dataset &data, std::vector<uint8_t> &symbols,
                        std::string &error) {
  const vae_model &d = model.desc();
  std::string why;
  unsigned levels = codedSymbols(d, why);
  if (levels == 0) {
    error = fmt::format("model '{}' cannot compress: {}", d.name, why);
    return false;
  }
  bool bernoulli = d.likelihood == VAE_LIKELIHOOD_BERNOULLI;
  symbols.resize(data.count * data.size);
  size_t width = data.elementBytes();
  for (size_t i = 0; i < data.count * data.size; ++i) {
    const uint8_t *v = data.bytes() + i * width;
    int symbol = symbolOf(data.element, v, bernoulli, levels);
    if (symbol >= 0) {
      symbols[i] = uint8_t(symbol);
      continue;
    }
    size_t example = i / data.size, j = i % data.size;
    double value = data.element == Element::F64 ? [&] {
      double x;
      std::memcpy(&x, v, 8);
      return x;
    }()
                                                : double(data.value(example, j));
    std::string shown =
        data.element == Element::U8 ? fmt::format("the byte {}", *v) : fmt::format("{}", value);
    std::string codes =
        bernoulli ? "a Bernoulli likelihood codes exactly 0 and 1 only" +
                        std::string(data.element == Element::U8 ? " (bytes 0 and 255)" : "")
                  : fmt::format("its discretized logistic codes exactly the "
                                "integers 0 ... {} only",
                                levels - 1);
    error = fmt::format("'{}': {} is {}: {}, so model '{}' cannot compress this data "
                        "losslessly{}",
                        data.path, data.indexName(example, j), shown, codes, d.name,
                        bernoulli ? " (binarize it first: --binarize static)" : "");
    return false;
  }
  return true;
}

bool vae::compressToVaez(const Model &model, const float *params, void *arena, const Dataset &data,
                         const BitsBackPrecisions &precisions, std::string &bytes,
                         CompressionStats &stats, std::string &error) {
  if (std::string why = checkPrecisions(precisions); !why.empty()) {
    error = why;
    return false;
  }
  std::vector<uint8_t> symbols;
  if (!dataToSymbols(model, data, symbols, error))
    return false;
  VaezHeader h = vaezHeaderFor(model, params, data);
  h.precisions = precisions;
  if (h.librarySha256.empty()) {
    error = fmt::format("cannot read the library '{}' to record its SHA-256", model.path());
    return false;
  }
  BitsBackCoder coder(model, params, arena, h.precisions);
  stats = {};
  stats.values = data.count * data.size;
  std::vector<std::string> payloads;
  for (uint64_t c = 0; c < h.chunks; ++c) {
    uint64_t first = c * h.chunkExamples, n = std::min(h.chunkExamples, h.examples - first);
    std::vector<AnsStack> stacks;
    for (uint64_t lane = 0; lane < std::min(h.lanes, n); ++lane)
      stacks.emplace_back(c << 32 | lane);
    coder.compress(symbols.data() + first * data.size, n, stacks);
    std::string &payload = payloads.emplace_back();
    for (const AnsStack &s : stacks) {
      put(payload, s.state());
      put(payload, s.borrowedWords());
      put(payload, uint64_t(s.words().size()));
      payload.append(reinterpret_cast<const char *>(s.words().data()), 4 * s.words().size());
      stats.codedBits += s.bits();
      stats.initialBits += AnsStack::kInitialStateBits + 32 * s.borrowedWords();
    }
  }
  bytes = serializeVaez(h, payloads);
  stats.fileBytes = bytes.size();
  return true;
}

std::string vae::serializeVaez(const VaezHeader &h, const std::vector<std::string> &payloads) {
  std::string text = headerJson(h).dump(), bytes(kMagic, 4);
  put(bytes, kVaezVersion);
  put(bytes, uint32_t(text.size()));
  bytes += text;
  put(bytes, crc32Of(text.data(), text.size()));
  for (size_t c = 0; c < payloads.size(); ++c) {
    put(bytes, std::min(h.chunkExamples, h.examples - c * h.chunkExamples));
    put(bytes, uint64_t(payloads[c].size()));
    put(bytes, crc32Of(payloads[c].data(), payloads[c].size()));
    bytes += payloads[c];
  }
  return bytes;
}

namespace {

/// One chunk's payload into stacks; the problem, if any.
std::string parseChunk(const std::string &payload, uint64_t lanes, uint64_t chunk, VaezChunk &out) {
  Cursor in{payload};
  for (uint64_t lane = 0; lane < lanes; ++lane) {
    uint64_t state = 0, borrowed = 0, words = 0;
    if (!in.get(state) || !in.get(borrowed) || !in.get(words))
      return fmt::format("lane {} is cut short", lane);
    if (state < AnsStack::kLow || state >> 63)
      return fmt::format("lane {} has an ANS state out of range", lane);
    if (words > (payload.size() - in.at) / 4)
      return fmt::format("lane {} claims {} words, more than the chunk holds", lane, words);
    std::vector<uint32_t> stack(words);
    if (words) // (memcpy takes no null pointer, even for no bytes)
      std::memcpy(stack.data(), payload.data() + in.at, 4 * words);
    in.at += 4 * words;
    out.stacks.emplace_back(state, std::move(stack), borrowed, chunk << 32 | lane);
    out.stacks.back().allowBorrowing(false);
  }
  if (in.at != payload.size())
    return fmt::format("{} bytes follow its last lane", payload.size() - in.at);
  return "";
}

} // namespace

bool vae::parseVaez(const std::string &bytes, const std::string &path, VaezFile &file,
                    std::string &error) {
  Cursor in{bytes};
  auto bad = [&](size_t offset, const std::string &why) {
    error = fmt::format("'{}' is not a valid .vaez file (offset {}: {})", path, offset, why);
    return false;
  };
  uint32_t version = 0, headerBytes = 0, crc = 0;
  if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0)
    return bad(0, "it does not start with \"VAEZ\"");
  in.at = 4;
  if (!in.get(version))
    return bad(in.at, "it ends inside the preamble");
  if (version != kVaezVersion)
    return bad(4, fmt::format("format version {}; this vae-train reads version {}", version,
                              kVaezVersion));
  if (!in.get(headerBytes) || headerBytes > kMaxHeaderBytes ||
      bytes.size() - in.at < uint64_t(headerBytes) + 4)
    return bad(8, "its header is cut short or too long");
  std::string text = bytes.substr(in.at, headerBytes);
  in.at += headerBytes;
  in.get(crc);
  if (crc != crc32Of(text.data(), text.size()))
    return bad(12, "its header's CRC-32 does not match: the file is corrupt");
  VaezHeader &h = file.header;
  if (std::string why = headerFromJson(text, h); !why.empty())
    return bad(12, why);
  if (std::string why = checkHeader(h); !why.empty())
    return bad(12, why);
  file.chunks.clear();
  for (uint64_t c = 0; c < h.chunks; ++c) {
    size_t at = in.at;
    uint64_t examples = 0, payloadBytes = 0;
    uint32_t payloadCrc = 0;
    if (!in.get(examples) || !in.get(payloadBytes) || !in.get(payloadCrc) ||
        payloadBytes > bytes.size() - in.at)
      return bad(at, fmt::format("chunk {} of {} is missing or cut short: the file is truncated",
                                 c + 1, h.chunks));
    uint64_t expected = std::min(h.chunkExamples, h.examples - c * h.chunkExamples);
    if (examples != expected)
      return bad(
          at, fmt::format("chunk {} says {} examples; the header, {}", c + 1, examples, expected));
    std::string payload = bytes.substr(in.at, payloadBytes);
    if (payloadCrc != crc32Of(payload.data(), payload.size()))
      return bad(at, fmt::format("chunk {}'s CRC-32 does not match: the file is corrupt", c + 1));
    VaezChunk chunk;
    chunk.examples = examples;
    if (std::string why = parseChunk(payload, std::min(h.lanes, examples), c, chunk); !why.empty())
      return bad(in.at, fmt::format("chunk {}: {}", c + 1, why));
    in.at += payloadBytes;
    file.chunks.push_back(std::move(chunk));
  }
  if (in.at != bytes.size())
    return bad(in.at, fmt::format("{} bytes follow the last chunk", bytes.size() - in.at));
  return true;
}

namespace {

/// Why `model` with `params` cannot decode a file of header `h` ("" if it can).
std::string decoderMismatch(const Model &model, const float *params, const VaezHeader &h) {
  const vae_model &d = model.desc();
  Dataset none;
  VaezHeader mine = vaezHeaderFor(model, params, none);
  uint64_t size = 1;
  for (uint64_t n : h.shape)
    size *= n;
  if (h.fingerprint != mine.fingerprint)
    return fmt::format("it was compressed by model '{}' ({}), and '{}' is model '{}' ({})", h.model,
                       h.fingerprint, model.path(), d.name, mine.fingerprint);
  if (h.librarySha256 != mine.librarySha256)
    return fmt::format("it was compressed by another build of model '{}' (library SHA-256 "
                       "{}; '{}' has {}): only the library that compressed a file computes the "
                       "same probabilities bit for bit",
                       d.name, h.librarySha256.substr(0, 16), model.path(),
                       mine.librarySha256.substr(0, 16));
  if (h.cpu != mine.cpu)
    return fmt::format("it was compressed on a CPU with '{}' and this one has '{}': the "
                       "library and libm may round differently here",
                       h.cpu, mine.cpu);
  if (h.parametersSha256 != mine.parametersSha256)
    return fmt::format("it was compressed with other parameters (SHA-256 {}; this checkpoint's "
                       "are {})",
                       h.parametersSha256.substr(0, 16), mine.parametersSha256.substr(0, 16));
  if (h.likelihood != mine.likelihood || h.lanes != mine.lanes || size != uint64_t(d.input_size))
    return fmt::format("its likelihood ({}), lanes ({}) or example size ({}) differ from the "
                       "model's ({}, {}, {})",
                       h.likelihood, h.lanes, size, mine.likelihood, mine.lanes, d.input_size);
  return "";
}

} // namespace

bool vae::decompressVaez(const Model &model, const float *params, void *arena, VaezFile &file,
                         const std::string &path, Dataset &data, std::string &error) {
  const VaezHeader &h = file.header;
  if (std::string why = decoderMismatch(model, params, h); !why.empty()) {
    error = fmt::format("cannot decompress '{}': {}", path, why);
    return false;
  }
  Element element = h.dtype == "uint8"     ? Element::U8
                    : h.dtype == "float32" ? Element::F32
                                           : Element::F64;
  size_t size = size_t(model.desc().input_size);
  size_t width = element == Element::U8 ? 1 : element == Element::F32 ? 4 : 8;
  std::vector<uint8_t> symbols, bytes(size_t(h.examples) * size * width);
  BitsBackCoder coder(model, params, arena, h.precisions);
  for (size_t c = 0; c < file.chunks.size(); ++c) {
    VaezChunk &chunk = file.chunks[c];
    symbols.assign(size_t(chunk.examples) * size, 0);
    bool ok = coder.decompress(chunk.stacks, size_t(chunk.examples), symbols.data()) &&
              std::all_of(chunk.stacks.begin(), chunk.stacks.end(),
                          [](const AnsStack &s) { return s.isInitial(); });
    if (!ok) {
      error = fmt::format("cannot decompress '{}': chunk {} does not decode to the stacks "
                          "compression started from: the file is corrupt",
                          path, c + 1);
      return false;
    }
    uint8_t *out = bytes.data() + size_t(c * h.chunkExamples) * size * width;
    bool bernoulli = h.likelihood == "bernoulli";
    for (size_t i = 0; i < symbols.size(); ++i)
      storeSymbol(element, bernoulli, symbols[i], out + i * width);
  }
  data = Dataset::fromBytes(path, element, size_t(h.examples), size, std::move(bytes));
  data.exampleShape.assign(h.shape.begin(), h.shape.end());
  return true;
}

bool vae::writeNpy(const std::string &path, const Dataset &data, std::string &error) {
  std::string shape = std::to_string(data.count) + ",";
  for (size_t n : data.exampleShape.empty() ? std::vector<size_t>{data.size} : data.exampleShape)
    shape += " " + std::to_string(n) + ",";
  if (shape.back() == ',' && std::count(shape.begin(), shape.end(), ',') > 1)
    shape.pop_back();
  const char *descr = data.element == Element::U8    ? "|u1"
                      : data.element == Element::F32 ? "<f4"
                                                     : "<f8";
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  // Version 1.0: magic, version, u16 header length; the header padded with
  // spaces and ended by a newline so that the data start 64-byte aligned.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  return writeAtomically(
      path,
      [&](std::ostream &out) {
        out.write("\x93NUMPY\x01\x00", 8);
        uint16_t length = uint16_t(header.size());
        out.write(reinterpret_cast<const char *>(&length), 2);
        out << header;
        out.write(reinterpret_cast<const char *>(data.bytes()),
                  std::streamsize(data.count * data.rowBytes()));
      },
      error);
}
