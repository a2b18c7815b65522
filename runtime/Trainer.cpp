//===- Trainer.cpp - the training loop of vae-train -----------------------===//

#include "runtime/Trainer.h"

#include "runtime/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/Pictures.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

using namespace vae;

namespace {

/// Evaluation draws its noise with this key mixed into the seed (epoch
/// 0xffffffff - k for importance sample k), never colliding with training.
constexpr uint64_t kEvalNoiseKey = 0x5eed5eedull;

/// Philox streams of the two static binarizations (one per file).
constexpr uint32_t kTrainSetStream = 0, kTestSetStream = 1;

/// Rows of a CSV file written by vae-train, as numbers (header skipped).
std::vector<std::vector<double>> readCsv(const std::string &path) {
  std::vector<std::vector<double>> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ','))
      row.push_back(std::strtod(field.c_str(), nullptr));
    if (!row.empty())
      rows.push_back(std::move(row));
  }
  return rows;
}

/// A run resumed from the checkpoint of epoch `epoch` drops the rows of
/// later epochs (written before a crash that came ahead of the checkpoint).
bool keepRowsUpTo(const std::string &path, int64_t epoch, std::string &error) {
  std::ifstream in(path);
  if (!in)
    return true;
  std::string header, line, kept;
  std::getline(in, header);
  while (std::getline(in, line))
    if (std::strtoll(line.c_str(), nullptr, 10) <= epoch)
      kept += line + '\n';
  in.close();
  return writeAtomically(path, [&](std::ostream &out) { out << header << '\n' << kept; },
                         error);
}

/// When the runtime was loaded: about when the process started, so that
/// metrics.json can say how long it took to get one step done.
const auto kLoadedAt = std::chrono::steady_clock::now();

struct EpochRecord {
  Terms train, test;
  double samplesPerSecond, seconds;
};

/// metrics.json: every epoch of the run (a resumed run included).
bool writeMetricsJson(const std::string &path, const vae_model &d,
                      const std::vector<EpochRecord> &history, double firstStepSeconds,
                      std::string &error) {
  return writeAtomically(
      path,
      [&](std::ostream &out) {
        out << "{\n  \"model\": \"" << d.name << "\",\n  \"batch\": " << d.batch
            << ",\n  \"first_step_seconds\": " << firstStepSeconds
            << ",\n  \"epochs\": [";
        for (size_t i = 0; i < history.size(); ++i) {
          const EpochRecord &r = history[i];
          out << (i ? "," : "") << "\n    {\"epoch\": " << i + 1
              << ", \"train\": {\"loss\": " << r.train.loss
              << ", \"reconstruction\": " << r.train.reconstruction
              << ", \"kl\": " << r.train.kl << "}, \"test\": {\"loss\": " << r.test.loss
              << ", \"reconstruction\": " << r.test.reconstruction
              << ", \"kl\": " << r.test.kl << "}, \"samples_per_second\": "
              << r.samplesPerSecond << ", \"seconds\": " << r.seconds << "}";
        }
        out << "\n  ]\n}\n";
      },
      error);
}

