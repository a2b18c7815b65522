//===- Checkpoint.cpp - vae-train checkpoints -----------------------------===//

#include "runtime/Checkpoint.h"

#include "runtime/AtomicFile.h"

#include <cstring>
#include <fstream>

using namespace vae;

static constexpr char kCheckpointMagic[8] = {'V', 'A', 'E', 'C', 'K', 'P', 'T', '1'};
static constexpr int64_t kHeaderBytes = 8 + 5 * 8;

bool vae::writeCheckpoint(const std::string &path, const Model &model,
                          const float *params, const float *state,
                          const CheckpointHeader &header, std::string &error) {
  const vae_model &d = model.desc();
  return writeAtomically(
      path,
      [&](std::ostream &out) {
        int64_t fields[5] = {d.param_floats, d.opt_state_floats, header.epoch,
                             header.step, header.seed};
        out.write(kCheckpointMagic, 8);
        out.write(reinterpret_cast<const char *>(fields), sizeof(fields));
        out.write(reinterpret_cast<const char *>(params),
                  std::streamsize(d.param_floats * 4));
        out.write(reinterpret_cast<const char *>(state),
                  std::streamsize(d.opt_state_floats * 4));
      },
      error);
}

bool vae::readCheckpoint(const std::string &path, const Model &model,
                         float *params, float *state, CheckpointHeader &header,
                         std::string &error) {
  const vae_model &d = model.desc();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open checkpoint '" + path + "'";
    return false;
  }
  char magic[8];
  int64_t fields[5];
  if (!in.read(magic, 8) || std::memcmp(magic, kCheckpointMagic, 8) != 0) {
    error = "'" + path + "' is not a vae-train checkpoint (bad magic at byte 0)";
    return false;
  }
  if (!in.read(reinterpret_cast<char *>(fields), sizeof(fields))) {
    error = "'" + path + "' is truncated in its header (at byte " +
            std::to_string(8 + in.gcount()) + " of " + std::to_string(kHeaderBytes) + ")";
    return false;
  }
  header = {fields[0], fields[1], fields[2], fields[3], fields[4]};
  if (header.paramFloats != d.param_floats || header.stateFloats != d.opt_state_floats) {
    error = "'" + path + "' holds " + std::to_string(header.paramFloats) +
            " parameters and " + std::to_string(header.stateFloats) +
            " optimizer-state floats, but model '" + d.name + "' has " +
            std::to_string(d.param_floats) + " and " +
            std::to_string(d.opt_state_floats);
    return false;
  }
  if (header.epoch < 0 || header.step < 0) {
    error = "'" + path + "' has a negative epoch or step in its header (byte 24)";
    return false;
  }
  int64_t offset = kHeaderBytes;
  auto body = [&](float *out, int64_t floats) {
    in.read(reinterpret_cast<char *>(out), std::streamsize(floats * 4));
    offset += in.gcount();
    return bool(in);
  };
  if (!body(params, d.param_floats) || !body(state, d.opt_state_floats)) {
    error = "'" + path + "' is truncated at byte " + std::to_string(offset) +
            " (expected " +
            std::to_string(kHeaderBytes + 4 * (d.param_floats + d.opt_state_floats)) +
            " bytes)";
    return false;
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    error = "'" + path + "' has extra bytes after byte " + std::to_string(offset);
    return false;
  }
  return true;
}
