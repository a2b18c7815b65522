//===- vae-train.cpp - train a compiled VAE -------------------------------===//
//
//   vae-train [train] MODEL.so [--data DIR] [--epochs N] [--seed S] [--out DIR]
//             [--binarize none|static|dynamic] [--last-batch pad|drop] ...
//   vae-train eval|encode|score|sample|reconstruct MODEL.so [--out DIR] ...
//   vae-train score MODEL.so --iw K
//   vae-train compress MODEL.so --data FILE -o FILE.vaez
//   vae-train decompress MODEL.so FILE.vaez -o FILE.npy
//   mpirun -np N vae-train MODEL.so ...     (data-parallel, docs/distributed.md)
//
// Links only libvaert (and MPI where the build found it): no LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#include "runtime/Trainer.h"
#ifdef VAEC_HAVE_MPI
#include "runtime/MpiCommunicator.h"
#endif

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

namespace {

/// The processes an MPI launcher says it started (1 if none).
long launchedProcesses() {
  for (const char *variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *value = std::getenv(variable))
      return std::strtol(value, nullptr, 10);
  return 1;
}

/// A range check whose bounds the option's help states (CLI11 would add
/// "INT in [a - b]" to the option's type).
template <typename T> CLI::Validator inRange(T min, T max) {
  return CLI::Range(min, max).description("");
}

/// What a subcommand does with the model, for the inference subcommands.
struct Inference {
  const char *name, *help;
  vae::Command command;
};

const Inference kInference[] = {
    {"eval", "test -ELBO of a checkpoint", vae::Command::Eval},
    {"encode",
     "posterior means and labels of the test set to OUT/latents.csv and "
     "OUT/latent_scatter.png",
     vae::Command::Encode},
    {"score", "per-example -ELBO of the test set to OUT/scores.csv (anomaly scores)",
     vae::Command::Score},
    {"sample", "draws from the prior to OUT/samples.npy and OUT/samples.png (no data needed)",
     vae::Command::Sample},
    {"reconstruct", "test images and their reconstructions to OUT/reconstructions.png",
     vae::Command::Reconstruct},
    {"compress",
     "lossless compression of a data file (or the test set) with the trained model: bits-back "
     "ANS coding into a .vaez file (docs/compression.md)",
     vae::Command::Compress},
    {"decompress", "a .vaez file back to the examples compress coded (.npy, or IDX for bytes)",
     vae::Command::Decompress},
    {"decode",
     "the decoder's means at latent codes of your own (--z FILE.npy) to -o FILE.npy "
     "and a PNG beside it",
     vae::Command::Decode},
    {"interpolate",
     "decoded points between two test examples' posterior means to OUT/interpolation.npy and "
     "OUT/interpolation.png",
     vae::Command::Interpolate},
};

int fail(const std::string &message) {
  fmt::print(stderr, "vae-train: error: {}\n", message);
  return 1;
}

/// vae-train's command line: the subcommands, their flags, and the
/// TrainOptions they make.
class CommandLine {
public:
  CommandLine() {
    app.require_subcommand(0, 1);
    app.set_version_flag("--version", std::string("vae-train ") + VAEC_VERSION);
    train = app.add_subcommand("train", "train (the default subcommand)");
    addCommonFlags(train);
    addTrainFlags();
    addHyperparamFlags();
    for (const Inference &i : kInference)
      addInferenceCommand(i);
  }

  /// Parses argv; the exit code where that ends the process (help, version,
  /// a usage error).
  std::optional<int> parse(int argc, char **argv);

  /// The options the flags set.
  vae::TrainOptions trainOptions();

