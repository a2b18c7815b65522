//===- RunData.h - what a run trains on, and its record ---------*- C++ -*-===//
//
// Shared by training (Trainer.cpp) and the inference subcommands
// (Inference.cpp): the data sets of a run as its settings name them, and
// the run record a checkpoint keeps of them.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_RUNDATA_H
#define VAE_RUNTIME_RUNDATA_H

#include "runtime/Trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <string>
#include <vector>

namespace vae {

/// Evaluation draws its noise with this key mixed into the seed (epoch
/// 0xffffffff - k for importance sample k), never colliding with training.
constexpr uint64_t kEvalNoiseKey = 0x5eed5eedull;

/// The training and test sets of a run, checked against the model:
/// --data is a folder of MNIST-format IDX files (train-* and t10k-*, with
/// their labels) or one file (.npy, .csv, IDX); --test another file, or
/// --test-fraction a seeded share of --data held out. Training keeps
/// --classes only, then the first --limit examples. Binarized as asked; a
/// dynamically binarized run evaluates on the statically binarized test
/// set, so that its test -ELBO is comparable across epochs. (`wantTrain`
/// false: the training set only where the test set is split from it.)
bool loadImages(const Model &model, const TrainOptions &options, uint64_t seed, bool wantTrain,
                Dataset &trainSet, Dataset &testSet, std::string &error);

/// Rows [0, n) whose index `keep` accepts, at most `limit` of them (0: no
/// limit).
template <typename Keep> std::vector<uint32_t> rowsWhere(size_t n, size_t limit, Keep keep) {
  std::vector<uint32_t> rows;
  for (uint32_t i = 0; i < n && (!limit || rows.size() < limit); ++i)
    if (keep(i))
      rows.push_back(i);
  return rows;
}

/// The settings of `options` the user did not give, from the run record of
/// a checkpoint: a resumed run, or eval/score of one, sees the data the
/// run trained on, as it trained on it. (`limit`, `classes` and
/// `last_batch` only when `forTraining`.)
void adoptRunSettings(const std::map<std::string, std::string> &run, TrainOptions &options,
                      bool forTraining);

/// What a checkpoint records of the run that made it: the model's
/// fingerprint (vae_model.fingerprint: its encoder, decoder and prior), the
/// training data (files, examples, CRC-32) and their settings. (The
/// hyperparameters join it: hyperparamRecord.)
std::map<std::string, std::string> runRecord(const Model &model, const TrainOptions &options,
                                             const Dataset &trainSet);

/// Whether the model of `model` is the one that made a checkpoint with the
/// run record `run`; otherwise `error` says what differs.
bool sameModel(const std::map<std::string, std::string> &run, const Model &model,
               const std::string &path, std::string &error);

/// For --resume: every difference between the run record of the checkpoint
/// and this run's, one line each, naming the flag that makes it.
std::string runDifferences(const std::map<std::string, std::string> &saved,
                           const std::map<std::string, std::string> &now);

/// Prints "vae-train: error: ..." and returns the exit code 1.
inline int fail(const std::string &error) {
  std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
  return 1;
}

/// Calls `visit(first, n, x, eps)` for every batch of `data` in order (with
/// `shares` > 1, for every `shares`-th one from batch `share` on: one rank's
/// share of an evaluation), the last one padded with zeros; `n` is the
/// number of real examples and `eps` the evaluation noise of that batch,
/// drawn per example (the same for eval, score and the first importance
/// sample, so their numbers agree, and whatever the batch size).
template <typename Visit>
void forEachBatch(const Model &model, const Dataset &data, uint64_t seed, Visit visit,
                  size_t share = 0, size_t shares = 1) {
  size_t batch = size_t(model.desc().batch), latent = size_t(model.desc().latent_size);
  std::vector<float> x(batch * data.size), eps(batch * latent);
  std::vector<uint32_t> indices(batch);
  for (size_t first = share * batch; first < data.count; first += shares * batch) {
    size_t n = std::min(batch, data.count - first);
    std::iota(indices.begin(), indices.begin() + long(n), uint32_t(first));
    gather(data, indices.data(), n, x);
    fillNoise(eps, seed ^ kEvalNoiseKey, 0xffffffffu, 0, first * latent);
    visit(first, n, x, eps);
  }
}

/// With --classes (`classesText`), the test set's examples of other
/// classes are the anomalies: moved from `testSet` into `anomalies`, so that
/// each epoch's test -ELBO is over the normal ones and the anomalies' is
/// printed beside it. Nothing moves without labels or without both kinds.
void splitAnomalies(const std::string &classesText, Dataset &testSet, Dataset &anomalies);

} // namespace vae

#endif // VAE_RUNTIME_RUNDATA_H
