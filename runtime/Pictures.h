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
/// the others at the prior mean). Inputs that are not square images are
/// skipped with a message.
bool writePictures(const Model &model, const float *params, void *arena,
                   const Dataset &test, uint64_t seed, const std::string &dir,
                   std::string &error);

/// loss_curve.png: training −ELBO per step (light grey), its moving average
/// (dark grey) and the test -ELBO per epoch (black squares), with the epochs
/// on the x axis and nats on the y axis.
bool writeLossCurve(const std::string &path, const LossHistory &history,
                    std::string &error);

} // namespace vae

#endif // VAE_RUNTIME_PICTURES_H
