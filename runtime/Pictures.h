//===- Pictures.h - what vae-train draws ------------------------*- C++ -*-===//

#ifndef VAE_RUNTIME_PICTURES_H
#define VAE_RUNTIME_PICTURES_H

#include "runtime/Data.h"
#include "runtime/Model.h"

#include <string>
#include <vector>

namespace vae {

/// The losses a run has seen, for loss_curve.png.
struct LossHistory {
  /// Training −ELBO of every step, at its position in epochs (k / batches
  /// into epoch e is e + k / batches).
  std::vector<std::pair<double, double>> steps;
  /// Test -ELBO after each epoch (epoch number, nats).
  std::vector<std::pair<double, double>> test;
};

/// Writes into `dir`: reconstructions.png (8 test images above the decoded
/// means of their posterior means), samples.png (64 prior draws) and
/// latent_traversal.png (a 10 x 10 grid over the two latent dimensions with
/// the largest KL on the test set, from -2 to +2 prior standard deviations,
/// the others at the prior mean; one row of 10 for a one-dimensional latent
/// space). Inputs that are not square images are skipped with a message.
bool writePictures(const Model &model, const float *params, void *arena, const Dataset &test,
                   uint64_t seed, const std::string &dir, std::string &error);

/// The means of the decoder's distribution at `count` latent codes (rows of
/// `z`, count x latent): probabilities for a Bernoulli decoder, the data's
/// integers for a discrete one.
std::vector<std::vector<float>> decoderMeans(const Model &model, const float *params, void *arena,
                                             const std::vector<float> &z, size_t count);

/// `path` (a PNG): `images` (square, as decoderMeans gives them) in rows of
/// `columns`, every pixel drawn 3 x 3, under `caption`.
bool writeImageGrid(const vae_model &d, const std::string &path,
                    const std::vector<std::vector<float>> &images, uint32_t columns,
                    const std::string &caption, std::string &error);

/// The side of a model's square images, or 0 when its inputs are not.
uint32_t squareSide(const vae_model &d);

/// `path` (a PNG): the first `count` examples of `test` in rows of up to
/// 10, each row above their reconstructions (the decoder's means at the
/// posterior means), every pixel drawn 4 x 4.
bool writeReconstructions(const Model &model, const float *params, void *arena, const Dataset &test,
                          size_t count, const std::string &path, std::string &error);

/// Writes `count` draws from the prior through the decoder (its means) into
/// `dir`: samples.npy (float32, [count, input shape...]) and, for square
/// images, samples.png (the first 256 at most).
bool writeSamples(const Model &model, const float *params, void *arena, uint64_t seed, size_t count,
                  const std::string &dir, std::string &error);

/// loss_curve.png: training −ELBO per step (light grey), its moving average
/// (dark grey) and the test -ELBO per epoch (black squares), with the epochs
/// on the x axis and nats on the y axis, axis titles and a legend.
bool writeLossCurve(const std::string &path, const LossHistory &history, std::string &error);

/// The two latent dimensions with the largest KL from the prior, summed
/// over `count` posteriors (means and log-variances, count x latent).
std::pair<size_t, size_t> largestKlDimensions(const vae_model &d, const std::vector<float> &mu,
                                              const std::vector<float> &logvar, size_t count);

/// score_histogram.png: histograms of an anomaly score for the normal
/// examples (blue) and the anomalies (orange), each as the fraction of its
/// group per bin, with a legend and `title` (the AUROC).
bool writeScoreHistogram(const std::string &path, const std::vector<double> &scores,
                         const std::vector<bool> &anomaly, const std::string &normalName,
                         const std::string &title, std::string &error);

/// latent_scatter.png: the posterior means (count x latent) in dimensions
/// `dims`, one dot each, coloured by `groups` (labels or clusters; none:
/// black), with a legend headed `title`.
bool writeLatentScatter(const std::string &path, const std::vector<float> &mu, size_t count,
                        size_t latent, std::pair<size_t, size_t> dims,
                        const std::vector<int32_t> &groups, const std::string &title,
                        std::string &error);

} // namespace vae

#endif // VAE_RUNTIME_PICTURES_H