  std::string modelPath, checkpoint;
  CLI::App *train = nullptr;
  std::vector<CLI::App *> inferenceApps;
  bool distributed = false;

private:
  /// The flags every subcommand has: the model, the data, the run's folder.
  void addCommonFlags(CLI::App *command, bool compress = false) {
    command->add_option("MODEL.so", modelPath, "the library vaec built")->required()->type_name("");
    addOutFlag(command);
    dataFlags.push_back(
        command
            ->add_option(
                "--data", options.dataPath,
                "a folder with train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz] (and "
                "labels), or one file: .npy (float32, float64 or uint8, [N, ...]), .csv (a row per "
                "example) or IDX; default: the run's own (a resumed or evaluated run), else "
                "/usr/share/datasets/fashion-mnist")
            ->type_name("DIR|FILE"));
    if (compress)
      command->add_flag("--test", options.compressTestSet,
                        "compress the run's test set, as eval sees it (instead of --data)");
    else
      testFlags.push_back(
          command
              ->add_option(
                  "--test", options.testPath,
                  "the test set, a file like --data's (default: the folder's t10k-* files)")
              ->type_name("FILE"));
    testFractionFlags.push_back(
        command
            ->add_option("--test-fraction", options.testFraction,
                         "hold out this share (0 to 1) of --data as the test set, seeded "
                         "(default: none)")
            ->type_name("F")
            ->check(inRange(0.0, 1.0)));
    labelColumnFlags.push_back(
        command
            ->add_option("--label-column", options.labelColumn,
                         "the column of a CSV file's labels, by name, or by 0-based index "
                         "for a file without a header line (default: none)")
            ->type_name("NAME|N"));
    labelsFlags.push_back(
        command
            ->add_option("--labels", options.labelsPath,
                         "the labels of --data: a .npy file of integers, one per example "
                         "(default: none; IDX folders bring their own)")
            ->type_name("FILE.npy"));
    testLabelsFlags.push_back(
        command
            ->add_option("--test-labels", options.testLabelsPath,
                         "the labels of --test, likewise (with --test-fraction, --labels are "
                         "split with the examples)")
            ->type_name("FILE.npy"));
    command->add_option("--seed", options.seed, "seed, 0 to 2^53 (default: the model's)")
        ->type_name("N")
        ->check(inRange(int64_t{0}, int64_t{9007199254740992}));
    binarizeFlags.push_back(
        command
            ->add_option("--binarize", binarize,
                         "none; static: one fixed Bernoulli draw per pixel; dynamic: a "
                         "fresh draw per use in training (the test set static); default: "
                         "the run's own, else none")
            ->check(CLI::IsMember({"none", "static", "dynamic"})));
  }

  void addOutFlag(CLI::App *command) {
    command
        ->add_option("--out", options.outDir,
                     "the run's folder: metrics, checkpoint, pictures, CSVs (default: "
                     "vae-train-out)")
        ->type_name("DIR");
  }

  /// decompress and decode: the model, the run and the file only.
  void addDecompressCommand(CLI::App *command, bool decode) {
    command->add_option("MODEL.so", modelPath, "the library vaec built")->required()->type_name("");
    if (decode)
      command->add_option("--z", options.codesPath, "latent codes: a .npy of [n, latent]")
          ->required()
          ->type_name("FILE.npy");
    else
      command->add_option("FILE.vaez", options.vaezInput, "what compress wrote")
          ->required()
          ->type_name("");
    addOutFlag(command);
  }

  /// interpolate's points.
  void addInterpolateFlags(CLI::App *command) {
    command->add_option("--from", options.fromIndex, "the test example at one end")
        ->required()
        ->type_name("I");
    command->add_option("--to", options.toIndex, "the test example at the other end")
        ->required()
        ->type_name("J");
    command
        ->add_option("--steps", options.steps, "points, the ends included, 2 to 1000 (default 10)")
        ->type_name("N")
        ->check(inRange(int64_t{2}, int64_t{1000}));
    command->add_flag("--spherical", options.spherical,
                      "on the great circle around the prior mean (slerp) rather than the "
                      "segment");
  }

  /// compress's precisions (recorded in the file: decompress needs none).
  void addPrecisionFlags(CLI::App *command) {
    const char *group = "Precisions of the code, in bits";
    command
        ->add_option("--latent-bits", options.latentBits,
                     "each latent dimension in 2^N buckets of equal prior mass, 1 to 20 "
                     "(default 12)")
        ->type_name("N")
        ->group(group)
        ->check(inRange(int64_t{1}, int64_t{20}));
    command
        ->add_option("--posterior-bits", options.posteriorBits,
                     "q(z|x) over the buckets, more than --latent-bits, at most 31 (default 24)")
        ->type_name("N")
        ->group(group)
        ->check(inRange(int64_t{2}, int64_t{31}));
    command
        ->add_option("--likelihood-bits", options.likelihoodBits,
                     "p(x|z) over the values of one element, 8 to 31 (default 24)")
        ->type_name("N")
        ->group(group)
        ->check(inRange(int64_t{8}, int64_t{31}));
  }