/// The train and test images of `dir`, checked against the model and
/// binarized as asked. A dynamically binarized run evaluates on the
/// statically binarized test set, so that its test -ELBO is comparable
/// across epochs.
bool loadImages(const Model &model, const TrainOptions &options, bool wantTrain,
                Dataset &trainSet, Dataset &testSet, std::string &error) {
  const char *stems[2] = {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"};
  Dataset *sets[2] = {&trainSet, &testSet};
  for (int i = wantTrain ? 0 : 1; i < 2; ++i) {
    std::string path = findIdx(options.dataDir, stems[i]);
    if (path.empty()) {
      error = std::string("no ") + stems[i] + " or " + stems[i] + ".gz in '" +
              options.dataDir + "'";
      return false;
    }
    if (!Dataset::load(path, i == 0 ? options.limit : 0, *sets[i], error))
      return false;
    if (sets[i]->size != size_t(model.desc().input_size)) {
      error = "'" + path + "' has examples of " + std::to_string(sets[i]->size) +
              " values, but model '" + model.desc().name + "' takes " +
              std::to_string(model.desc().input_size);
      return false;
    }
    bool isTrain = i == 0;
    if (options.binarize == Binarize::Static ||
        (options.binarize == Binarize::Dynamic && !isTrain))
      sets[i]->binarizeStatically(isTrain ? kTrainSetStream : kTestSetStream);
  }
  return true;
}

/// One line redrawn in place on a terminal; nothing otherwise.
class ProgressBar {
public:
  explicit ProgressBar(bool wanted) : enabled(wanted && isatty(fileno(stdout))) {}
  void update(int64_t epoch, int64_t epochs, size_t done, size_t total,
              double loss, double samplesPerSecond) {
    auto now = std::chrono::steady_clock::now();
    if (!enabled || (done < total && now - last < std::chrono::milliseconds(100)))
      return;
    last = now;
    const int width = 30;
    int filled = int(double(width) * double(done) / double(total));
    std::printf("\r\033[Kepoch %lld/%lld [%s%s] %zu/%zu  loss %.2f  %.0f samples/s",
                (long long)epoch, (long long)epochs, std::string(size_t(filled), '#').c_str(),
                std::string(size_t(width - filled), '.').c_str(), done, total, loss,
                samplesPerSecond);
    std::fflush(stdout);
  }
  void clear() {
    if (enabled)
      std::printf("\r\033[K");
  }

private:
  bool enabled;
  std::chrono::steady_clock::time_point last{};
};

/// Calls `visit(first, n, x, eps)` for every batch of `data` in order, the
/// last one padded with zeros; `n` is the number of real examples and `eps`
/// the evaluation noise of that batch (the same for eval, score and the
/// first importance sample, so their numbers agree).
template <typename Visit>
void forEachBatch(const Model &model, const Dataset &data, uint64_t seed,
                  Visit visit) {
  size_t batch = size_t(model.desc().batch);
  std::vector<float> x(batch * data.size), eps(batch * size_t(model.desc().latent_size));
  std::vector<uint32_t> indices(batch);
  for (size_t first = 0; first < data.count; first += batch) {
    size_t n = std::min(batch, data.count - first);
    std::iota(indices.begin(), indices.begin() + long(n), uint32_t(first));
    gather(data, indices.data(), n, x);
    fillNoise(eps, seed ^ kEvalNoiseKey, 0xffffffffu, uint32_t(first / batch));
    visit(first, n, x, eps);
  }
}

int fail(const std::string &error) {
  std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
  return 1;
}

} // namespace

Terms vae::evaluate(const Model &model, const float *params, void *arena,
                    const Dataset &data, uint64_t seed) {
  size_t batch = size_t(model.desc().batch);
  std::vector<float> loss(batch), rec(batch), kl(batch);
  Terms total;
  forEachBatch(model, data, seed,
               [&](size_t, size_t n, std::vector<float> &x, std::vector<float> &eps) {
                 if (n == batch) {
                   float terms[3];
                   model.evalElbo(params, arena, x.data(), eps.data(), terms);
                   total.loss += double(terms[0]) * double(n);
                   total.reconstruction += double(terms[1]) * double(n);
                   total.kl += double(terms[2]) * double(n);
                 } else { // per example: the padding must not count
                   model.score(params, arena, x.data(), eps.data(), loss.data(),
                               rec.data(), kl.data());
                   for (size_t b = 0; b < n; ++b) {
                     total.loss += loss[b];
                     total.reconstruction += rec[b];
                     total.kl += kl[b];
                   }
                 }
                 total.examples += n;
               });
  if (total.examples) {
    total.loss /= double(total.examples);
    total.reconstruction /= double(total.examples);
    total.kl /= double(total.examples);
  }
  return total;
}

