//===- forward_gflops.cpp - GFLOP/s of a compiled model's forward pass ----===//
//
//   forward_gflops MODEL.so [repeats]
//
// Times vae_eval_elbo (the forward pass and the ELBO) on one thread and
// prints the median over repeats, with GFLOP/s counted from the model's
// dense layers (2·B·K·N each; elementwise work is not counted, so the figure
// is a lower bound). Numbers only: never a test threshold.
//
//===----------------------------------------------------------------------===//

#include "runtime/Model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.so [repeats]\n", argv[0]);
    return 2;
  }
  int repeats = argc > 2 ? std::atoi(argv[2]) : 200;
  std::string error;
  auto model = vae::Model::load(argv[1], error);
  if (!model) {
    std::fprintf(stderr, "forward_gflops: %s\n", error.c_str());
    return 1;
  }
  const vae_model &d = model->desc();
  double flops = 0;
  for (int64_t i = 0; i < d.num_params; ++i)
    if (d.params[i].rank == 2)
      flops += 2.0 * d.batch * d.params[i].shape[0] * d.params[i].shape[1];

  vae::AlignedBuffer params = model->newParams(), arena = model->newArena();
  model->initParams(params.data(), 1);
  std::vector<float> x(d.batch * d.input_size), eps(d.batch * d.latent_size);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i % 255) / 255.0f;
  for (size_t i = 0; i < eps.size(); ++i)
    eps[i] = float(int(i % 7) - 3) / 3.0f;

  float terms[3];
  for (int i = 0; i < 10; ++i) // warm caches and page in the arena
    model->evalElbo(params.data(), arena.bytes(), x.data(), eps.data(), terms);
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i) {
    auto start = std::chrono::steady_clock::now();
    model->evalElbo(params.data(), arena.bytes(), x.data(), eps.data(), terms);
    seconds.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  double median = seconds[seconds.size() / 2];
  std::printf("model %s batch %lld: forward (eval_elbo) median %.3f ms over %d "
              "runs, %.1f MFLOP (dense layers), %.1f GFLOP/s, %.0f samples/s, "
              "loss %.3f\n",
              d.name, (long long)d.batch, median * 1e3, repeats, flops / 1e6,
              flops / median / 1e9, d.batch / median, terms[0]);
  return 0;
}
