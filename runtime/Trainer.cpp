//===- Trainer.cpp - the training loop of vae-train -----------------------===//

#include "runtime/Trainer.h"

#include "runtime/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/Pictures.h"
#include "runtime/RunData.h"
#include "runtime/RunLock.h"
#include "runtime/RunLog.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>

using namespace vae;

namespace {

/// The validation split's permutation is keyed by this, mixed into the seed.
constexpr uint64_t kValidationKey = 0x76616c69ull;

/// When the runtime was loaded: about when the process started, so that
/// metrics.json can say how long it took to get one step done.
const auto kLoadedAt = std::chrono::steady_clock::now();

/// "2 epochs", "0.5 epochs", "1 epoch".
std::string formatEpochs(double epochs) {
  return fmt::format("{:g} epoch{}", epochs, epochs == 1 ? "" : "s");
}

/// Moves `fraction` of `train`'s examples (at least one, a seeded choice,
/// kept in file order) into `val`; the rest stay, in file order.
bool splitValidation(Dataset &train, Dataset &val, double fraction, uint64_t seed,
                     std::string &error) {
  size_t held = std::max<size_t>(1, size_t(std::llround(fraction * double(train.count))));
  if (held >= train.count) {
    error = "--val-fraction " + fmt::format("{:g}", fraction) + " of " +
            std::to_string(train.count) + " examples leaves none to train on";
    return false;
  }
  // Its own Philox stream: not an epoch's order, whatever the epochs.
  std::vector<uint32_t> order = shuffle(train.count, seed ^ kValidationKey, 0xfffffffeu);
  std::vector<bool> isVal(train.count, false);
  for (size_t i = 0; i < held; ++i)
    isVal[order[i]] = true;
  std::string path = train.path;
  val = train.subset(rowsWhere(train.count, 0, [&](uint32_t i) { return bool(isVal[i]); }));
  val.path = path + " (validation)";
  train = train.subset(rowsWhere(train.count, 0, [&](uint32_t i) { return !isVal[i]; }));
  train.path = path;
  return true;
}

/// SIGINT and SIGTERM during training: the first one asks the loop to stop
/// after the current step (and is then reset, so a second one kills).
volatile std::sig_atomic_t stopSignal = 0;

extern "C" void requestStop(int signal) { stopSignal = signal; }

/// Installs requestStop for SIGINT and SIGTERM while training; restores the
/// previous handlers after.
class StopOnSignals {
public:
  StopOnSignals() {
    stopSignal = 0;
    struct sigaction action{};
    action.sa_handler = requestStop;
    action.sa_flags = SA_RESETHAND; // a second signal does what it always does
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous[0]);
    sigaction(SIGTERM, &action, &previous[1]);
  }
  ~StopOnSignals() {
    sigaction(SIGINT, &previous[0], nullptr);
    sigaction(SIGTERM, &previous[1], nullptr);
  }
  StopOnSignals(const StopOnSignals &) = delete;
  StopOnSignals &operator=(const StopOnSignals &) = delete;

private:
  struct sigaction previous[2];
};

/// One call of vae::train: the run's settings, data, parameters, logs and
/// position, and the steps from loading it to the pictures at the end.
/// The methods that return a `Stop` return the process's exit code where
/// the run ends there, nothing where it goes on.
class TrainingRun {
public:
  using Stop = std::optional<int>;

  TrainingRun(const Model &model, const TrainOptions &options, Communicator &world)
      : model(model), d(model.desc()), options(options), world(world), lead(world.lead()),
        ranks(size_t(world.size())), rank(size_t(world.rank())), params(model.newParams()),
        state(model.newOptimizerState()), arena(model.newArena()),
        checkpoint(options.outDir + "/checkpoint.bin"),
        metricsPath(options.outDir + "/metrics.csv"), stepsPath(options.outDir + "/steps.csv") {}

