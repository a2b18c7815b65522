//===- Trainer.h - the training loop of vae-train ---------------*- C++ -*-===//

#ifndef VAE_RUNTIME_TRAINER_H
#define VAE_RUNTIME_TRAINER_H

#include "runtime/Model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vae {

/// Images of one IDX file as u8, loaded once (shuffling needs random
/// access); `limit` keeps the first examples only (0: all).
struct Dataset {
  std::string path;
  std::vector<uint8_t> pixels;
  size_t count = 0, size = 0;
  static bool load(const std::string &path, size_t limit, Dataset &out,
                   std::string &error);
};

/// Finds `stem` or `stem.gz` in `dir`; empty when neither exists.
std::string findIdx(const std::string &dir, const std::string &stem);

struct TrainOptions {
  std::string dataDir = "/usr/share/datasets/fashion-mnist";
  std::string outDir = "vae-train-out";
  int64_t epochs = 0; // 0: the model's
  int64_t seed = -1;  // -1: the model's
  size_t limit = 0;   // train examples (0: all)
  bool resume = false;    // continue from outDir/checkpoint.bin
  bool overwrite = false; // replace an existing run in outDir
  bool quiet = false;
};

/// Nats per example, averaged over the examples seen.
struct Terms {
  double loss = 0, reconstruction = 0, kl = 0;
  size_t examples = 0;
};

/// −ELBO of every example of `data`: full batches through vae_eval_elbo, the
/// last partial batch padded and scored per example with vae_score.
Terms evaluate(const Model &model, const float *params, void *arena,
               const Dataset &data, uint64_t seed);

/// What checkpoint.bin holds besides the buffers.
struct CheckpointHeader {
  int64_t paramFloats = 0, stateFloats = 0, epoch = 0, step = 0, seed = 0;
};

/// Reads a checkpoint written for `model` into `params` and `state`; the
/// error names the file and what does not match.
bool readCheckpoint(const std::string &path, const Model &model, float *params,
                    float *state, CheckpointHeader &header, std::string &error);

/// What the inference subcommands do with a trained checkpoint.
enum class Command { Eval, Encode, Score, Pictures };

/// Loads options.outDir/checkpoint.bin (or `checkpoint`) and runs `command`
/// on the test set: eval prints its −ELBO, encode writes latents.csv (label
/// and posterior mean of every test example), score writes scores.csv
/// (per-example −ELBO and its terms), pictures draws reconstructions.png and
/// samples.png. Returns the process exit code.
int runCommand(const Model &model, const TrainOptions &options,
               const std::string &checkpoint, Command command);

/// Trains and writes metrics.csv and checkpoint.bin into options.outDir.
/// Returns the process exit code; messages go to stderr.
int train(const Model &model, const TrainOptions &options);

} // namespace vae

#endif // VAE_RUNTIME_TRAINER_H
