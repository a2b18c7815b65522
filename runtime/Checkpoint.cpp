//===- Checkpoint.cpp - vae-train checkpoints -----------------------------===//

#include "runtime/Checkpoint.h"

#include "runtime/AtomicFile.h"
#include "runtime/Sha256.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

using namespace vae;

namespace {

constexpr char kCheckpointMagic[8] = {'V', 'A', 'E', 'C', 'K', 'P', 'T', '3'};
constexpr int kIntFields = 7, kDoubleFields = 4;
constexpr int64_t kHeaderBytes = 8 + 8 * kIntFields + 8 * kDoubleFields;
/// The SHA-256 of every byte before it ends the file.
constexpr int64_t kDigestBytes = 32;
/// A run record is a few hundred bytes; more means a damaged header.
constexpr int64_t kMaxRunBytes = 1 << 20;

/// The SHA-256 of the first `count` bytes of `in`, read from its start.
Digest digestOf(std::istream &in, int64_t count) {
  Sha256 sha;
  std::vector<char> chunk(1 << 20);
  in.seekg(0);
  while (count > 0 && in) {
    in.read(chunk.data(), std::streamsize(std::min<int64_t>(count, int64_t(chunk.size()))));
    sha.update(chunk.data(), size_t(in.gcount()));
    count -= in.gcount();
  }
  return sha.digest();
}

/// Checks the SHA-256 at the end of a checkpoint of `size` bytes (at least a
/// header and a digest) against its contents, before any field is trusted:
/// a flipped byte anywhere, counts included, is refused as corruption.
bool checkDigest(std::istream &in, const std::string &path, int64_t size, std::string &error) {
  Digest computed = digestOf(in, size - kDigestBytes), stored{};
  in.clear();
  in.seekg(size - kDigestBytes);
  in.read(reinterpret_cast<char *>(stored.data()), kDigestBytes);
  if (in && computed == stored)
    return true;
  // Where the header still reads, say whether the size is the one it
  // describes: a truncated copy is the usual cause.
  int64_t fields[kIntFields] = {};
  in.clear();
  in.seekg(8);
  in.read(reinterpret_cast<char *>(fields), sizeof(fields));
  // (Unsigned: damaged counts may be anything, and must not overflow.)
  uint64_t described = uint64_t(kHeaderBytes + kDigestBytes) + uint64_t(fields[6]) +
                       4 * (uint64_t(fields[0]) + uint64_t(fields[1]));
  std::string sizes = "it has " + std::to_string(size) + " bytes";
  bool plausible = fields[0] >= 0 && fields[1] >= 0 && fields[6] >= 0 &&
                   fields[0] < (int64_t(1) << 40) && fields[1] < (int64_t(1) << 40) &&
                   fields[6] <= kMaxRunBytes;
  if (in && plausible && described != uint64_t(size))
    sizes += ", and its header describes " + std::to_string(described);
  error = "'" + path + "' is corrupt: its SHA-256 does not match its contents (" + sizes +
          "); resume from another checkpoint (best.bin) or train again";
  return false;
}

/// The first non-finite float of `values`, or -1.
int64_t firstNonFinite(const float *values, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i]))
      return i;
  return -1;
}

} // namespace

bool vae::writeCheckpoint(const std::string &path, const Model &model, const float *params,
                          const float *state, const CheckpointHeader &header, std::string &error) {
  const vae_model &d = model.desc();
  model.syncToHost(params); // a GPU library's are on the device
  model.syncToHost(state);
  std::string run;
  for (const auto &[key, value] : header.run)
    run += key + "=" + value + "\n";
  return writeAtomically(
      path,
      [&](std::ostream &out) {
        Sha256 sha;
        auto put = [&](const void *bytes, int64_t count) {
          out.write(static_cast<const char *>(bytes), std::streamsize(count));
          sha.update(bytes, size_t(count));
        };
        int64_t fields[kIntFields] = {d.param_floats,     d.opt_state_floats, header.epoch,
                                      header.step,        header.seed,        header.epochSteps,
                                      int64_t(run.size())};
        put(kCheckpointMagic, 8);
        put(fields, sizeof(fields));
        put(header.epochSums, sizeof(header.epochSums));
        put(run.data(), int64_t(run.size()));
        put(params, d.param_floats * 4);
        put(state, d.opt_state_floats * 4);
        Digest digest = sha.digest();
        out.write(reinterpret_cast<const char *>(digest.data()), kDigestBytes);
      },
      error);
}

