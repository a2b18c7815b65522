//===- Evaluate.cpp - the test -ELBO and importance-weighted scores -------===//
//
// What training and the inference subcommands measure on a data set: the
// mean loss terms (vae::evaluate) and the importance-weighted estimate of
// log p(x) per example.
//
//===----------------------------------------------------------------------===//

#include "runtime/RunData.h"
#include "runtime/Trainer.h"

#include <algorithm>
#include <cmath>

using namespace vae;

Terms vae::evaluate(const Model &model, const float *params, void *arena, const Dataset &data,
                    uint64_t seed, Communicator &world) {
  size_t batch = size_t(model.desc().batch);
  std::vector<float> loss(batch), rec(batch), kl(batch);
  // objective, reconstruction, KL (each summed over examples), examples
  double sums[4] = {0, 0, 0, 0};
  forEachBatch(
      model, data, seed,
      [&](size_t, size_t n, std::vector<float> &x, std::vector<float> &eps) {
        if (n == batch) {
          float terms[3];
          model.evalElbo(params, arena, x.data(), eps.data(), terms);
          for (size_t i = 0; i < 3; ++i)
            sums[i] += double(terms[i]) * double(n);
        } else { // per example: the padding must not count
          model.score(params, arena, x.data(), eps.data(), loss.data(), rec.data(), kl.data());
          for (size_t b = 0; b < n; ++b) {
            sums[0] += loss[b];
            sums[1] += rec[b];
            sums[2] += kl[b];
          }
        }
        sums[3] += double(n);
      },
      size_t(world.rank()), size_t(world.size()));
  world.allreduceSum(sums, 4);
  Terms total;
  total.examples = size_t(sums[3]);
  if (total.examples) {
    total.objective = sums[0] / sums[3];
    total.reconstruction = sums[1] / sums[3];
    total.kl = sums[2] / sums[3];
  }
  return total;
}

std::vector<double> vae::importanceWeightedLogLikelihood(const Model &model, const float *params,
                                                         void *arena, const Dataset &data,
                                                         uint64_t seed, int64_t samples) {
  const vae_model &d = model.desc();
  size_t batch = size_t(d.batch), latent = size_t(d.latent_size), K = size_t(samples);
  std::vector<float> mu(batch * latent), logvar(mu.size()), noise(mu.size());
  std::vector<float> loss(batch), rec(batch), kl(batch);
  std::vector<double> logWeights(batch * K), result(data.count);
  const double halfLog2Pi = 0.5 * std::log(2 * M_PI);
  const double m0 = d.prior_mean, s0 = d.prior_std;
  forEachBatch(
      model, data, seed,
      [&](size_t first, size_t n, std::vector<float> &x, std::vector<float> &evalNoise) {
        model.encode(params, arena, x.data(), mu.data(), logvar.data());
        for (size_t k = 0; k < K; ++k) {
          // Sample 0 is evaluate()'s noise: K = 1 scores the same z.
          if (k > 0)
            fillNoise(noise, seed ^ kEvalNoiseKey, 0xffffffffu - uint32_t(k), 0, first * latent);
          const std::vector<float> &eps = k == 0 ? evalNoise : noise;
          model.score(params, arena, x.data(), eps.data(), loss.data(), rec.data(), kl.data());
          for (size_t b = 0; b < n; ++b) {
            // log p(z) - log q(z|x) at z = mu + sigma * eps, the sample vae_score used.
            double logRatio = 0;
            for (size_t j = 0; j < latent; ++j) {
              double e = eps[b * latent + j], lv = logvar[b * latent + j];
              double z = mu[b * latent + j] + std::exp(0.5 * lv) * e;
              double u = (z - m0) / s0;
              logRatio += (-0.5 * u * u - std::log(s0) - halfLog2Pi) -
                          (-0.5 * e * e - 0.5 * lv - halfLog2Pi);
            }
            logWeights[b * K + k] = -double(rec[b]) + logRatio;
          }
        }
        for (size_t b = 0; b < n; ++b) {
          const double *w = &logWeights[b * K];
          double top = *std::max_element(w, w + K), sum = 0;
          for (size_t k = 0; k < K; ++k)
            sum += std::exp(w[k] - top);
          result[first + b] = top + std::log(sum / double(K));
        }
      });
  return result;
}