  /// train's own flags.
  void addTrainFlags() {
    train->add_option("--epochs", options.epochs, "epochs (default: the model's train block's)")
        ->type_name("N")
        ->check(inRange(int64_t{1}, int64_t{1000000}));
    limitFlag =
        train->add_option("--limit", limit, "train on the first N examples only (default: all)")
            ->type_name("N")
            ->check(inRange(int64_t{1}, int64_t{9007199254740992}));
    lastBatchFlag = train
                        ->add_option("--last-batch", lastBatch,
                                     "the partial last batch of an epoch: pad (train on it, the "
                                     "padding masked; the default) or drop")
                        ->check(CLI::IsMember({"pad", "drop"}));
    classesFlag = train
                      ->add_option("--classes", options.classes,
                                   "train on the examples of these labels only, e.g. 0-8 or 1,3,5 "
                                   "(default: all; score --auroc takes the others as anomalies)")
                      ->type_name("LABELS");
    train
        ->add_option("--checkpoint-every", options.checkpointEvery,
                     "also write the checkpoint every N steps within an epoch (default 0: at "
                     "the end of each epoch only)")
        ->type_name("N")
        ->check(inRange(int64_t{0}, int64_t{1} << 40));
    train->add_flag("--no-progress", noProgress,
                    "no progress bar (there is none when stdout is not a terminal)");
    CLI::Option *resume = train->add_flag("--resume", options.resume,
                                          "continue from OUT/checkpoint.bin up to --epochs");
    CLI::Option *overwrite = train->add_flag("--overwrite", options.overwrite,
                                             "start over even if OUT holds a checkpoint");
    resume->excludes(overwrite);
    train->add_flag("--distributed", distributed,
                    "train data-parallel over the MPI processes this one was started with "
                    "(implied under mpirun; docs/distributed.md)");
  }

  /// The hyperparameters: the train block's by default (a resumed run's
  /// own); these flags override them without recompiling.
  void addHyperparamFlags() {
    for (const vae::HyperparamFlag &flag : vae::hyperparamFlags()) {
      CLI::Option *option =
          train->add_option(flag.flag, hyperValues[flag.key], flag.help)
              ->group("Hyperparameters (default: the train block's, or a resumed run's)")
              ->check(CLI::Validator(
                  [flag](std::string &text) -> std::string {
                    char *end = nullptr;
                    double value = std::strtod(text.c_str(), &end);
                    std::string error;
                    if (end == text.c_str() || *end)
                      return "'" + text + "' is not a number";
                    return vae::checkHyperparam(flag, value, error) ? "" : error;
                  },
                  "", ""));
      hyperOptions.push_back({flag.key, option});
    }
    train
        ->add_option("--schedule", options.schedule,
                     "learning-rate schedule: constant, cosine (to --min-lr over the run) or "
                     "step (times --lr-gamma every --lr-step-every epochs)")
        ->type_name("NAME")
        ->group("Hyperparameters (default: the train block's, or a resumed run's)")
        ->check(CLI::IsMember({"constant", "cosine", "step"}));
  }

