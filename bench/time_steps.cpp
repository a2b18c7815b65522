//===- time_steps.cpp - GFLOP/s and steps/s of a compiled model -----------===//
//
//   time_steps MODEL.so [repeats]
//
// Times vae_encode, vae_decode, vae_eval_elbo (forward + ELBO) and
// vae_train_step (forward, backward, Adam) and prints the median over repeats (threads: libomp's
// default, one per core, or OMP_NUM_THREADS; vaec --no-parallel for one), with
// GFLOP/s counted from the model's dense layers (2·B·K·N each forward, three
// times that for a training step; elementwise work and convolutions are not
// counted, so the figures are lower bounds: vaec --stats counts every op).
// Numbers only: never a test threshold.
//
//===----------------------------------------------------------------------===//

#include "runtime/Model.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  std::string first = argc > 1 ? argv[1] : "";
  if (first == "--help" || first == "-h") {
    fmt::print("usage: time_steps MODEL.so [repeats] [--train-only]\n\n"
               "Times vae_encode, vae_decode, vae_eval_elbo and vae_train_step of a library\n"
               "built by vaec: the median of `repeats` calls each (default 200), after 10\n"
               "warm-up calls; --train-only times vae_train_step alone (for a profiler).\n"
               "Threads: libomp's default or OMP_NUM_THREADS (vaec --no-parallel for one).\n");
    return 0;
  }
  if (first == "--version") {
    fmt::print("time_steps {}\n", VAEC_VERSION);
    return 0;
  }
  if (argc < 2) {
    fmt::print(stderr, "usage: {} MODEL.so [repeats] (--help says more)\n", argv[0]);
    return 2;
  }
  int repeats = argc > 2 ? std::atoi(argv[2]) : 200;
  bool trainOnly = argc > 3 && std::string(argv[3]) == "--train-only";
  if (repeats < 1 || (argc > 3 && !trainOnly) || argc > 4) {
    fmt::print(stderr, "usage: {} MODEL.so [repeats] [--train-only] (--help says more)\n", argv[0]);
    return 2;
  }
  std::string error;
  auto model = vae::Model::load(argv[1], error);
  if (!model) {
    fmt::print(stderr, "time_steps: {}\n", error);
    return 1;
  }
  const vae_model &d = model->desc();
  // The dense layers' FLOPs, from their weights' shapes: a convolution's
  // depend on its image size, which the descriptor does not hold, so a
  // model with filters says whose FLOPs the rate counts (vaec --stats counts
  // every op's).
  double flops = 0;
  bool convolutions = false;
  for (int64_t i = 0; i < d.num_params; ++i) {
    if (d.params[i].rank == 2)
      flops += 2.0 * d.batch * d.params[i].shape[0] * d.params[i].shape[1];
    convolutions |= d.params[i].rank == 4;
  }
  const char *rate = convolutions ? "GFLOP/s in its dense layers" : "GFLOP/s";

  vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
  model->initParams(params.data(), 1);
  std::vector<float> x(d.batch * d.input_size), eps(d.batch * d.latent_size);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i % 255) / 255.0f;
  for (size_t i = 0; i < eps.size(); ++i)
    eps[i] = float(int(i % 7) - 3) / 3.0f;

  float terms[3];
  std::vector<float> mu(d.batch * d.latent_size), logvar(mu.size());
  std::vector<float> out0(d.batch * d.input_size), out1(out0.size());
  auto median = [&](auto &&run) {
    for (int i = 0; i < 10; ++i) // warm caches and page in the arena
      run();
    std::vector<double> seconds;
    for (int i = 0; i < repeats; ++i) {
      auto start = std::chrono::steady_clock::now();
      run();
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    return seconds[seconds.size() / 2];
  };
  double encode = 0, decode = 0, forward = 0;
  if (!trainOnly) {
    encode = median(
        [&] { model->encode(params.data(), arena.bytes(), x.data(), mu.data(), logvar.data()); });
    decode = median(
        [&] { model->decode(params.data(), arena.bytes(), eps.data(), out0.data(), out1.data()); });
    forward =
        median([&] { model->evalElbo(params.data(), arena.bytes(), x.data(), eps.data(), terms); });
  }
  // The threads the library's kernels run on: libomp's, where it linked it
  // (vaec without --no-parallel), else the calling thread alone.
  int threads = 1;
  for (const char *name : {"libomp.so.5", "libomp.so"})
    if (void *libomp = dlopen(name, RTLD_LAZY | RTLD_NOLOAD)) {
      if (auto maxThreads = reinterpret_cast<int (*)()>(dlsym(libomp, "omp_get_max_threads")))
        threads = maxThreads();
      dlclose(libomp);
      break;
    }
  std::string where = d.device == VAE_DEVICE_CUDA
                          ? model->deviceDescription()
                          : std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  fmt::print("model {} batch {}, {}, median of {} runs\n", d.name, d.batch, where, repeats);
  if (!trainOnly) {
    fmt::print("  encode (vae_encode): {:.3f} ms\n  decode (vae_decode): {:.3f} ms\n", encode * 1e3,
               decode * 1e3);
    fmt::print("  forward (vae_eval_elbo): {:.3f} ms, {:.1f} {}, {:.0f} samples/s, loss {:.3f}\n",
               forward * 1e3, flops / forward / 1e9, rate, double(d.batch) / forward, terms[0]);
  }
  vae::AlignedBuffer state = model->newOptimizerState();
  int64_t step = 0;
  std::vector<float> weights = model->exampleWeights(size_t(d.batch));
  double train = median([&] {
    model->trainStep(params.data(), state.data(), arena.bytes(), x.data(), eps.data(),
                     weights.data(), ++step, d.defaults, terms);
  });
  fmt::print("  train step (vae_train_step): {:.3f} ms, {:.1f} {}, {:.0f} steps/s, {:.0f} "
             "samples/s, loss after {} steps {:.3f}\n",
             train * 1e3, 3 * flops / train / 1e9, rate, 1 / train, double(d.batch) / train, step,
             terms[0]);
  return 0;
}