  /// Trains to the last epoch (or a stop) and returns the exit code.
  int run() {
    if (Stop stop = loadPosition(); stop)
      return *stop;
    if (Stop stop = loadData(); stop)
      return *stop;
    if (Stop stop = settleHyperparams(); stop)
      return *stop;
    if (Stop stop = options.resume ? resume() : start(); stop)
      return *stop;
    openLogs();
    // From here a SIGINT or SIGTERM stops at the next step boundary (before,
    // while the data loads, it ends the process as usual).
    stopOnSignals.emplace();
    if (Stop stop = announce(); stop)
      return *stop;
    for (int64_t epoch = position.epoch; epoch < epochs; ++epoch) {
      bool earlyStop = false;
      if (Stop stop = runEpoch(epoch, earlyStop); stop)
        return *stop;
      if (earlyStop)
        break;
    }
    if (lead &&
        !writePictures(model, params.data(), arena.bytes(), testSet, seed, options.outDir, error))
      return fail(error);
    return stopAgreed() ? interrupted("while drawing the pictures") : 0;
  }

private:
  /// A resumed run's checkpoint and settings; a new one may not overwrite
  /// an old one unasked.
  Stop loadPosition() {
    if (options.resume) {
      // The run's own data settings unless given; a given one must agree.
      if (!readCheckpoint(checkpoint, model, params.data(), state.data(), position, error) ||
          !sameModel(position.run, model, checkpoint, error))
        return fail(error);
      adoptRunSettings(position.run, options, /*forTraining=*/true);
    } else if (std::filesystem::exists(checkpoint) && !options.overwrite) {
      return fail("'" + checkpoint +
                  "' exists; --resume continues it, --overwrite starts over, "
                  "or choose another --out");
    }
    return {};
  }

  /// The training and test sets, and the batches an epoch takes.
  Stop loadData() {
    // (The seed of the test split: the run's.)
    runSeed = uint64_t(options.resume ? position.seed : options.seed >= 0 ? options.seed : d.seed);
    if (!loadImages(model, options, runSeed, true, trainSet, testSet, error))
      return fail(error);
    splitAnomalies(options.classes, testSet, anomalySet);
    // A step takes a global batch: each process's batch, one after another.
    batch = size_t(d.batch);
    globalBatch = ranks * batch;
    if (trainSet.count == 0 || (!options.padLastBatch && trainSet.count < globalBatch))
      return fail(
          "'" + trainSet.path + "' has " + std::to_string(trainSet.count) +
          " examples, fewer than one batch of " + std::to_string(globalBatch) +
          (ranks > 1 ? " (" + std::to_string(ranks) + " processes x " + std::to_string(batch) + ")"
                     : std::string()) +
          (options.padLastBatch ? "" : " (--last-batch drop)"));
    epochs = options.epochs > 0 ? options.epochs : d.epochs;
    seed = uint64_t(options.seed >= 0 ? options.seed : d.seed);
    return {};
  }

  /// The train block's hyperparameters, then a resumed run's own, then the
  /// flags; checked before anything is written. Then the validation split.
  Stop settleHyperparams() {
    record = runRecord(model, options, trainSet);
    record["processes"] = std::to_string(ranks);
    const Hyperparams defaults = Hyperparams::of(d);
    hyper = defaults;
    if (options.resume)
      applyHyperparamRecord(position.run, hyper);
    before = hyper;
    for (const HyperparamFlag &flag : hyperparamFlags())
      if (auto it = options.hyper.find(flag.key); it != options.hyper.end())
        hyper.*flag.field = it->second;
    if (!options.schedule.empty())
      hyper.schedule = options.schedule;
    if (std::string problem = checkAgainstModel(hyper, defaults, d); !problem.empty())
      return fail(problem);
    // Nothing is written before the settings are known to be sound. Then
    // the folder is this run's alone; a run that took it meanwhile and
    // wrote a checkpoint is not overwritten unasked either.
    if (Stop stop = lockFolder(); stop)
      return *stop;
    hyperRecord = hyperparamRecord(hyper);
    record.insert(hyperRecord.begin(), hyperRecord.end());
    // A validation split: held out of the training set, seeded, the same in
    // every run with this seed and fraction.
    if (hyper.valFraction > 0 &&
        !splitValidation(trainSet, valSet, hyper.valFraction, runSeed, error))
      return fail(error);
    // Objective and −ELBO differ where beta is not 1 or the KL weight warms up.
    weighted = hyper.beta != 1.0 || hyper.klWarmupEpochs > 0;
    // (Of the training set left after the validation split.)
    batches = options.padLastBatch ? (trainSet.count + globalBatch - 1) / globalBatch
                                   : trainSet.count / globalBatch;
    return {};
  }