namespace {

/// Opens a checkpoint and checks what precedes any field: the magic, the
/// format, a size that holds a header and a digest, and the digest.
bool openVerified(std::ifstream &in, const std::string &path, std::string &error) {
  in.open(path, std::ios::binary);
  if (!in) {
    error = "cannot open checkpoint '" + path + "'";
    return false;
  }
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, kCheckpointMagic, 7) != 0) {
    error = "'" + path + "' is not a vae-train checkpoint (bad magic at byte 0)";
    return false;
  }
  if (magic[7] != kCheckpointMagic[7]) {
    error = "'" + path + "' is a checkpoint of format " + std::string(1, magic[7]) +
            " (byte 7); this vae-train reads format " + kCheckpointMagic[7] +
            ", which carries a SHA-256 of its contents: train again";
    return false;
  }
  in.seekg(0, std::ios::end);
  int64_t size = in.tellg();
  if (size < kHeaderBytes + kDigestBytes) {
    error = "'" + path + "' is truncated in its header (" + std::to_string(size) +
            " bytes; a header and its SHA-256 take " + std::to_string(kHeaderBytes + kDigestBytes) +
            ")";
    return false;
  }
  if (!checkDigest(in, path, size, error))
    return false;
  in.clear();
  in.seekg(8);
  return true;
}

/// The header's fields and run record (the digest already checked: what
/// fails here was written so, by another model or a damaged writer).
bool readHeader(std::istream &in, const std::string &path, const vae_model &d,
                CheckpointHeader &header, int64_t &runBytes, std::string &error) {
  int64_t fields[kIntFields];
  in.read(reinterpret_cast<char *>(fields), sizeof(fields));
  in.read(reinterpret_cast<char *>(header.epochSums), sizeof(header.epochSums));
  header.paramFloats = fields[0];
  header.stateFloats = fields[1];
  header.epoch = fields[2];
  header.step = fields[3];
  header.seed = fields[4];
  header.epochSteps = fields[5];
  runBytes = fields[6];
  if (header.paramFloats != d.param_floats || header.stateFloats != d.opt_state_floats) {
    error = "'" + path + "' holds " + std::to_string(header.paramFloats) + " parameters and " +
            std::to_string(header.stateFloats) + " optimizer-state floats, but model '" + d.name +
            "' has " + std::to_string(d.param_floats) + " and " +
            std::to_string(d.opt_state_floats);
    return false;
  }
  if (header.epoch < 0 || header.step < 0 || header.epochSteps < 0 ||
      header.epochSteps > header.step) {
    error = "'" + path + "' has an impossible epoch or step in its header (byte 24)";
    return false;
  }
  for (double sum : header.epochSums)
    if (!std::isfinite(sum)) {
      error = "'" + path + "' has a running sum that is not finite in its header (byte 64)";
      return false;
    }
  if (runBytes < 0 || runBytes > kMaxRunBytes) {
    error = "'" + path + "' has a run record of " + std::to_string(runBytes) +
            " bytes in its header (byte 56)";
    return false;
  }
  std::string run(size_t(runBytes), '\0');
  if (!in.read(run.data(), std::streamsize(runBytes))) {
    error = "'" + path + "' is truncated in its run record (at byte " +
            std::to_string(kHeaderBytes + in.gcount()) + ")";
    return false;
  }
  header.run.clear();
  std::istringstream lines(run);
  int64_t offset = kHeaderBytes;
  for (std::string line; std::getline(lines, line); offset += int64_t(line.size()) + 1) {
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "'" + path + "' has a malformed run record line at byte " + std::to_string(offset);
      return false;
    }
    header.run[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return true;
}

} // namespace

bool vae::readCheckpoint(const std::string &path, const Model &model, float *params, float *state,
                         CheckpointHeader &header, std::string &error) {
  const vae_model &d = model.desc();
  std::ifstream in;
  int64_t runBytes = 0;
  if (!openVerified(in, path, error) || !readHeader(in, path, d, header, runBytes, error))
    return false;
  int64_t offset = kHeaderBytes + runBytes;
  auto body = [&](float *out, int64_t floats) {
    in.read(reinterpret_cast<char *>(out), std::streamsize(floats * 4));
    offset += in.gcount();
    return bool(in);
  };
  model.hostWrote(params); // a GPU library uploads them before their next use
  model.hostWrote(state);
  int64_t expected = kHeaderBytes + runBytes + 4 * (d.param_floats + d.opt_state_floats);
  if (!body(params, d.param_floats) || !body(state, d.opt_state_floats)) {
    error = "'" + path + "' is truncated at byte " + std::to_string(offset) + " (expected " +
            std::to_string(expected + kDigestBytes) + " bytes)";
    return false;
  }
  in.seekg(kDigestBytes, std::ios::cur);
  if (in.peek() != std::char_traits<char>::eof()) {
    error = "'" + path + "' has extra bytes after byte " + std::to_string(offset + kDigestBytes);
    return false;
  }
  // Written so by a run that diverged: resuming from it would train NaNs on.
  for (auto [values, count, what, start] :
       {std::tuple{params, d.param_floats, "a parameter", kHeaderBytes + runBytes},
        std::tuple{state, d.opt_state_floats, "an optimizer-state value",
                   kHeaderBytes + runBytes + 4 * d.param_floats}})
    if (int64_t bad = firstNonFinite(values, count); bad >= 0) {
      error = fmt::format("'{}' holds {} that is not finite ({} at index {}, byte {}): the "
                          "run that wrote it diverged; resume from best.bin or train again",
                          path, what, values[bad], bad, start + 4 * bad);
      return false;
    }
  return true;
}