  /// eval, encode, score, sample, reconstruct and their flags.
  void addInferenceCommand(const Inference &i) {
    CLI::App *command = app.add_subcommand(i.name, i.help);
    if (i.command == vae::Command::Decompress || i.command == vae::Command::Decode)
      addDecompressCommand(command, i.command == vae::Command::Decode);
    else
      addCommonFlags(command, i.command == vae::Command::Compress);
    if (i.command == vae::Command::Interpolate)
      addInterpolateFlags(command);
    if (i.command == vae::Command::Compress || i.command == vae::Command::Decompress ||
        i.command == vae::Command::Decode)
      command
          ->add_option("-o,--output", options.compressOutput,
                       i.command == vae::Command::Compress ? "the .vaez file to write"
                       : i.command == vae::Command::Decode
                           ? "the decoder's means, FILE.npy (float32 [n, input shape])"
                           : "the file to write: FILE.npy (the dtype and shape compressed), or "
                             "an IDX file for uint8 data")
          ->required()
          ->type_name("FILE");
    command
        ->add_option("--checkpoint", checkpoint, "checkpoint to use (default: OUT/checkpoint.bin)")
        ->type_name("FILE");
    if (i.command == vae::Command::Score)
      command
          ->add_option("--iw", options.importanceSamples,
                       "also estimate -log p(x) with K importance samples, 1 to 100000 "
                       "(Burda et al.): column neg_iw_log_likelihood (default: none)")
          ->type_name("K")
          ->check(inRange(int64_t{1}, int64_t{100000}));
    if (i.command == vae::Command::Score) {
      command->add_flag("--complexity", options.complexity,
                        "also the bits a PNG of each example takes (libpng, level 9) and the "
                        "input-complexity score -log2 p(x) - PNG bits (Serra et al. 2020; "
                        "p(x) by --iw where given): columns png_bits, input_complexity_score");
      command->add_flag("--auroc", options.auroc,
                        "the AUROC of the scores as detectors of the labels outside the "
                        "normal classes: OUT/auroc.json and OUT/score_histogram.png");
      command
          ->add_option("--classes", options.classes,
                       "the normal classes for --auroc (default: the run's --classes)")
          ->type_name("LABELS");
    }
    if (i.command == vae::Command::Encode)
      command
          ->add_option("--split", options.encodeSplit,
                       "the examples encoded: test (default), train (every example of the run's "
                       "training data), or all (both, a split column says "
                       "which)")
          ->check(CLI::IsMember({"train", "test", "all"}));
    if (i.command == vae::Command::Encode)
      command
          ->add_option("--kmeans", options.kmeans,
                       "cluster the posterior means into K clusters (k-means++, seeded): a "
                       "cluster column, purity and NMI against the labels, "
                       "OUT/clusters.json (default: none)")
          ->type_name("K")
          ->check(inRange(int64_t{1}, int64_t{100000}));
    if (i.command == vae::Command::Compress)
      addPrecisionFlags(command);
    if (i.command == vae::Command::Sample)
      command->add_option("--n", options.samples, "how many draws (default: 64)")
          ->type_name("N")
          ->check(inRange(int64_t{1}, int64_t{1000000}));
    if (i.command == vae::Command::Reconstruct)
      command
          ->add_option("--n", options.reconstructions,
                       "how many test images (default: 8; rows of 10)")
          ->type_name("N")
          ->check(inRange(int64_t{1}, int64_t{10000}));
    inferenceApps.push_back(command);
  }

