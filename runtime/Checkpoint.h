//===- Checkpoint.h - vae-train checkpoints ---------------------*- C++ -*-===//
//
// checkpoint.bin: "VAECKPT3"; seven int64 (parameter floats, optimizer-state
// floats, epochs done, steps done, seed, steps done of the running epoch,
// bytes of the run record); four doubles (the running epoch's sums of the
// objective, reconstruction and KL over its examples, and their count); the
// run record ("key=value" lines: the model's fingerprint, the data and its
// settings, the hyperparameters); the parameters; the optimizer state; the
// SHA-256 of every byte before it (32 bytes), checked before any field is
// read. All little-endian.
// The RNG position is (seed, epoch, step): every draw is keyed by them.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_CHECKPOINT_H
#define VAE_RUNTIME_CHECKPOINT_H

#include "Model.h" // (beside it, in the tree and installed as <vae/...>)

#include <cstdint>
#include <map>
#include <string>

namespace vae {

struct CheckpointHeader {
  int64_t paramFloats = 0, stateFloats = 0, epoch = 0, step = 0, seed = 0;
  /// Steps of epoch `epoch + 1` already taken: 0 at the end of an epoch,
  /// more for a run stopped in the middle of one (SIGINT, SIGTERM).
  int64_t epochSteps = 0;
  /// That epoch's sums so far: objective, reconstruction and KL, each
  /// weighted by examples, and the examples.
  double epochSums[4] = {0, 0, 0, 0};
  /// What made it, compared when it is loaded (see Trainer.cpp).
  std::map<std::string, std::string> run;
};

/// Writes through a temporary file and a rename: a crash at any moment
/// leaves the previous checkpoint or the new one, never a torn file.
bool writeCheckpoint(const std::string &path, const Model &model, const float *params,
                     const float *state, const CheckpointHeader &header, std::string &error);

/// Reads a checkpoint written for `model` into `params` and `state`; the
/// error names the file, the byte offset and what does not match. Refused:
/// a file whose SHA-256 does not match (any changed byte: "is corrupt"), an
/// earlier format, another model's, and a non-finite parameter or
/// optimizer-state value.
bool readCheckpoint(const std::string &path, const Model &model, float *params, float *state,
                    CheckpointHeader &header, std::string &error);

} // namespace vae

#endif // VAE_RUNTIME_CHECKPOINT_H
