//===- consumer.cpp - a program of one's own on an installed libvaert -----===//
//
// Built against `cmake --install`'s tree (find_package(vaec) or pkg-config
// vaert): loads a model compiled by vaec (and, given one, a vae-train
// checkpoint of it through <vae/Checkpoint.h>), trains it a few steps on a
// fixed batch and prints the loss before and after; then writes its own
// checkpoint and reads it back.
//
//===----------------------------------------------------------------------===//

#include <vae/Checkpoint.h>
#include <vae/Model.h>
#include <vae/abi.h>

#include <algorithm>
#include <cstdio>
#include <vector>

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL.so [CHECKPOINT]\n", argv[0]);
    return 2;
  }
  std::string error;
  std::unique_ptr<vae::Model> model = vae::Model::load(argv[1], error);
  if (!model) {
    std::fprintf(stderr, "consumer: %s\n", error.c_str());
    return 1;
  }
  const vae_model &d = model->desc();
  vae::AlignedBuffer params = model->newParams(), state = model->newOptimizerState(),
                     arena = model->newArena();
  model->initParams(params.data(), 1);
  vae::CheckpointHeader header;
  if (argc == 3) {
    if (!vae::readCheckpoint(argv[2], *model, params.data(), state.data(), header, error)) {
      std::fprintf(stderr, "consumer: %s\n", error.c_str());
      return 1;
    }
    std::printf("read %s: epoch %lld, step %lld\n", argv[2], (long long)header.epoch,
                (long long)header.step);
  }
  std::vector<float> x(size_t(d.batch * d.input_size)), eps(size_t(d.batch * d.latent_size));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i % 7) / 7.0f;
  std::vector<float> weights = model->exampleWeights(size_t(d.batch));
  float first[3], terms[3];
  for (int64_t step = header.step + 1; step <= header.step + 20; ++step) {
    model->trainStep(params.data(), state.data(), arena.bytes(), x.data(), eps.data(),
                     weights.data(), step, d.defaults, terms);
    if (step == header.step + 1)
      std::copy(terms, terms + 3, first);
  }
  std::printf("model %s (ABI %d): loss %.3f after 1 step, %.3f after 20\n", d.name, VAE_ABI_VERSION,
              first[0], terms[0]);
  if (argc == 3) { // a checkpoint of one's own, read back bit for bit
    std::string mine = std::string(argv[2]) + ".mine";
    header.step += 20;
    vae::AlignedBuffer again = model->newParams(), againState = model->newOptimizerState();
    vae::CheckpointHeader read;
    if (!vae::writeCheckpoint(mine, *model, params.data(), state.data(), header, error) ||
        !vae::readCheckpoint(mine, *model, again.data(), againState.data(), read, error) ||
        !std::equal(params.data(), params.data() + params.size(), again.data())) {
      std::fprintf(stderr, "consumer: %s\n", error.empty() ? "read back differs" : error.c_str());
      return 1;
    }
    std::printf("wrote %s and read it back: step %lld\n", mine.c_str(), (long long)read.step);
  }
  return terms[0] < first[0] ? 0 : 1;
}
