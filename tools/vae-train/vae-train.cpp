//===- vae-train.cpp - train a compiled VAE -------------------------------===//
//
//   vae-train [train] MODEL.so [--data DIR] [--epochs N] [--seed S] [--out DIR]
//
// Links only libvaert: no LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#include "runtime/Trainer.h"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char **argv) {
  // `train` is the default subcommand: drop it when given.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "train")
    args.erase(args.begin());
  std::reverse(args.begin(), args.end()); // CLI11 parses a reversed vector

  CLI::App app{"vae-train: train a VAE compiled by vaec on MNIST-format data.",
               "vae-train"};
  std::string modelPath;
  vae::TrainOptions options;
  app.add_option("model", modelPath, "library built by vaec")->required();
  app.add_option("--data", options.dataDir,
                 "folder with train-images-idx3-ubyte[.gz] and t10k-images-idx3-ubyte[.gz]");
  app.add_option("--epochs", options.epochs, "epochs (default: the model's train block)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  app.add_option("--seed", options.seed, "seed (default: the model's train block)")
      ->check(CLI::Range(int64_t{0}, int64_t{9007199254740992}));
  app.add_option("--limit", options.limit, "train on the first N examples only");
  app.add_option("--out", options.outDir, "where metrics.csv and checkpoint.bin go");
  app.add_flag("--resume", options.resume,
               "continue from OUT/checkpoint.bin up to --epochs");
  app.add_flag("--overwrite", options.overwrite,
               "start over even if OUT holds a checkpoint");
  try {
    app.parse(args);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  std::string error;
  auto model = vae::Model::load(modelPath, error);
  if (!model) {
    std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
    return 1;
  }
  return vae::train(*model, options);
}
