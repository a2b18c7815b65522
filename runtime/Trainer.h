//===- Trainer.h - the training loop of vae-train ---------------*- C++ -*-===//

#ifndef VAE_RUNTIME_TRAINER_H
#define VAE_RUNTIME_TRAINER_H

#include "runtime/Data.h"
#include "runtime/Distributed.h"
#include "runtime/Hyperparams.h"
#include "runtime/Model.h"

#include <cstdint>
#include <map>
#include <string>

namespace vae {

struct TrainOptions {
  /// A folder of MNIST-format IDX files, or one .npy, .csv or IDX file.
  std::string dataPath = "/usr/share/datasets/fashion-mnist";
  /// The test set: a file, or a share of --data held out (seeded); neither:
  /// the folder's t10k-* files.
  std::string testPath;
  double testFraction = 0;
  /// A CSV file's column of labels, by name or 0-based index ("": none).
  std::string labelColumn;
  /// Labels of --data and of --test from .npy files of integers ("": none).
  std::string labelsPath, testLabelsPath;
  /// Train on the examples of these labels only ("0-8", "1,3"; "": all).
  std::string classes;
  /// Which data settings were given on the command line: those not given
  /// are the run's own (its checkpoint's) when one is resumed or used, and
  /// those given must agree with a resumed run's.
  bool dataGiven = false, binarizeGiven = false, limitGiven = false, lastBatchGiven = false,
       testGiven = false, testFractionGiven = false, labelColumnGiven = false, classesGiven = false,
       labelsGiven = false, testLabelsGiven = false;
  /// Also write the checkpoint every this many steps within an epoch (0:
  /// at the end of epochs only).
  int64_t checkpointEvery = 0;
  std::string outDir = "vae-train-out";
  int64_t epochs = 0; // 0: the model's
  int64_t seed = -1;  // -1: the model's
  size_t limit = 0;   // train examples (0: all)
  Binarize binarize = Binarize::None;
  /// Train on the last, partial batch of an epoch (padded, the padding
  /// weighted 0) rather than drop it.
  bool padLastBatch = true;
  /// A progress bar during epochs; only when stdout is a terminal.
  bool progress = true;
  bool resume = false;    // continue from outDir/checkpoint.bin
  bool overwrite = false; // replace an existing run in outDir
  /// `score`: importance samples per example for the log-likelihood
  /// estimate (0: none).
  int64_t importanceSamples = 0;
  /// `score`: the AUROC of the scores as detectors of the classes outside
  /// `classes` (default: the run's --classes).
  bool auroc = false;
  /// `score`: also the bits a PNG of each example takes and the
  /// input-complexity score -log2 p(x) - those bits (Serra et al. 2020).
  bool complexity = false;
  /// `encode`: the set(s) encoded: "test", "train" or "all".
  std::string encodeSplit = "test";
  /// `encode`: clusters of the posterior means by k-means (0: none).
  int64_t kmeans = 0;
  /// `sample`: draws from the prior.
  int64_t samples = 64;
  /// `reconstruct`: test images shown with their reconstructions.
  int64_t reconstructions = 8;
  /// `compress`: the run's test set instead of --data FILE; `compress` and
  /// `decompress`: the file written (-o), and decompress's .vaez file.
  bool compressTestSet = false;
  std::string compressOutput, vaezInput;
  /// `decode`: the codes (a .npy of [n, latent]), written through -o.
  std::string codesPath;
  /// `interpolate`: from test example `fromIndex` to `toIndex` in `steps`
  /// points, on the segment or (`spherical`) the great circle.
  int64_t fromIndex = 0, toIndex = 0, steps = 10;
  bool spherical = false;
  /// `compress`: the code's precisions in bits (BitsBackPrecisions).
  int64_t latentBits = 12, posteriorBits = 24, likelihoodBits = 24;
  /// Hyperparameters given on the command line, by run-record key
  /// (hyperparamFlags()), and --schedule ("" when not given): they override
  /// the train block's, and a resumed run's own.
  std::map<std::string, double> hyper;
  std::string schedule;
};

/// `nats` per example of `values` values in bits per dimension, the unit
/// of compression papers: a discrete model's -ELBO is then the length of a
/// bits-back code (vae-train compress); a density's is relative only.
inline double bitsPerDim(double nats, int64_t values) {
  return nats / (0.69314718055994530942 * double(values));
}

/// Nats per example, averaged over the examples seen. `objective` is what
/// training minimizes, reconstruction + beta KL (with the KL weight of each
/// step during warm-up); the −ELBO is reconstruction + KL whatever beta is.
struct Terms {
  double objective = 0, reconstruction = 0, kl = 0;
  size_t examples = 0;
  double negElbo() const { return reconstruction + kl; }
  /// The -ELBO in bits per value of an example of `values` values.
  double bitsPerDim(int64_t values) const { return vae::bitsPerDim(negElbo(), values); }
};

/// The terms of every example of `data`: full batches through vae_eval_elbo,
/// the last partial batch padded and scored per example with vae_score.
/// Over several processes (`world`), each evaluates every world.size()-th
/// batch and the sums are reduced: every process returns the whole's terms.
Terms evaluate(const Model &model, const float *params, void *arena, const Dataset &data,
               uint64_t seed, Communicator &world = singleProcess());

/// The importance-weighted estimate of log p(x) with `samples` draws from
/// the encoder (Burda et al. 2016): log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),
/// one per example of `data`. K = 1 is a one-sample ELBO; the estimate
/// tightens towards log p(x) as K grows.
std::vector<double> importanceWeightedLogLikelihood(const Model &model, const float *params,
                                                    void *arena, const Dataset &data, uint64_t seed,
                                                    int64_t samples);

/// What the inference subcommands do with a trained checkpoint.
enum class Command {
  Eval,
  Encode,
  Score,
  Sample,
  Reconstruct,
  Compress,
  Decompress,
  Decode,
  Interpolate
};

/// Loads options.outDir/checkpoint.bin (or `checkpoint`) and runs `command`
/// on the test set: eval prints its −ELBO, encode writes latents.csv (label
/// and posterior mean of every test example), score writes scores.csv
/// (per-example −ELBO and its terms, and the importance-weighted −log p(x)
/// with options.importanceSamples), sample writes samples.npy and
/// samples.png, reconstruct reconstructions.png. Returns the process exit code.
int runCommand(const Model &model, const TrainOptions &options, const std::string &checkpoint,
               Command command);

struct CheckpointHeader;
/// compress and decompress (Compress.cpp), with the checkpoint's parameters:
/// options.compressOutput written from --data (or the run's test set), and
/// from options.vaezInput.
int runCompress(const Model &model, const float *params, void *arena,
                const CheckpointHeader &header, const TrainOptions &options);
int runDecompress(const Model &model, const float *params, void *arena,
                  const TrainOptions &options);
/// decode (options.codesPath to options.compressOutput and a PNG beside it)
/// and interpolate (OUT/interpolation.npy and .png) (LatentTools.cpp).
int runDecode(const Model &model, const float *params, void *arena, const TrainOptions &options);
int runInterpolate(const Model &model, const float *params, void *arena, const Dataset &test,
                   const TrainOptions &options);

/// Trains and writes metrics.csv, metrics.json, steps.csv, checkpoint.bin
/// and the pictures into options.outDir. Returns the process exit code;
/// messages go to stderr. SIGINT and SIGTERM end the run after the current
/// step with a checkpoint that --resume continues bit-identically (exit
/// code 128 + the signal); a second one ends it at once.
///
/// Over several processes (`world`, vae-train under mpirun): data-parallel,
/// each process a share of every global batch of world.size() x the
/// library's batch; gradients summed (vae_grad_step, an allreduce,
/// vae_apply_update), so every process holds the same parameters; rank 0
/// alone writes files and prints. A stop or a NaN is agreed on at a step;
/// a resume needs the run's number of processes.
int train(const Model &model, const TrainOptions &options, Communicator &world = singleProcess());

} // namespace vae

#endif // VAE_RUNTIME_TRAINER_H
