//===- Checkpoint.cpp - vae-train checkpoints -----------------------------===//

#include "runtime/Checkpoint.h"

#include "runtime/AtomicFile.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace vae;

static constexpr char kCheckpointMagic[8] = {'V', 'A', 'E', 'C', 'K', 'P', 'T', '2'};
static constexpr int kIntFields = 7, kDoubleFields = 4;
static constexpr int64_t kHeaderBytes = 8 + 8 * kIntFields + 8 * kDoubleFields;
/// A run record is a few hundred bytes; more means a damaged header.
static constexpr int64_t kMaxRunBytes = 1 << 20;

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
        int64_t fields[kIntFields] = {d.param_floats,     d.opt_state_floats, header.epoch,
                                      header.step,        header.seed,        header.epochSteps,
                                      int64_t(run.size())};
        out.write(kCheckpointMagic, 8);
        out.write(reinterpret_cast<const char *>(fields), sizeof(fields));
        out.write(reinterpret_cast<const char *>(header.epochSums), sizeof(header.epochSums));
        out.write(run.data(), std::streamsize(run.size()));
        out.write(reinterpret_cast<const char *>(params), std::streamsize(d.param_floats * 4));
        out.write(reinterpret_cast<const char *>(state), std::streamsize(d.opt_state_floats * 4));
      },
      error);
}

bool vae::readCheckpoint(const std::string &path, const Model &model, float *params, float *state,
                         CheckpointHeader &header, std::string &error) {
  const vae_model &d = model.desc();
  std::ifstream in(path, std::ios::binary);
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
            ", which records the model and data that made it: train again";
    return false;
  }
  int64_t fields[kIntFields];
  in.read(reinterpret_cast<char *>(fields), sizeof(fields));
  int64_t got = 8 + in.gcount();
  if (in) {
    in.read(reinterpret_cast<char *>(header.epochSums), sizeof(header.epochSums));
    got += in.gcount();
  }
  if (!in) {
    error = "'" + path + "' is truncated in its header (at byte " + std::to_string(got) + " of " +
            std::to_string(kHeaderBytes) + ")";
    return false;
  }
  header.paramFloats = fields[0];
  header.stateFloats = fields[1];
  header.epoch = fields[2];
  header.step = fields[3];
  header.seed = fields[4];
  header.epochSteps = fields[5];
  int64_t runBytes = fields[6];
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
  offset = kHeaderBytes + runBytes;
  auto body = [&](float *out, int64_t floats) {
    in.read(reinterpret_cast<char *>(out), std::streamsize(floats * 4));
    offset += in.gcount();
    return bool(in);
  };
  model.hostWrote(params); // a GPU library uploads them before their next use
  model.hostWrote(state);
  if (!body(params, d.param_floats) || !body(state, d.opt_state_floats)) {
    error = "'" + path + "' is truncated at byte " + std::to_string(offset) + " (expected " +
            std::to_string(kHeaderBytes + runBytes + 4 * (d.param_floats + d.opt_state_floats)) +
            " bytes)";
    return false;
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    error = "'" + path + "' has extra bytes after byte " + std::to_string(offset);
    return false;
  }
  return true;
}