  CLI::App app{"vae-train: train a VAE compiled by vaec on MNIST-format data, "
               "and use what it learned.",
               "vae-train"};
  std::string binarize = "none", lastBatch = "pad";
  vae::TrainOptions options;
  std::vector<CLI::Option *> dataFlags, binarizeFlags, testFlags, testFractionFlags,
      labelColumnFlags, labelsFlags, testLabelsFlags;
  int64_t limit = 0; // parsed signed, so that a negative count is an error
  CLI::Option *limitFlag = nullptr, *lastBatchFlag = nullptr, *classesFlag = nullptr;
  bool noProgress = false;
  std::map<std::string, double> hyperValues;
  std::vector<std::pair<std::string, CLI::Option *>> hyperOptions;
};

std::optional<int> CommandLine::parse(int argc, char **argv) {
  // `train` is the default: a first argument that is no subcommand is the
  // model of a training run.
  std::vector<const char *> args(argv, argv + argc);
  std::string first = argc > 1 ? argv[1] : "";
  bool named = first == "train" || first == "-h" || first == "--help" || first == "--version" ||
               std::any_of(std::begin(kInference), std::end(kInference),
                           [&](const Inference &i) { return first == i.name; });
  if (argc == 1) {
    fmt::print(stderr, "usage: vae-train [train] MODEL.so [FLAGS]\n"
                       "       vae-train eval|encode|score|sample|reconstruct MODEL.so [FLAGS]\n"
                       "       vae-train compress MODEL.so --data FILE -o FILE.vaez\n"
                       "       vae-train decompress MODEL.so FILE.vaez -o FILE.npy\n"
                       "       vae-train decode MODEL.so --z CODES.npy -o IMAGES.npy\n"
                       "       vae-train interpolate MODEL.so --from I --to J [--steps N]\n"
                       "(vae-train --help says more)\n");
    return 2;
  }
  if (!named)
    args.insert(args.begin() + 1, "train");
  app.footer([this] {
    return "`vae-train MODEL.so [FLAGS]` is `vae-train train MODEL.so [FLAGS]`; `vae-train "
           "SUBCOMMAND --help` lists a subcommand's flags. Those of train:\n\n" +
           train->help("vae-train train", CLI::AppFormatMode::Sub);
  });
  try {
    app.parse(int(args.size()), args.data());
  } catch (const CLI::ExtrasError &) {
    // (CLI11 2.1 lists them back to front.)
    std::vector<std::string> extra;
    for (const CLI::App *command : app.get_subcommands())
      for (const std::string &arg : command->remaining())
        extra.push_back(arg);
    fmt::print(stderr, "vae-train: error: unexpected argument{} {} (--help lists the flags)\n",
               extra.size() == 1 ? "" : "s", fmt::join(extra, " "));
    return 2;
  } catch (const CLI::ParseError &e) {
    // CLI11's own codes (105 for a value out of range) are not a shell's:
    // a usage error exits 2, as getopt tools do; --help and --version 0.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

vae::TrainOptions CommandLine::trainOptions() {
  options.progress = !noProgress;
  options.binarize = binarize == "static"    ? vae::Binarize::Static
                     : binarize == "dynamic" ? vae::Binarize::Dynamic
                                             : vae::Binarize::None;
  options.padLastBatch = lastBatch == "pad";
  options.limit = size_t(limit);
  auto given = [](const std::vector<CLI::Option *> &flags) {
    return std::any_of(flags.begin(), flags.end(), [](CLI::Option *o) { return o->count() > 0; });
  };
  options.dataGiven = given(dataFlags);
  options.binarizeGiven = given(binarizeFlags);
  options.limitGiven = limitFlag->count() > 0;
  options.testGiven = given(testFlags);
  options.testFractionGiven = given(testFractionFlags);
  options.labelColumnGiven = given(labelColumnFlags);
  options.labelsGiven = given(labelsFlags);
  options.testLabelsGiven = given(testLabelsFlags);
  options.classesGiven = classesFlag->count() > 0;
  options.lastBatchGiven = lastBatchFlag->count() > 0;
  for (const auto &[key, option] : hyperOptions)
    if (option->count() > 0)
      options.hyper[key] = hyperValues[key];
  return options;
}

/// The MPI world of a distributed training run (null for one process), or
/// the exit code of a refusal.
std::optional<int> openWorld(CommandLine &cl, int argc, char **argv,
                             std::unique_ptr<vae::Communicator> &world) {
  std::string error;
  bool training = cl.train->parsed();
  long processes = launchedProcesses();
  if (!training && processes > 1)
    return fail("only training runs over several processes; run this command without mpirun");
  bool distributed = training && (cl.distributed || vae::startedByMpiLauncher());
  if (distributed) {
#ifdef VAEC_HAVE_MPI
    world = vae::openMpi(argc, argv, error);
    if (!world)
      return fail(error);
    if (!world->lead() && !std::freopen("/dev/null", "w", stdout))
      return fail("cannot silence the output of rank " + std::to_string(world->rank()));
#else
    if (processes > 1 || cl.train->count("--distributed"))
      return fail("this vae-train was built without MPI, so it trains on one process only; "
                  "install Open MPI (tools/install-deps.sh) and rebuild, or run it alone");
#endif
  }
  return std::nullopt;
}

} // namespace

int main(int argc, char **argv) {
  CommandLine cl;
  if (std::optional<int> code = cl.parse(argc, argv))
    return *code;
  vae::TrainOptions options = cl.trainOptions();
  std::unique_ptr<vae::Communicator> world;
  if (std::optional<int> code = openWorld(cl, argc, argv, world))
    return *code;
  auto run = [&] {
    std::string error;
    auto model = vae::Model::load(cl.modelPath, error);
    if (!model)
      return fail(error);
    for (size_t i = 0; i < cl.inferenceApps.size(); ++i)
      if (cl.inferenceApps[i]->parsed())
        return vae::runCommand(*model, options, cl.checkpoint, kInference[i].command);
    return vae::train(*model, options, world ? *world : vae::singleProcess());
  };
  int code = run();
#ifdef VAEC_HAVE_MPI
  // An error on one process would leave the others waiting in a collective.
  // (A stop by a signal is agreed on by all: they end together.)
  if (code != 0 && code < 128 && world && world->distributed()) {
    std::fflush(stdout);
    std::fflush(stderr);
    vae::abortMpiRun(code);
  }
#endif
  return code;
}
