//===- Trainer.cpp - the training loop of vae-train -----------------------===//

#include "runtime/Trainer.h"

#include "runtime/AtomicFile.h"
#include "runtime/Idx.h"
#include "runtime/Png.h"
#include "vae/philox.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace vae;

bool Dataset::load(const std::string &path, size_t limit, Dataset &out,
                   std::string &error) {
  auto reader = IdxReader::open(path, error);
  if (!reader)
    return false;
  out.path = path;
  out.count = limit ? std::min<size_t>(limit, reader->count()) : reader->count();
  out.size = reader->exampleSize();
  return reader->read(out.count, out.pixels, error);
}

std::string vae::findIdx(const std::string &dir, const std::string &stem) {
  for (const char *suffix : {"", ".gz"}) {
    std::string path = dir + "/" + stem + suffix;
    if (std::filesystem::exists(path))
      return path;
  }
  return "";
}

namespace {

/// Standard normal noise for (seed, epoch, step), by Box-Muller on Philox.
void fillNoise(std::vector<float> &eps, uint64_t seed, uint32_t epoch,
               uint32_t step) {
  PhiloxKey key{uint32_t(seed), uint32_t(seed >> 32)};
  for (size_t i = 0; i < eps.size(); i += 2) {
    PhiloxCounter w = philox4x32_10({uint32_t(i / 2), step, epoch, 1}, key);
    double u1 = (double(w[0]) + 1.0) / 4294967296.0, u2 = double(w[1]) / 4294967296.0;
    double r = std::sqrt(-2 * std::log(u1));
    eps[i] = float(r * std::cos(2 * M_PI * u2));
    if (i + 1 < eps.size())
      eps[i + 1] = float(r * std::sin(2 * M_PI * u2));
  }
}

/// A permutation of [0, n) for (seed, epoch): Fisher-Yates on Philox.
std::vector<uint32_t> shuffle(size_t n, uint64_t seed, uint32_t epoch) {
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i)
    order[i] = uint32_t(i);
  PhiloxKey key{uint32_t(seed), uint32_t(seed >> 32)};
  for (size_t i = n; i > 1; --i) {
    uint32_t r = philox4x32_10({uint32_t(i), epoch, 0, 2}, key)[0];
    std::swap(order[i - 1], order[r % i]);
  }
  return order;
}

void gather(const Dataset &data, const uint32_t *indices, size_t n,
            std::vector<float> &x) {
  for (size_t b = 0; b < n; ++b)
    for (size_t j = 0; j < data.size; ++j)
      x[b * data.size + j] = float(data.pixels[size_t(indices[b]) * data.size + j]) / 255.0f;
}

/// Writes `path` through a temporary file and a rename, so a crash leaves
/// either the old checkpoint or the new one, never a torn file.
constexpr char kCheckpointMagic[8] = {'V', 'A', 'E', 'C', 'K', 'P', 'T', '1'};

bool writeCheckpoint(const std::string &path, const Model &model,
                     const float *params, const float *state, int64_t epoch,
                     int64_t step, uint64_t seed, std::string &error) {
  const vae_model &d = model.desc();
  return writeAtomically(
      path,
      [&](std::ostream &out) {
        int64_t header[5] = {d.param_floats, d.opt_state_floats, epoch, step,
                             int64_t(seed)};
        out.write(kCheckpointMagic, 8);
        out.write(reinterpret_cast<const char *>(header), sizeof(header));
        out.write(reinterpret_cast<const char *>(params),
                  std::streamsize(d.param_floats * 4));
        out.write(reinterpret_cast<const char *>(state),
                  std::streamsize(d.opt_state_floats * 4));
      },
      error);
}

struct EpochRecord {
  Terms train, test;
  double samplesPerSecond, seconds;
};