  /// The run folder, this run's alone from here (the lead process takes
  /// the lock; every process learns whether it did). A run that took it
  /// meanwhile and wrote a checkpoint is not overwritten unasked either.
  Stop lockFolder() {
    int refused = 0;
    if (lead) {
      if (!(lock = RunLock::acquire(options.outDir, "train", error)))
        refused = 1;
      else if (!options.resume && !options.overwrite && std::filesystem::exists(checkpoint)) {
        error = "'" + checkpoint +
                "' was written while this run started; --overwrite starts "
                "over, or choose another --out";
        refused = 1;
      }
    }
    world.broadcast(&refused, sizeof(refused));
    if (!refused)
      return {};
    return lead ? fail(error) : 1;
  }

  /// Where the last checkpoint of this run is, for the messages of a stop.
  std::string describe(const CheckpointHeader &at) const {
    std::string where = at.epochSteps ? "epoch " + std::to_string(at.epoch + 1) + ", step " +
                                            std::to_string(at.step)
                                      : "the end of epoch " + std::to_string(at.epoch);
    return "the checkpoint of " + where + " is kept in '" + checkpoint +
           "' (--resume continues from it)";
  }

  /// A resumed run: the same seed and settings as the checkpoint's, its best
  /// epoch, and the logs cut back to it.
  Stop resume() {
    if (options.seed >= 0 && uint64_t(position.seed) != seed)
      return fail("'" + checkpoint + "' was trained with seed " + std::to_string(position.seed) +
                  ", not " + std::to_string(seed));
    if (std::string differences = runDifferences(position.run, record); !differences.empty())
      return fail("cannot resume '" + checkpoint + "': this run differs from it:" + differences +
                  "\nLeave such flags out to continue the run as it was, or "
                  "start a new run with another --out (metrics.csv would mix the two).");
    seed = uint64_t(position.seed);
    for (const auto &[key, value] : hyperparamRecord(before))
      if (hyperRecord.at(key) != value)
        fmt::print("note: {} {} from step {} on (the run used {})\n", key, hyperRecord.at(key),
                   position.step + 1, value);
    auto best = position.run.find("best_val_neg_elbo"), at = position.run.find("best_epoch");
    if (best != position.run.end() && at != position.run.end()) {
      bestVal = std::strtod(best->second.c_str(), nullptr);
      bestEpoch = std::strtoll(at->second.c_str(), nullptr, 10);
    }
    if (lead && (!keepRowsUpTo(metricsPath, 0, position.epoch, error) ||
                 !keepRowsUpTo(stepsPath, 1, position.step, error)))
      return fail(error);
    for (const auto &row : readCsv(metricsPath))
      if (row.size() >= 11) {
        // (objective, reconstruction, kl: the −ELBO is their sum.)
        history.push_back(
            {{row[4], row[2], row[3], 0}, {row[8], row[6], row[7], 0}, row[9], row[10]});
        losses.test.push_back({row[0], row[5]});
      }
    for (const auto &row : readCsv(stepsPath))
      if (row.size() >= 5)
        losses.steps.push_back({row[2], row[4]});
    saved = describe(position);
    fmt::print("resuming from '{}' at {} (step {})\n", checkpoint,
               position.epochSteps
                   ? fmt::format("epoch {}, step {} of it", position.epoch + 1, position.epochSteps)
                   : fmt::format("the end of epoch {}", position.epoch),
               position.step);
    return {};
  }

