//===- CompareSteps.cpp - two libraries of one model, step by step --------===//
//
//   vae-compare-steps REFERENCE.so CANDIDATE.so [steps]
//
// Loads two libraries of the same model (the CPU library and a GPU one, or
// --target=nvptx-emulated), gives both the same initial parameters, data and
// noise, and compares eval_elbo and `steps` (default 3) training steps: the
// loss terms within 1e-4 relative, then every parameter tensor within 1e-3
// relative L2 distance. Prints each number; exit 1 when one is off. CI runs
// it on the CPU against --target=nvptx-emulated; tools/gpu-check.sh against
// --target=nvptx on a GPU. No LLVM or MLIR: it runs where vae-train runs.
//
//===----------------------------------------------------------------------===//

#include "runtime/Model.h"
#include "vae/philox.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr double kLossTolerance = 1e-4;
constexpr double kParamTolerance = 1e-3;

double relative(double reference, double candidate) {
  return std::fabs(candidate - reference) / std::max(std::fabs(reference), 1e-6);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: {} REFERENCE.so CANDIDATE.so [steps]\n", argv[0]);
    return 2;
  }
  int steps = argc > 3 ? std::atoi(argv[3]) : 3;
  std::string error;
  std::unique_ptr<vae::Model> models[2];
  for (int i = 0; i < 2; ++i)
    if (!(models[i] = vae::Model::load(argv[1 + i], error))) {
      fmt::print(stderr, "vae-compare-steps: {}\n", error);
      return 2;
    }
  const vae_model &a = models[0]->desc(), &b = models[1]->desc();
  if (std::string(a.fingerprint) != b.fingerprint || a.batch != b.batch ||
      a.param_floats != b.param_floats || a.opt_state_floats != b.opt_state_floats) {
    fmt::print(stderr, "vae-compare-steps: not two libraries of one model at one batch size\n");
    return 2;
  }
  fmt::print("{} ({}) against {} ({}), batch {}\n", argv[1], models[0]->deviceDescription(),
             argv[2], models[1]->deviceDescription(), a.batch);

  // Pixels in [0, 1), standard normal noise (Box-Muller), all examples real.
  std::vector<float> x(size_t(a.batch * a.input_size)), eps(size_t(a.batch * a.latent_size));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = vae::uniformFloat(vae::philox4x32_10({uint32_t(i), 0, 0, 0}, {7, 11})[0]);
  for (size_t i = 0; i < eps.size(); ++i) {
    auto w = vae::philox4x32_10({uint32_t(i), 1, 0, 0}, {7, 11});
    double u1 = (double(w[0]) + 1.0) / 4294967296.0, u2 = double(w[1]) / 4294967296.0;
    eps[i] = float(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
  std::vector<float> weights = models[0]->exampleWeights(size_t(a.batch));
  vae_hyperparams hyper = models[0]->hyperparams(float(a.beta));

  vae::AlignedBuffer params[2], state[2], arena[2];
  for (int i = 0; i < 2; ++i) {
    params[i] = models[i]->newParams();
    state[i] = models[i]->newOptimizerState();
    arena[i] = models[i]->newArena();
  }
  models[0]->initParams(params[0].data(), uint64_t(a.seed));
  models[1]->initParams(params[1].data(), uint64_t(a.seed));

  bool ok = true;
  auto compareTerms = [&](const char *what, const float(&terms)[2][3]) {
    static const char *names[3] = {"loss", "reconstruction", "kl"};
    for (int t = 0; t < 3; ++t) {
      double off = relative(terms[0][t], terms[1][t]);
      bool good = off <= kLossTolerance && std::isfinite(terms[1][t]);
      ok &= good;
      fmt::print("  {:<7} {:<14} {:12.6f} {:12.6f}  relative {:.2e} {}\n", what, names[t],
                 terms[0][t], terms[1][t], off, good ? "ok" : "OFF");
    }
  };
  float terms[2][3];
  for (int i = 0; i < 2; ++i)
    models[i]->evalElbo(params[i].data(), arena[i].bytes(), x.data(), eps.data(), terms[i]);
  compareTerms("eval", terms);
  for (int step = 1; step <= steps; ++step) {
    for (int i = 0; i < 2; ++i)
      models[i]->trainStep(params[i].data(), state[i].data(), arena[i].bytes(), x.data(),
                           eps.data(), weights.data(), step, hyper, terms[i]);
    std::string what = "step " + std::to_string(step);
    compareTerms(what.c_str(), terms);
  }
  for (int i = 0; i < 2; ++i)
    models[i]->syncToHost(params[i].data());
  for (int64_t p = 0; p < a.num_params; ++p) {
    const vae_param &param = a.params[p];
    double distance = 0, norm = 0;
    for (int64_t k = param.offset; k < param.offset + param.size; ++k) {
      double d = double(params[1].data()[k]) - params[0].data()[k];
      distance += d * d;
      norm += double(params[0].data()[k]) * params[0].data()[k];
    }
    double off = std::sqrt(distance) / std::max(std::sqrt(norm), 1e-12);
    bool good = off <= kParamTolerance && std::isfinite(off);
    ok &= good;
    fmt::print("  after {} steps {:<24} relative L2 {:.2e} {}\n", steps, param.name, off,
               good ? "ok" : "OFF");
  }
  fmt::print("{}\n", ok ? "the libraries agree" : "the libraries DISAGREE");
  return ok ? 0 : 1;
}
