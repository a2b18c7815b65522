//===- Idx.cpp - stream MNIST-format IDX files ----------------------------===//

#include "runtime/Idx.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cstdio>

using namespace vae;

namespace {

uint32_t bigEndian(const unsigned char *p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

std::string at(const std::string &path, uint64_t offset) {
  return "'" + path + "' at byte " + std::to_string(offset);
}

} // namespace

std::unique_ptr<IdxReader> IdxReader::open(const std::string &path, std::string &error) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) {
    error = "cannot open '" + path + "'";
    return nullptr;
  }
  std::unique_ptr<IdxReader> reader(new IdxReader);
  reader->path = path;
  reader->file = file;
  unsigned char magic[4];
  int got = gzread(file, magic, 4);
  if (got != 4) {
    error = "'" + path + "' is not an IDX file: " + std::to_string(got < 0 ? 0 : got) +
            " bytes, shorter than the 4-byte magic number";
    return nullptr;
  }
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 || magic[3] > 4) {
    error = fmt::format("'{}' is not an IDX file of unsigned bytes: magic 0x{:02x}{:02x}{:02x}"
                        "{:02x} at byte 0 (expected 0x000008 and 1 to 4 dimensions)",
                        path, magic[0], magic[1], magic[2], magic[3]);
    return nullptr;
  }
  unsigned rank = magic[3];
  std::vector<unsigned char> dims(4 * rank);
  got = gzread(file, dims.data(), unsigned(dims.size()));
  if (got != int(dims.size())) {
    error = "truncated header in " + at(path, 4 + uint64_t(got < 0 ? 0 : got)) + ": expected " +
            std::to_string(rank) + " dimension sizes";
    return nullptr;
  }
  reader->numExamples = bigEndian(&dims[0]);
  reader->bytesPerExample = 1;
  for (unsigned d = 1; d < rank; ++d) {
    uint32_t size = bigEndian(&dims[4 * d]);
    if (size == 0 || size > (1u << 24)) {
      error = "'" + path + "' has dimension " + std::to_string(d) + " of size " +
              std::to_string(size) + " (at byte " + std::to_string(4 + 4 * d) + ")";
      return nullptr;
    }
    reader->shape.push_back(size);
    reader->bytesPerExample *= size;
    if (reader->bytesPerExample > (uint64_t(1) << 32)) {
      error = "'" + path + "' has examples of more than 4 GiB (dimension sizes at bytes 8 to " +
              std::to_string(4 + 4 * d) + ")";
      return nullptr;
    }
  }
  reader->headerBytes = 4 + 4 * uint64_t(rank);
  return reader;
}

IdxReader::~IdxReader() {
  if (file)
    gzclose(static_cast<gzFile>(file));
}

bool IdxReader::read(size_t n, std::vector<uint8_t> &out, std::string &error) {
  if (n > numExamples - position) {
    error = "'" + path + "' has " + std::to_string(numExamples - position) + " examples left, " +
            std::to_string(n) + " asked for";
    return false;
  }
  // Grown as the bytes arrive: a damaged header may promise far more than
  // the file holds (tests/fuzz/vaert-fuzz), and a gzip stream's length is
  // known only once read.
  size_t total = 0;
  if (__builtin_mul_overflow(n, size_t(bytesPerExample), &total)) {
    error = "'" + path + "' promises more than 2^64 bytes in its header";
    return false;
  }
  out.clear();
  size_t done = 0;
  while (done < total) {
    // (Doubling from 64 KiB: a header that promises much over a short file
    // costs a small allocation, not a large zeroed one.)
    size_t step = std::min<size_t>(std::max<size_t>(done, 1u << 16), 1u << 30);
    unsigned chunk = unsigned(std::min(total - done, step));
    out.resize(done + chunk);
    int got = gzread(static_cast<gzFile>(file), out.data() + done, chunk);
    if (got <= 0) {
      int code;
      const char *why = gzerror(static_cast<gzFile>(file), &code);
      uint64_t offset = headerBytes + uint64_t(position) * bytesPerExample + done;
      error = (code != Z_OK && code != Z_BUF_ERROR
                   ? "unreadable data in " + at(path, offset) + ": " + why
                   : "'" + path + "' is truncated at byte " + std::to_string(offset) +
                         ": its header promises " + std::to_string(numExamples) + " examples of " +
                         std::to_string(bytesPerExample) + " bytes");
      return false;
    }
    done += size_t(got);
  }
  position += uint32_t(n);
  return true;
}

bool IdxReader::rewind(std::string &error) {
  if (gzseek(static_cast<gzFile>(file), long(headerBytes), SEEK_SET) < 0) {
    error = "cannot rewind '" + path + "'";
    return false;
  }
  position = 0;
  return true;
}

bool vae::writeIdx(const std::string &path, const std::vector<uint32_t> &dims,
                   const std::vector<uint8_t> &data, std::string &error) {
  bool compress = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  gzFile file = gzopen(path.c_str(), compress ? "wb" : "wbT");
  if (!file) {
    error = "cannot write '" + path + "'";
    return false;
  }
  std::vector<unsigned char> header = {0, 0, 0x08, (unsigned char)dims.size()};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      header.push_back((unsigned char)(d >> shift));
  bool ok = gzwrite(file, header.data(), unsigned(header.size())) == int(header.size()) &&
            (data.empty() || gzwrite(file, data.data(), unsigned(data.size())) == int(data.size()));
  ok = gzclose(file) == Z_OK && ok;
  if (!ok)
    error = "writing '" + path + "' failed";
  return ok;
}