  /// A new run: parameters from the seed.
  Stop start() {
    model.initParams(params.data(), seed);
    position.seed = int64_t(seed);
    // (--overwrite: the old run's best epoch is no longer one of this run's.)
    std::error_code ignored;
    if (lead)
      std::filesystem::remove(options.outDir + "/best.bin", ignored);
    return {};
  }

  /// One start for every process; metrics.csv and steps.csv opened (only
  /// rank 0's: the others' writes go nowhere).
  void openLogs() {
    world.broadcast(params.data(), params.size() * sizeof(float));
    world.broadcast(state.data(), state.size() * sizeof(float));
    if (ranks > 1) {
      model.hostWrote(params.data());
      model.hostWrote(state.data());
    }
    position.run = record;
    if (bestEpoch > 0) {
      position.run["best_val_neg_elbo"] = fmt::format("{}", bestVal);
      position.run["best_epoch"] = std::to_string(bestEpoch);
    }
    if (lead && (!options.resume || !std::filesystem::exists(metricsPath))) {
      std::ofstream(metricsPath, std::ios::trunc)
          << "epoch,train_neg_elbo,train_reconstruction,train_kl,train_objective,"
             "test_neg_elbo,test_reconstruction,test_kl,test_objective,"
             "samples_per_second,seconds,val_neg_elbo,val_reconstruction,val_kl,lr\n";
      std::ofstream(stepsPath, std::ios::trunc)
          << "epoch,step,position,objective,neg_elbo,reconstruction,kl,lr,kl_weight\n";
    }
    if (lead) {
      metrics.open(metricsPath, std::ios::app);
      stepLog.open(stepsPath, std::ios::app);
    }
    x.resize(batch * trainSet.size);
    eps.resize(batch * size_t(d.latent_size));
    weights.resize(batch);
    // Over several processes: the gradients, summed across them, then this
    // step's loss terms (three floats) and the stop vote, in one allreduce.
    if (ranks > 1)
      reduced = AlignedBuffer((size_t(d.param_floats) + 4) * sizeof(float));
  }

  /// The run's first two lines: the model, the data and the settings.
  Stop announce() {
    size_t dropped = trainSet.count - std::min(trainSet.count, batches * globalBatch);
    Terms initial = evaluate(model, params.data(), arena.bytes(), testSet, seed, world);
    std::string where = d.device == VAE_DEVICE_CUDA ? " on " + model.deviceDescription() : "";
    if (ranks > 1)
      where += fmt::format(" x {} processes (batch {} each)", ranks, batch);
    fmt::print("model {}{}: {} train / {} test examples{}, batch {} ({} steps per epoch, {}), {} "
               "epochs; test -ELBO at {} {:.2f} nats\n",
               d.name, where, trainSet.count, testSet.count,
               options.classes.empty() ? ""
               : anomalySet.count
                   ? fmt::format(" (classes {}; {} test examples of other classes, the "
                                 "anomalies, apart)",
                                 options.classes, anomalySet.count)
                   : " (classes " + options.classes + ")",
               globalBatch, batches,
               trainSet.count % globalBatch == 0 ? "no partial batch"
               : dropped                         ? "the partial batch dropped"
                                                 : "the partial batch padded",
               epochs, options.resume ? "the checkpoint" : "initialization", initial.negElbo());
    fmt::print(
        "{} lr {:g} ({}{}), beta {:g}{}{}{}\n",
        d.optimizer == VAE_OPTIMIZER_SGD     ? "sgd"
        : d.optimizer == VAE_OPTIMIZER_ADAMW ? "adamw"
                                             : "adam",
        hyper.lr, hyper.schedule,
        hyper.lrWarmupEpochs > 0 ? ", warm-up " + formatEpochs(hyper.lrWarmupEpochs) : "",
        hyper.beta,
        hyper.klWarmupEpochs > 0 ? ", KL warm-up " + formatEpochs(hyper.klWarmupEpochs) : "",
        hyper.clipGradNorm > 0 ? fmt::format(", gradient clipped to norm {:g}", hyper.clipGradNorm)
                               : "",
        valSet.count ? fmt::format(", {} training examples held out for validation", valSet.count)
                     : "");
    std::fflush(stdout);
    if (stopAgreed())
      return interrupted("before the first step");
    return {};
  }

