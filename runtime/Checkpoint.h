//===- Checkpoint.h - vae-train checkpoints ---------------------*- C++ -*-===//
//
// checkpoint.bin: "VAECKPT1", five int64 (parameter floats, optimizer-state
// floats, epochs done, steps done, seed), the parameters, the optimizer state.
// The RNG position is (seed, epoch, step): every draw is keyed by them.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_CHECKPOINT_H
#define VAE_RUNTIME_CHECKPOINT_H

#include "runtime/Model.h"

#include <cstdint>
#include <string>

namespace vae {

struct CheckpointHeader {
  int64_t paramFloats = 0, stateFloats = 0, epoch = 0, step = 0, seed = 0;
};

/// Writes through a temporary file and a rename: a crash at any moment
/// leaves the previous checkpoint or the new one, never a torn file.
bool writeCheckpoint(const std::string &path, const Model &model,
                     const float *params, const float *state,
                     const CheckpointHeader &header, std::string &error);

/// Reads a checkpoint written for `model` into `params` and `state`; the
/// error names the file, the byte offset and what does not match.
bool readCheckpoint(const std::string &path, const Model &model, float *params,
                    float *state, CheckpointHeader &header, std::string &error);

} // namespace vae

#endif // VAE_RUNTIME_CHECKPOINT_H
