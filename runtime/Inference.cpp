//===- Inference.cpp - what vae-train does with a trained checkpoint ------===//

#include "runtime/AtomicFile.h"
#include "runtime/Analysis.h"
#include "runtime/Checkpoint.h"
#include "runtime/Pictures.h"
#include "runtime/RunData.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <numeric>

using namespace vae;

int vae::runCommand(const Model &model, const TrainOptions &given,
                    const std::string &checkpointPath, Command command) {
  const vae_model &d = model.desc();
  TrainOptions options = given;
  std::string error;
  std::string path = checkpointPath.empty() ? options.outDir + "/checkpoint.bin"
                                            : checkpointPath;
  AlignedBuffer params = model.newParams(), state = model.newOptimizerState();
  AlignedBuffer arena = model.newArena();
  CheckpointHeader header;
  Dataset unused, images;
  if (!readCheckpoint(path, model, params.data(), state.data(), header, error) ||
      !sameModel(header.run, model, path, error))
    return fail(error);
  // The test set of the run's data, binarized as it was, unless --data or
  // --binarize say otherwise.
  adoptRunSettings(header.run, options, /*forTraining=*/false);
  uint64_t seed = uint64_t(options.seed >= 0 ? options.seed : header.seed);
  if (!loadImages(model, options, uint64_t(header.seed), false, unused, images, error))
    return fail(error);
  std::filesystem::create_directories(options.outDir);
  size_t batch = size_t(d.batch), latent = size_t(d.latent_size);
  switch (command) {
  case Command::Eval: {
    Terms t = evaluate(model, params.data(), arena.bytes(), images, seed);
    // The objective at the run's beta (--beta may have set it), else the library's.
    Hyperparams hyper = Hyperparams::of(d);
    applyHyperparamRecord(header.run, hyper);
    t.objective = t.reconstruction + hyper.beta * t.kl;
    std::printf("test -ELBO %.2f nats (reconstruction %.2f, KL %.2f) over %zu "
                "examples, checkpoint of epoch %lld",
                t.negElbo(), t.reconstruction, t.kl, t.examples, (long long)header.epoch);
    if (hyper.beta != 1.0)
      std::printf("; objective with beta %g: %.2f", hyper.beta, t.objective);
    std::printf("\n");
    return 0;
  }
  case Command::Encode:
  case Command::Score: {
    bool encode = command == Command::Encode;
    std::vector<double> iw;
    if (!encode && options.importanceSamples > 0) {
      iw = importanceWeightedLogLikelihood(model, params.data(), arena.bytes(), images,
                                           seed, options.importanceSamples);
      double mean = std::accumulate(iw.begin(), iw.end(), 0.0) / double(iw.size());
      std::printf("importance-weighted -log p(x), K = %lld: %.2f nats per example "
                  "over %zu examples\n",
                  (long long)options.importanceSamples, -mean, iw.size());
    }
    std::string out = options.outDir + (encode ? "/latents.csv" : "/scores.csv");
    std::vector<float> mu(batch * latent), logvar(mu.size());
    std::vector<float> loss(batch), rec(batch), kl(batch);
    bool ok = writeAtomically(
        out,
        [&](std::ostream &csv) {
          if (encode) {
            csv << "index,label";
            for (size_t j = 0; j < latent; ++j)
              csv << ",mu" << j;
          } else {
            csv << "index,label,neg_elbo,reconstruction,kl";
            if (!iw.empty())
              csv << ",neg_iw_log_likelihood";
          }
          csv << '\n';
          forEachBatch(model, images, seed,
                       [&](size_t first, size_t n, std::vector<float> &x,
                           std::vector<float> &eps) {
                         if (encode)
                           model.encode(params.data(), arena.bytes(), x.data(),
                                        mu.data(), logvar.data());
                         else
                           model.score(params.data(), arena.bytes(), x.data(),
                                       eps.data(), loss.data(), rec.data(), kl.data());
                         for (size_t b = 0; b < n; ++b) {
                           csv << first + b << ',';
                           if (!images.labels.empty())
                             csv << images.labels[first + b];
                           if (encode)
                             for (size_t j = 0; j < latent; ++j)
                               csv << ',' << mu[b * latent + j];
                           else // the −ELBO whatever beta is
                             csv << ',' << double(rec[b]) + double(kl[b]) << ',' << rec[b]
                                 << ',' << kl[b];
                           if (!iw.empty())
                             csv << ',' << -iw[first + b];
                           csv << '\n';
                         }
                       });
        },
        error);
    if (!ok)
      return fail(error);
    std::printf("wrote %s (%zu examples)\n", out.c_str(), images.count);
    return 0;
  }
  case Command::Pictures:
    if (!writePictures(model, params.data(), arena.bytes(), images, seed,
                       options.outDir, error))
      return fail(error);
    return 0;
  }
  return 1;
}