  /// The exit code of a stop by SIGINT or SIGTERM, said once. (Over several
  /// processes every one stops at the same step: the one that got the
  /// signal says which; rank 0 has saved the checkpoint when they return.)
  int interrupted(const std::string &when) {
    world.barrier();
    int signal = stopSignal ? int(stopSignal) : stopCode ? stopCode - 128 : SIGTERM;
    if (lead)
      fmt::print(stderr, "vae-train: {} {}; {}\n",
                 signal == SIGTERM ? "terminated (SIGTERM)" : "interrupted (SIGINT)", when, saved);
    return 128 + signal;
  }

  /// Whether any process got SIGINT or SIGTERM (agreed at this point).
  bool stopAgreed() {
    float vote = stopSignal ? 1.0f : 0.0f;
    world.allreduceSum(&vote, 1);
    if (vote > 0 && !stopSignal)
      stopCode = 128 + SIGTERM;
    return vote > 0;
  }

  /// The examples of step k of the epoch over all processes.
  size_t globalCount(size_t k) const {
    return std::min(globalBatch, trainSet.count - k * globalBatch);
  }

  /// Step k's examples: order[k G, k G + nGlobal) for the global batch G;
  /// this process's share starts at rank x batch. Its noise and
  /// binarization are those elements of the step's streams, and each real
  /// example weighs batch / nGlobal: the processes' losses and gradients
  /// add up to the mean over the global batch (with one process, the
  /// weights of Model::exampleWeights).
  void prepare(int64_t epoch, size_t k) {
    size_t nGlobal = globalCount(k), first = std::min(nGlobal, rank * batch);
    size_t n = std::min(batch, nGlobal - first);
    gather(trainSet, order.data() + k * globalBatch + first, n, x);
    if (options.binarize == Binarize::Dynamic)
      binarizeDynamically(x.data(), n * trainSet.size, seed, uint32_t(epoch), uint32_t(k),
                          first * trainSet.size);
    fillNoise(eps, seed, uint32_t(epoch), uint32_t(k), first * size_t(d.latent_size));
    float weight =
        nGlobal == globalBatch ? 1.0f / float(ranks) : float(double(batch) / double(nGlobal));
    std::fill(weights.begin(), weights.end(), 0.0f);
    std::fill_n(weights.begin(), n, weight);
  }

  /// One process: step k runs (on a GPU, asynchronously) while the host
  /// prepares batch k + 1 and stages it (on a GPU, its upload overlaps
  /// step k).
  void stage(int64_t epoch, size_t k) {
    prepare(epoch, k);
    model.stageStep(x.data(), eps.data(), weights.data());
  }

  /// Runs step k; `terms` gets its loss terms. Whether any process was
  /// asked to stop.
  bool takeStep(int64_t epoch, size_t k, const vae_hyperparams &settings, float terms[3]) {
    if (ranks == 1) {
      model.startTrainStep(params.data(), state.data(), arena.bytes(), position.step + 1, settings);
      if (k + 1 < batches)
        stage(epoch, k + 1);
      model.finishTrainStep(terms);
      return stopSignal != 0;
    }
    prepare(epoch, k);
    float *sum = reduced.data(), *tail = sum + d.param_floats;
    model.gradStep(params.data(), arena.bytes(), x.data(), eps.data(), weights.data(), tail, sum);
    tail[3] = stopSignal ? 1.0f : 0.0f;
    auto started = std::chrono::steady_clock::now();
    world.allreduceSum(sum, size_t(d.param_floats) + 4);
    allreduceSeconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    model.applyUpdate(params.data(), state.data(), arena.bytes(), sum, position.step + 1, settings);
    std::copy(tail, tail + 3, terms);
    bool stopNow = tail[3] > 0;
    if (stopNow && !stopSignal)
      stopCode = 128 + SIGTERM;
    return stopNow;
  }