/// metrics.json: the epochs of this invocation (a resumed run starts at
/// `firstEpoch`; metrics.csv holds the whole run).
bool writeMetricsJson(const std::string &path, const vae_model &d,
                      const std::vector<EpochRecord> &history,
                      int64_t firstEpoch, std::string &error) {
  return writeAtomically(
      path,
      [&](std::ostream &out) {
        out << "{\n  \"model\": \"" << d.name << "\",\n  \"batch\": " << d.batch
            << ",\n  \"epochs\": [";
        for (size_t i = 0; i < history.size(); ++i) {
          const EpochRecord &r = history[i];
          out << (i ? "," : "") << "\n    {\"epoch\": " << firstEpoch + int64_t(i) + 1
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

/// Means of the decoder's distribution for latent codes `z` (a full batch).
std::vector<std::vector<float>> decodeMeans(const Model &model,
                                            const float *params, void *arena,
                                            const std::vector<float> &z,
                                            size_t count) {
  const vae_model &d = model.desc();
  size_t size = size_t(d.input_size);
  std::vector<float> out0(size_t(d.batch) * size), out1(out0.size());
  model.decode(params, arena, z.data(), out0.data(), out1.data());
  std::vector<std::vector<float>> images(count);
  for (size_t b = 0; b < count; ++b) {
    images[b].assign(out0.begin() + long(b * size), out0.begin() + long((b + 1) * size));
    if (d.likelihood == VAE_LIKELIHOOD_BERNOULLI) // logits -> probabilities
      for (float &v : images[b])
        v = 1.0f / (1.0f + std::exp(-v));
  }
  return images;
}

/// reconstructions.png (test inputs above, reconstructions of their
/// posterior means below) and samples.png (decoded prior draws).
bool writePictures(const Model &model, const float *params, void *arena,
                   const Dataset &test, uint64_t seed, const std::string &dir,
                   std::string &error) {
  const vae_model &d = model.desc();
  uint32_t side = uint32_t(std::lround(std::sqrt(double(d.input_size))));
  if (uint64_t(side) * side != uint64_t(d.input_size)) {
    std::printf("no pictures: inputs of %lld values are not square images\n",
                (long long)d.input_size);
    return true;
  }
  size_t batch = size_t(d.batch), latent = size_t(d.latent_size);
  size_t shown = std::min(std::min<size_t>(batch, 8), test.count);
  std::vector<float> x(batch * test.size, 0.0f), mu(batch * latent), logvar(mu.size());
  std::vector<uint32_t> first(shown);
  for (size_t i = 0; i < shown; ++i)
    first[i] = uint32_t(i);
  gather(test, first.data(), shown, x);
  model.encode(params, arena, x.data(), mu.data(), logvar.data());
  std::vector<std::vector<float>> grid;
  for (size_t i = 0; i < shown; ++i)
    grid.emplace_back(x.begin() + long(i * test.size), x.begin() + long((i + 1) * test.size));
  for (auto &image : decodeMeans(model, params, arena, mu, shown))
    grid.push_back(std::move(image));
  uint32_t width, height;
  std::vector<uint8_t> pixels = tileImages(grid, side, uint32_t(shown), width, height);
  if (!writeGreyPng(dir + "/reconstructions.png", width, height, pixels, error))
    return false;

  std::vector<float> z(batch * latent);
  fillNoise(z, seed ^ 0x5a3b1e5ull, 0xfffffffeu, 0);
  size_t samples = std::min<size_t>(batch, 64);
  pixels = tileImages(decodeMeans(model, params, arena, z, samples), side, 8,
                      width, height);
  if (!writeGreyPng(dir + "/samples.png", width, height, pixels, error))
    return false;
  std::printf("pictures: %s/reconstructions.png, %s/samples.png\n", dir.c_str(),
              dir.c_str());
  return true;
}

} // namespace

bool vae::readCheckpoint(const std::string &path, const Model &model,
                         float *params, float *state, CheckpointHeader &header,
                         std::string &error) {
  const vae_model &d = model.desc();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open checkpoint '" + path + "'";
    return false;
  }
  char magic[8];
  int64_t fields[5];
  if (!in.read(magic, 8) || std::memcmp(magic, kCheckpointMagic, 8) != 0) {
    error = "'" + path + "' is not a vae-train checkpoint (bad magic at byte 0)";
    return false;
  }
  if (!in.read(reinterpret_cast<char *>(fields), sizeof(fields))) {
    error = "'" + path + "' is truncated in its header (before byte 48)";
    return false;
  }
  header = {fields[0], fields[1], fields[2], fields[3], fields[4]};
  if (header.paramFloats != d.param_floats || header.stateFloats != d.opt_state_floats) {
    error = "'" + path + "' holds " + std::to_string(header.paramFloats) +
            " parameters and " + std::to_string(header.stateFloats) +
            " optimizer-state floats, but model '" + d.name + "' has " +
            std::to_string(d.param_floats) + " and " +
            std::to_string(d.opt_state_floats);
    return false;
  }
  if (!in.read(reinterpret_cast<char *>(params), std::streamsize(d.param_floats * 4)) ||
      !in.read(reinterpret_cast<char *>(state), std::streamsize(d.opt_state_floats * 4))) {
    error = "'" + path + "' is truncated at byte " + std::to_string(in.gcount() + 48);
    return false;
  }
  return true;
}

Terms vae::evaluate(const Model &model, const float *params, void *arena,
                    const Dataset &data, uint64_t seed) {
  const vae_model &d = model.desc();
  size_t batch = size_t(d.batch), batches = data.count / batch;
  std::vector<float> x(batch * data.size), eps(batch * size_t(d.latent_size));
  std::vector<uint32_t> indices(batch);
  Terms total;
  for (size_t k = 0; k <= batches; ++k) {
    size_t n = k < batches ? batch : data.count - batches * batch;
    if (n == 0)
      break;
    for (size_t b = 0; b < n; ++b)
      indices[b] = uint32_t(k * batch + b);
    std::fill(x.begin(), x.end(), 0.0f); // padding of the last batch
    gather(data, indices.data(), n, x);
    fillNoise(eps, seed ^ 0x5eed5eedull, 0xffffffffu, uint32_t(k));
    if (n == batch) {
      float terms[3];
      model.evalElbo(params, arena, x.data(), eps.data(), terms);
      total.loss += double(terms[0]) * double(n);
      total.reconstruction += double(terms[1]) * double(n);
      total.kl += double(terms[2]) * double(n);
    } else {
      std::vector<float> loss(batch), rec(batch), kl(batch);
      model.score(params, arena, x.data(), eps.data(), loss.data(), rec.data(),
                  kl.data());
      for (size_t b = 0; b < n; ++b) {
        total.loss += loss[b];
        total.reconstruction += rec[b];
        total.kl += kl[b];
      }
    }
    total.examples += n;
  }
  if (total.examples) {
    total.loss /= double(total.examples);
    total.reconstruction /= double(total.examples);
    total.kl /= double(total.examples);
  }
  return total;
}

int vae::train(const Model &model, const TrainOptions &options) {
  const vae_model &d = model.desc();
  std::string error;
  Dataset trainSet, testSet;
  const char *stems[2] = {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"};
  Dataset *sets[2] = {&trainSet, &testSet};
  for (int i = 0; i < 2; ++i) {
    std::string path = findIdx(options.dataDir, stems[i]);
    if (path.empty()) {
      std::fprintf(stderr, "vae-train: error: no %s or %s.gz in '%s'\n",
                   stems[i], stems[i], options.dataDir.c_str());
      return 1;
    }
    if (!Dataset::load(path, i == 0 ? options.limit : 0, *sets[i], error)) {
      std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
      return 1;
    }
  }
  for (const Dataset *set : {&trainSet, &testSet})
    if (set->size != size_t(d.input_size)) {
      std::fprintf(stderr,
                   "vae-train: error: '%s' has examples of %zu values, but "
                   "model '%s' takes %lld\n",
                   set->path.c_str(), set->size, d.name, (long long)d.input_size);
      return 1;
    }
  size_t batch = size_t(d.batch);
  if (trainSet.count < batch) {
    std::fprintf(stderr, "vae-train: error: '%s' has %zu examples, fewer than one batch of %zu\n",
                 trainSet.path.c_str(), trainSet.count, batch);
    return 1;
  }
  int64_t epochs = options.epochs > 0 ? options.epochs : d.epochs;
  uint64_t seed = uint64_t(options.seed >= 0 ? options.seed : d.seed);

  std::filesystem::create_directories(options.outDir);
  AlignedBuffer params = model.newParams(), state = model.newOptimizerState();
  AlignedBuffer arena = model.newArena();
  std::string checkpoint = options.outDir + "/checkpoint.bin";
  int64_t firstEpoch = 0, step = 0;
  if (options.resume) {
    CheckpointHeader header;
    if (!readCheckpoint(checkpoint, model, params.data(), state.data(), header, error)) {
      std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
      return 1;
    }
    if (options.seed >= 0 && uint64_t(header.seed) != seed) {
      std::fprintf(stderr, "vae-train: error: '%s' was trained with seed %lld, not %llu\n",
                   checkpoint.c_str(), (long long)header.seed, (unsigned long long)seed);
      return 1;
    }
    seed = uint64_t(header.seed);
    firstEpoch = header.epoch;
    step = header.step;
    std::printf("resuming from '%s' after epoch %lld (step %lld)\n",
                checkpoint.c_str(), (long long)firstEpoch, (long long)step);
  } else {
    if (std::filesystem::exists(checkpoint) && !options.overwrite) {
      std::fprintf(stderr,
                   "vae-train: error: '%s' exists; --resume continues it, "
                   "--overwrite starts over, or choose another --out\n",
                   checkpoint.c_str());
      return 1;
    }
    model.initParams(params.data(), seed);
  }
  // A resumed run appends to the metrics of the run it continues.
  std::string metricsPath = options.outDir + "/metrics.csv";
  bool appendMetrics = options.resume && std::filesystem::exists(metricsPath);
  std::ofstream metrics(metricsPath, appendMetrics ? std::ios::app : std::ios::trunc);
  if (!appendMetrics)
    metrics << "epoch,train_loss,train_reconstruction,train_kl,test_loss,"
               "test_reconstruction,test_kl,samples_per_second,seconds\n";
  std::vector<float> x(batch * trainSet.size), eps(batch * size_t(d.latent_size));
  Terms initial = evaluate(model, params.data(), arena.bytes(), testSet, seed);
  std::printf("model %s: %zu train / %zu test examples, batch %zu, %lld epochs; "
              "test -ELBO at %s %.2f nats\n",
              d.name, trainSet.count, testSet.count, batch, (long long)epochs,
              options.resume ? "the checkpoint" : "initialization", initial.loss);

  size_t batches = trainSet.count / batch; // the last partial batch is dropped
  std::vector<EpochRecord> history;
  for (int64_t epoch = firstEpoch; epoch < epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    std::vector<uint32_t> order = shuffle(trainSet.count, seed, uint32_t(epoch));
    Terms trainTerms;
    for (size_t k = 0; k < batches; ++k) {
      gather(trainSet, order.data() + k * batch, batch, x);
      fillNoise(eps, seed, uint32_t(epoch), uint32_t(k));
      float terms[3];
      model.trainStep(params.data(), state.data(), arena.bytes(), x.data(),
                      eps.data(), ++step,
                      model.klWeight(double(epoch) + double(k) / double(batches)),
                      terms);
      if (!std::isfinite(terms[0])) {
        std::fprintf(stderr,
                     "vae-train: error: the loss became %f at epoch %lld, step "
                     "%lld; stopping (the last checkpoint is kept)\n",
                     double(terms[0]), (long long)epoch + 1, (long long)step);
        return 1;
      }
      trainTerms.loss += terms[0];
      trainTerms.reconstruction += terms[1];
      trainTerms.kl += terms[2];
    }
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start).count();
    trainTerms.loss /= double(batches);
    trainTerms.reconstruction /= double(batches);
    trainTerms.kl /= double(batches);
    Terms test = evaluate(model, params.data(), arena.bytes(), testSet, seed);
    double rate = double(batches * batch) / seconds;
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
    history.push_back({trainTerms, test, rate, seconds});
    if (!writeMetricsJson(options.outDir + "/metrics.json", d, history,
                          firstEpoch, error) ||
        !writeCheckpoint(checkpoint, model, params.data(), state.data(),
                         epoch + 1, step, seed, error)) {
      std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
      return 1;
    }
  }
  if (!writePictures(model, params.data(), arena.bytes(), testSet, seed,
                     options.outDir, error)) {
    std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
    return 1;
  }
  return 0;
}

namespace {

/// The test images, and their labels when t10k-labels-idx1-ubyte[.gz] is
/// there.
bool loadTestSet(const Model &model, const std::string &dir, Dataset &images,
                 Dataset &labels, std::string &error) {
  std::string path = findIdx(dir, "t10k-images-idx3-ubyte");
  if (path.empty()) {
    error = "no t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz in '" + dir + "'";
    return false;
  }
  if (!Dataset::load(path, 0, images, error))
    return false;
  if (images.size != size_t(model.desc().input_size)) {
    error = "'" + path + "' has examples of " + std::to_string(images.size) +
            " values, but model '" + model.desc().name + "' takes " +
            std::to_string(model.desc().input_size);
    return false;
  }
  std::string labelPath = findIdx(dir, "t10k-labels-idx1-ubyte");
  if (!labelPath.empty() && !Dataset::load(labelPath, 0, labels, error))
    return false;
  if (labels.count && labels.count != images.count) {
    error = "'" + labelPath + "' has " + std::to_string(labels.count) +
            " labels for " + std::to_string(images.count) + " images";
    return false;
  }
  return true;
}

/// Calls `visit(first, n, x, eps)` for every batch of `data`, the last one
/// padded with zeros; `n` is the number of real examples.
template <typename Visit>
void forEachBatch(const Model &model, const Dataset &data, uint64_t seed,
                  Visit visit) {
  size_t batch = size_t(model.desc().batch);
  std::vector<float> x(batch * data.size), eps(batch * size_t(model.desc().latent_size));
  std::vector<uint32_t> indices(batch);
  for (size_t first = 0; first < data.count; first += batch) {
    size_t n = std::min(batch, data.count - first);
    for (size_t b = 0; b < n; ++b)
      indices[b] = uint32_t(first + b);
    std::fill(x.begin(), x.end(), 0.0f);
    gather(data, indices.data(), n, x);
    // The same noise as evaluate(), so scores average to its -ELBO.
    fillNoise(eps, seed ^ 0x5eed5eedull, 0xffffffffu, uint32_t(first / batch));
    visit(first, n, x, eps);
  }
}

} // namespace

int vae::runCommand(const Model &model, const TrainOptions &options,
                    const std::string &checkpointPath, Command command) {
  const vae_model &d = model.desc();
  std::string error;
  std::string path = checkpointPath.empty() ? options.outDir + "/checkpoint.bin"
                                            : checkpointPath;
  AlignedBuffer params = model.newParams(), state = model.newOptimizerState();
  AlignedBuffer arena = model.newArena();
  CheckpointHeader header;
  Dataset images, labels;
  if (!readCheckpoint(path, model, params.data(), state.data(), header, error) ||
      !loadTestSet(model, options.dataDir, images, labels, error)) {
    std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
    return 1;
  }
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
                           csv << '\n';
                         }
                       });
        },
        error);
    if (!ok) {
      std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
      return 1;
    }
    std::printf("wrote %s (%zu examples)\n", out.c_str(), images.count);
    return 0;
  }
  case Command::Pictures:
    if (!writePictures(model, params.data(), arena.bytes(), images, seed,
                       options.outDir, error)) {
      std::fprintf(stderr, "vae-train: error: %s\n", error.c_str());
      return 1;
    }
    return 0;
  }
  return 1;
}