std::vector<double> vae::importanceWeightedLogLikelihood(
    const Model &model, const float *params, void *arena, const Dataset &data,
    uint64_t seed, int64_t samples) {
  const vae_model &d = model.desc();
  size_t batch = size_t(d.batch), latent = size_t(d.latent_size), K = size_t(samples);
  std::vector<float> mu(batch * latent), logvar(mu.size()), noise(mu.size());
  std::vector<float> loss(batch), rec(batch), kl(batch);
  std::vector<double> logWeights(batch * K), result(data.count);
  const double halfLog2Pi = 0.5 * std::log(2 * M_PI);
  const double m0 = d.prior_mean, s0 = d.prior_std;
  forEachBatch(model, data, seed, [&](size_t first, size_t n, std::vector<float> &x,
                                      std::vector<float> &evalNoise) {
    model.encode(params, arena, x.data(), mu.data(), logvar.data());
    for (size_t k = 0; k < K; ++k) {
      // Sample 0 is evaluate()'s noise: K = 1 scores the same z.
      if (k > 0)
        fillNoise(noise, seed ^ kEvalNoiseKey, 0xffffffffu - uint32_t(k),
                  uint32_t(first / batch));
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

int vae::train(const Model &model, const TrainOptions &options) {
  const vae_model &d = model.desc();
  std::string error;
  Dataset trainSet, testSet;
  if (!loadImages(model, options, true, trainSet, testSet, error))
    return fail(error);
  size_t batch = size_t(d.batch);
  if (trainSet.count == 0 || (!options.padLastBatch && trainSet.count < batch))
    return fail("'" + trainSet.path + "' has " + std::to_string(trainSet.count) +
                " examples, fewer than one batch of " + std::to_string(batch) +
                (options.padLastBatch ? "" : " (--last-batch drop)"));
  int64_t epochs = options.epochs > 0 ? options.epochs : d.epochs;
  uint64_t seed = uint64_t(options.seed >= 0 ? options.seed : d.seed);

  std::filesystem::create_directories(options.outDir);
  AlignedBuffer params = model.newParams(), state = model.newOptimizerState();
  AlignedBuffer arena = model.newArena();
  std::string checkpoint = options.outDir + "/checkpoint.bin";
  std::string metricsPath = options.outDir + "/metrics.csv";
  std::string stepsPath = options.outDir + "/steps.csv";
  CheckpointHeader position;
  std::vector<EpochRecord> history;
  LossHistory losses;
  if (options.resume) {
    if (!readCheckpoint(checkpoint, model, params.data(), state.data(), position, error))
      return fail(error);
    if (options.seed >= 0 && uint64_t(position.seed) != seed)
      return fail("'" + checkpoint + "' was trained with seed " +
                  std::to_string(position.seed) + ", not " + std::to_string(seed));
    seed = uint64_t(position.seed);
    if (!keepRowsUpTo(metricsPath, position.epoch, error) ||
        !keepRowsUpTo(stepsPath, position.epoch, error))
      return fail(error);
    for (const auto &row : readCsv(metricsPath))
      if (row.size() >= 9) {
        history.push_back({{row[1], row[2], row[3], 0}, {row[4], row[5], row[6], 0}, row[7], row[8]});
        losses.test.push_back({row[0], row[4]});
      }
    for (const auto &row : readCsv(stepsPath))
      if (row.size() >= 4)
        losses.steps.push_back({row[2], row[3]});
    std::printf("resuming from '%s' after epoch %lld (step %lld)\n",
                checkpoint.c_str(), (long long)position.epoch, (long long)position.step);
  } else {
    if (std::filesystem::exists(checkpoint) && !options.overwrite)
      return fail("'" + checkpoint +
                  "' exists; --resume continues it, --overwrite starts over, "
                  "or choose another --out");
    model.initParams(params.data(), seed);
    position.seed = int64_t(seed);
  }
  if (!options.resume || !std::filesystem::exists(metricsPath)) {
    std::ofstream(metricsPath, std::ios::trunc)
        << "epoch,train_loss,train_reconstruction,train_kl,test_loss,"
           "test_reconstruction,test_kl,samples_per_second,seconds\n";
    std::ofstream(stepsPath, std::ios::trunc)
        << "epoch,step,position,loss,reconstruction,kl\n";
  }
  std::ofstream metrics(metricsPath, std::ios::app), stepLog(stepsPath, std::ios::app);

  size_t batches = options.padLastBatch ? (trainSet.count + batch - 1) / batch
                                        : trainSet.count / batch;
  size_t dropped = trainSet.count - std::min(trainSet.count, batches * batch);
  Terms initial = evaluate(model, params.data(), arena.bytes(), testSet, seed);
  std::printf("model %s: %zu train / %zu test examples, batch %zu (%zu steps per "
              "epoch, %s), %lld epochs; test -ELBO at %s %.2f nats\n",
              d.name, trainSet.count, testSet.count, batch, batches,
              trainSet.count % batch == 0 ? "no partial batch"
              : dropped ? "the partial batch dropped"
                        : "the partial batch padded",
              (long long)epochs, options.resume ? "the checkpoint" : "initialization",
              initial.loss);

  std::vector<float> x(batch * trainSet.size), eps(batch * size_t(d.latent_size));
  std::vector<float> ones = model.exampleWeights(batch);
  ProgressBar progress(options.progress);
  double firstStepSeconds = -1; // since the process started, this run's first step
  for (int64_t epoch = position.epoch; epoch < epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    std::vector<uint32_t> order = shuffle(trainSet.count, seed, uint32_t(epoch));
    Terms trainTerms;
    std::ostringstream stepRows;
    for (size_t k = 0; k < batches; ++k) {
      size_t n = std::min(batch, trainSet.count - k * batch);
      gather(trainSet, order.data() + k * batch, n, x);
      if (options.binarize == Binarize::Dynamic)
        binarizeDynamically(x.data(), n * trainSet.size, seed, uint32_t(epoch), uint32_t(k));
      fillNoise(eps, seed, uint32_t(epoch), uint32_t(k));
      std::vector<float> partial;
      if (n < batch)
        partial = model.exampleWeights(n);
      double at = double(epoch) + double(k) / double(batches);
      float terms[3];
      model.trainStep(params.data(), state.data(), arena.bytes(), x.data(), eps.data(),
                      n < batch ? partial.data() : ones.data(), ++position.step,
                      model.klWeight(at), terms);
      if (!std::isfinite(terms[0])) {
        progress.clear();
        return fail("the loss became " + std::to_string(terms[0]) + " at epoch " +
                    std::to_string(epoch + 1) + ", step " + std::to_string(position.step) +
                    "; stopping (the checkpoint of the last finished epoch is kept)");
      }
      if (firstStepSeconds < 0)
        firstStepSeconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - kLoadedAt).count();
      trainTerms.loss += double(terms[0]) * double(n);
      trainTerms.reconstruction += double(terms[1]) * double(n);
      trainTerms.kl += double(terms[2]) * double(n);
      trainTerms.examples += n;
      losses.steps.push_back({at + 1.0 / double(batches), terms[0]});
      stepRows << epoch + 1 << ',' << position.step << ',' << losses.steps.back().first
               << ',' << terms[0] << ',' << terms[1] << ',' << terms[2] << '\n';
      double elapsed = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start).count();
      progress.update(epoch + 1, epochs, k + 1, batches,
                      trainTerms.loss / double(trainTerms.examples),
                      double(trainTerms.examples) / elapsed);
    }
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start).count();
    double examples = double(trainTerms.examples);
    trainTerms.loss /= examples;
    trainTerms.reconstruction /= examples;
    trainTerms.kl /= examples;
    Terms test = evaluate(model, params.data(), arena.bytes(), testSet, seed);
    double rate = examples / seconds;
    progress.clear();
    std::printf("epoch %lld/%lld  train -ELBO %.2f (rec %.2f, KL %.2f)  test "
                "-ELBO %.2f (rec %.2f, KL %.2f)  %.0f samples/s  %.2f s\n",
                (long long)epoch + 1, (long long)epochs, trainTerms.loss,
                trainTerms.reconstruction, trainTerms.kl, test.loss,
                test.reconstruction, test.kl, rate, seconds);
    std::fflush(stdout);
    metrics << epoch + 1 << ',' << trainTerms.loss << ',' << trainTerms.reconstruction
            << ',' << trainTerms.kl << ',' << test.loss << ',' << test.reconstruction
            << ',' << test.kl << ',' << rate << ',' << seconds << '\n';
    metrics.flush();
    stepLog << stepRows.str();
    stepLog.flush();
    history.push_back({trainTerms, test, rate, seconds});
    losses.test.push_back({double(epoch + 1), test.loss});
    position.epoch = epoch + 1;
    if (!metrics || !stepLog)
      return fail("cannot append to '" + metricsPath + "' or '" + stepsPath + "'");
    if (!writeMetricsJson(options.outDir + "/metrics.json", d, history,
                          firstStepSeconds, error) ||
        !writeCheckpoint(checkpoint, model, params.data(), state.data(), position, error) ||
        !writeLossCurve(options.outDir + "/loss_curve.png", losses, error))
      return fail(error);
  }
  if (!writePictures(model, params.data(), arena.bytes(), testSet, seed,
                     options.outDir, error))
    return fail(error);
  return 0;
}

int vae::runCommand(const Model &model, const TrainOptions &options,
                    const std::string &checkpointPath, Command command) {
  const vae_model &d = model.desc();
  std::string error;
  std::string path = checkpointPath.empty() ? options.outDir + "/checkpoint.bin"
                                            : checkpointPath;
  AlignedBuffer params = model.newParams(), state = model.newOptimizerState();
  AlignedBuffer arena = model.newArena();
  CheckpointHeader header;
  Dataset unused, images, labels;
  if (!readCheckpoint(path, model, params.data(), state.data(), header, error) ||
      !loadImages(model, options, false, unused, images, error))
    return fail(error);
  std::string labelPath = findIdx(options.dataDir, "t10k-labels-idx1-ubyte");
  if (!labelPath.empty() && !Dataset::load(labelPath, 0, labels, error))
    return fail(error);
  if (labels.count && labels.count != images.count)
    return fail("'" + labelPath + "' has " + std::to_string(labels.count) +
                " labels for " + std::to_string(images.count) + " images");
  uint64_t seed = uint64_t(options.seed >= 0 ? options.seed : header.seed);
  std::filesystem::create_directories(options.outDir);
  size_t batch = size_t(d.batch), latent = size_t(d.latent_size);
  switch (command) {
  case Command::Eval: {
    Terms t = evaluate(model, params.data(), arena.bytes(), images, seed);
    std::printf("test -ELBO %.2f nats (reconstruction %.2f, KL %.2f) over %zu "
                "examples, checkpoint of epoch %lld\n",
                t.loss, t.reconstruction, t.kl, t.examples, (long long)header.epoch);
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
                           if (labels.count)
                             csv << int(labels.pixels[first + b]);
                           if (encode)
                             for (size_t j = 0; j < latent; ++j)
                               csv << ',' << mu[b * latent + j];
                           else
                             csv << ',' << loss[b] << ',' << rec[b] << ',' << kl[b];
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