  /// A loss that is not finite: the steps so far go to the log, nothing to
  /// the checkpoint (the parameters are lost; every process sees the same
  /// loss).
  int lossDiverged(int64_t epoch, float objective) {
    progress.clear();
    stepLog << stepRows.str();
    stepLog.flush();
    world.barrier();
    if (!lead)
      return 1;
    const char *value = std::isnan(objective) ? "NaN" : objective > 0 ? "+Inf" : "-Inf";
    return fail(std::string("the loss became ") + value + " at epoch " + std::to_string(epoch + 1) +
                ", step " + std::to_string(position.step + 1) +
                "; stopped (steps.csv has every step up to it); " + saved);
  }

  /// A checkpoint within the epoch (at a stop, or every --checkpoint-every
  /// steps), with the sums of the epoch's steps so far.
  Stop checkpointWithinEpoch(size_t k) {
    progress.clear();
    position.epochSteps = int64_t(k + 1);
    position.epochSums[0] = trainTerms.objective;
    position.epochSums[1] = trainTerms.reconstruction;
    position.epochSums[2] = trainTerms.kl;
    position.epochSums[3] = double(trainTerms.examples);
    if (lead) {
      stepLog << stepRows.str();
      stepLog.flush();
      if (!stepLog)
        return fail("cannot append to '" + stepsPath + "'");
      if (!writeCheckpoint(checkpoint, model, params.data(), state.data(), position, error))
        return fail(error);
    }
    stepRows.str("");
    saved = describe(position);
    return {};
  }

  /// Step k of `epoch`, logged and summed, with a checkpoint or a stop
  /// where one is due.
  Stop step(int64_t epoch, size_t k, std::chrono::steady_clock::time_point started,
            size_t examplesBefore) {
    size_t n = globalCount(k);
    double at = double(epoch) + double(k) / double(batches);
    vae_hyperparams settings = hyper.at(epoch, k, batches, epochs);
    float terms[3];
    bool stopNow = takeStep(epoch, k, settings, terms);
    double negElbo = double(terms[1]) + double(terms[2]);
    stepRows << epoch + 1 << ',' << position.step + 1 << ',' << at + 1.0 / double(batches) << ','
             << terms[0] << ',' << negElbo << ',' << terms[1] << ',' << terms[2] << ','
             << settings.lr << ',' << settings.kl_weight << '\n';
    if (!std::isfinite(terms[0]))
      return lossDiverged(epoch, terms[0]);
    ++position.step;
    if (firstStepSeconds < 0)
      firstStepSeconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - kLoadedAt).count();
    trainTerms.objective += double(terms[0]) * double(n);
    trainTerms.reconstruction += double(terms[1]) * double(n);
    trainTerms.kl += double(terms[2]) * double(n);
    trainTerms.examples += n;
    losses.steps.push_back({at + 1.0 / double(batches), negElbo});
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    progress.update(epoch + 1, epochs, k + 1, batches,
                    trainTerms.negElbo() / double(trainTerms.examples),
                    double(trainTerms.examples - examplesBefore) / elapsed);
    // (The epoch's own checkpoint is written at its end.)
    bool periodic = options.checkpointEvery > 0 && k + 1 < batches &&
                    (k + 1) % size_t(options.checkpointEvery) == 0;
    if (stopNow || periodic)
      if (Stop stop = checkpointWithinEpoch(k); stop)
        return stop;
    if (stopNow)
      return interrupted("at epoch " + std::to_string(epoch + 1) + ", step " +
                         std::to_string(position.step) + " (" + std::to_string(k + 1) + " of " +
                         std::to_string(batches) + " in the epoch)");
    return {};
  }

  /// One epoch: its steps, then the test (and validation) -ELBO, the logs,
  /// the checkpoints, and early stopping.
  Stop runEpoch(int64_t epoch, bool &earlyStop) {
    auto started = std::chrono::steady_clock::now();
    allreduceSeconds = 0;
    order = shuffle(trainSet.count, seed, uint32_t(epoch));
    // A run stopped within this epoch goes on from its next step, with the
    // sums of the steps it took.
    trainTerms = Terms{position.epochSums[0], position.epochSums[1], position.epochSums[2],
                       size_t(position.epochSums[3])};
    size_t firstStep = size_t(position.epochSteps), examplesBefore = trainTerms.examples;
    stepRows.str("");
    if (firstStep < batches && ranks == 1)
      stage(epoch, firstStep);
    for (size_t k = firstStep; k < batches; ++k)
      if (Stop stop = step(epoch, k, started, examplesBefore); stop)
        return stop;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    double rate = double(trainTerms.examples - examplesBefore) / seconds;
    double examples = double(trainTerms.examples);
    trainTerms.objective /= examples;
    trainTerms.reconstruction /= examples;
    trainTerms.kl /= examples;
    // (The objective at this run's beta, which need not be the library's.)
    Terms test = evaluate(model, params.data(), arena.bytes(), testSet, seed, world);
    test.objective = test.reconstruction + hyper.beta * test.kl;
    Terms val;
    if (valSet.count)
      val = evaluate(model, params.data(), arena.bytes(), valSet, seed, world);
    if (anomalySet.count)
      anomalyTerms = evaluate(model, params.data(), arena.bytes(), anomalySet, seed, world);
    progress.clear();
    printEpoch(epoch, test, val, rate, seconds);
    if (Stop stop = logEpoch(epoch, test, val, rate, seconds); stop)
      return stop;
    if (stopAgreed())
      return interrupted("after epoch " + std::to_string(epoch + 1));
    if (hyper.patience > 0 && valSet.count && double(epoch + 1 - bestEpoch) >= hyper.patience) {
      fmt::print("early stopping: no better validation -ELBO in {}; the best, {:.2f} at epoch "
                 "{}, is in '{}/best.bin'\n",
                 formatEpochs(hyper.patience), bestVal, bestEpoch, options.outDir);
      earlyStop = true;
    }
    return {};
  }

  /// The epoch's line on stdout.
  void printEpoch(int64_t epoch, const Terms &test, const Terms &val, double rate, double seconds) {
    std::string line =
        fmt::format("epoch {}/{}  train -ELBO {:.2f} (rec {:.2f}, KL {:.2f})", epoch + 1, epochs,
                    trainTerms.negElbo(), trainTerms.reconstruction, trainTerms.kl);
    if (valSet.count)
      line += fmt::format("  val -ELBO {:.2f}", val.negElbo());
    line +=
        fmt::format("  test -ELBO {:.2f} (rec {:.2f}, KL {:.2f}; {:.4f} bits/dim)", test.negElbo(),
                    test.reconstruction, test.kl, test.bitsPerDim(model.desc().input_size));
    if (anomalySet.count)
      line += fmt::format("  anomalies -ELBO {:.2f}", anomalyTerms.negElbo());
    if (weighted)
      line +=
          fmt::format("  objective train {:.2f} test {:.2f}", trainTerms.objective, test.objective);
    line += fmt::format("  {:.0f} samples/s  {:.2f} s", rate, seconds);
    if (ranks > 1)
      line += fmt::format(" (allreduce {:.0f} %)", 100 * allreduceSeconds / seconds);
    fmt::print("{}\n", line);
    std::fflush(stdout);
  }

  /// The epoch into metrics.csv, steps.csv and metrics.json, its
  /// checkpoint (and best.bin where validation improved), the loss curve.
  Stop logEpoch(int64_t epoch, const Terms &test, const Terms &val, double rate, double seconds) {
    float lastLr = hyper.at(epoch, batches - 1, batches, epochs).lr;
    metrics << epoch + 1 << ',' << trainTerms.negElbo() << ',' << trainTerms.reconstruction << ','
            << trainTerms.kl << ',' << trainTerms.objective << ',' << test.negElbo() << ','
            << test.reconstruction << ',' << test.kl << ',' << test.objective << ',' << rate << ','
            << seconds << ',';
    if (valSet.count)
      metrics << val.negElbo() << ',' << val.reconstruction << ',' << val.kl;
    else
      metrics << ",,";
    metrics << ',' << lastLr << '\n';
    metrics.flush();
    stepLog << stepRows.str();
    stepLog.flush();
    history.push_back({trainTerms, test, rate, seconds, allreduceSeconds});
    losses.test.push_back({double(epoch + 1), test.negElbo()});
    position.epoch = epoch + 1;
    position.epochSteps = 0;
    std::fill(std::begin(position.epochSums), std::end(position.epochSums), 0.0);
    if (lead && (!metrics || !stepLog))
      return fail("cannot append to '" + metricsPath + "' or '" + stepsPath + "'");
    // The best validation -ELBO so far: best.bin, a checkpoint like the
    // others (eval --checkpoint OUT/best.bin).
    bool improved = valSet.count && val.negElbo() < bestVal;
    if (improved) {
      bestVal = val.negElbo();
      bestEpoch = epoch + 1;
      position.run["best_val_neg_elbo"] = fmt::format("{}", bestVal);
      position.run["best_epoch"] = std::to_string(bestEpoch);
    }
    if (lead &&
        (!writeMetricsJson(options.outDir + "/metrics.json", d, ranks, hyperRecord, history,
                           firstStepSeconds, error) ||
         (improved && !writeCheckpoint(options.outDir + "/best.bin", model, params.data(),
                                       state.data(), position, error)) ||
         !writeCheckpoint(checkpoint, model, params.data(), state.data(), position, error) ||
         !writeLossCurve(options.outDir + "/loss_curve.png", losses, error)))
      return fail(error);
    saved = describe(position);
    return {};
  }

  const Model &model;
  const vae_model &d;
  TrainOptions options;
  Communicator &world;
  // Every process reads the same files (a run's folder and data on a shared
  // filesystem); rank 0 alone writes and prints.
  const bool lead;
  const size_t ranks, rank;
  AlignedBuffer params, state, arena;
  const std::string checkpoint, metricsPath, stepsPath;
  std::string error;
  CheckpointHeader position;
  Dataset trainSet, testSet, valSet;
  // With --classes: the test set's other classes, and their last -ELBO.
  Dataset anomalySet;
  Terms anomalyTerms;
  uint64_t runSeed = 0, seed = 0;
  size_t batch = 0, globalBatch = 0, batches = 0;
  int64_t epochs = 0;
  std::map<std::string, std::string> record, hyperRecord;
  Hyperparams hyper, before;
  bool weighted = false;
  std::vector<EpochRecord> history;
  LossHistory losses;
  // The best validation -ELBO so far and its epoch (best.bin).
  double bestVal = HUGE_VAL;
  int64_t bestEpoch = 0;
  std::string saved = "no checkpoint was written (no epoch finished)";
  std::ofstream metrics, stepLog;
  std::optional<StopOnSignals> stopOnSignals;
  std::unique_ptr<RunLock> lock; // the lead's, on options.outDir
  // A stop by SIGINT or SIGTERM: the process's exit code.
  int stopCode = 0;
  // The running epoch: its order, the batch being staged, its sums.
  std::vector<uint32_t> order;
  std::vector<float> x, eps, weights;
  AlignedBuffer reduced;
  Terms trainTerms;
  std::ostringstream stepRows;
  double allreduceSeconds = 0; // of the running epoch
  ProgressBar progress{options.progress};
  double firstStepSeconds = -1; // since the process started, this run's first step
};

} // namespace

int vae::train(const Model &model, const TrainOptions &options, Communicator &world) {
  return TrainingRun(model, options, world).run();
}
