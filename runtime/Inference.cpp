//===- Inference.cpp - what vae-train does with a trained checkpoint ------===//
//
// eval, encode (with --kmeans), score (with --iw and --auroc), sample and
// reconstruct: each loads a checkpoint, the test set of the run's data
// (sample needs none) and writes its files into --out.
//
//===----------------------------------------------------------------------===//

#include "runtime/Analysis.h"
#include "runtime/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/Pictures.h"
#include "runtime/Png.h"
#include "runtime/RunData.h"
#include "runtime/RunLock.h"

#include <fmt/format.h>
#include <fmt/os.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <numeric>

using namespace vae;

namespace {

/// A checkpoint loaded for inference, with what its entry points need.
struct Trained {
  const Model &model;
  AlignedBuffer params, state, arena;
  CheckpointHeader header;
  explicit Trained(const Model &model)
      : model(model), params(model.newParams()), state(model.newOptimizerState()),
        arena(model.newArena()) {}
  const float *p() const { return params.data(); }
  void *scratch() { return arena.bytes(); }
};

/// Writes `json` to `path` atomically, indented.
bool writeJson(const std::string &path, const nlohmann::json &json, std::string &error) {
  return writeAtomically(path, [&](std::ostream &out) { out << json.dump(2) << '\n'; }, error);
}

/// Posterior means and log-variances of every example of `data` (count x
/// latent each).
void encodeAll(Trained &t, const Dataset &data, uint64_t seed, std::vector<float> &mu,
               std::vector<float> &logvar) {
  size_t latent = size_t(t.model.desc().latent_size), batch = size_t(t.model.desc().batch);
  std::vector<float> m(batch * latent), lv(m.size());
  mu.clear();
  logvar.clear();
  forEachBatch(t.model, data, seed,
               [&](size_t, size_t n, std::vector<float> &x, std::vector<float> &) {
                 t.model.encode(t.p(), t.scratch(), x.data(), m.data(), lv.data());
                 mu.insert(mu.end(), m.begin(), m.begin() + long(n * latent));
                 logvar.insert(logvar.end(), lv.begin(), lv.begin() + long(n * latent));
               });
}

int runEval(Trained &t, const Dataset &images, uint64_t seed) {
  const vae_model &d = t.model.desc();
  Terms terms = evaluate(t.model, t.p(), t.scratch(), images, seed);
  // The objective at the run's beta (--beta may have set it), else the library's.
  Hyperparams hyper = Hyperparams::of(d);
  applyHyperparamRecord(t.header.run, hyper);
  terms.objective = terms.reconstruction + hyper.beta * terms.kl;
  fmt::print("test -ELBO {:.2f} nats, {:.4f} bits/dim (reconstruction {:.2f}, KL {:.2f}) over {} "
             "examples, checkpoint of epoch {}",
             terms.negElbo(), terms.bitsPerDim(d.input_size), terms.reconstruction, terms.kl,
             terms.examples, t.header.epoch);
  if (hyper.beta != 1.0)
    fmt::print("; objective with beta {}: {:.2f}", hyper.beta, terms.objective);
  fmt::print("\n");
  return 0;
}

/// The posterior means encode writes: every example of its parts, in order.
struct Encoded {
  std::vector<float> mu, logvar;
  std::vector<int32_t> labels;    ///< empty unless every part has labels
  std::vector<std::string> split; ///< per example, its part's name
  std::vector<size_t> index;      ///< per example, its index in its part
  size_t count = 0;
};

Encoded encodeParts(Trained &t, const std::vector<std::pair<std::string, const Dataset *>> &parts,
                    uint64_t seed) {
  Encoded e;
  bool labelled = std::all_of(parts.begin(), parts.end(),
                              [](const auto &p) { return !p.second->labels.empty(); });
  for (const auto &[name, data] : parts) {
    std::vector<float> mu, logvar;
    encodeAll(t, *data, seed, mu, logvar);
    e.mu.insert(e.mu.end(), mu.begin(), mu.end());
    e.logvar.insert(e.logvar.end(), logvar.begin(), logvar.end());
    if (labelled)
      e.labels.insert(e.labels.end(), data->labels.begin(), data->labels.end());
    for (size_t i = 0; i < data->count; ++i) {
      e.split.push_back(name);
      e.index.push_back(i);
    }
    e.count += data->count;
  }
  return e;
}

/// k-means on the means, clusters.json and what it says against the labels.
bool clusterLatents(const TrainOptions &options, const Encoded &e, size_t latent, uint64_t seed,
                    Clusters &clusters, std::string &error) {
  clusters = kmeans(e.mu, e.count, latent, size_t(options.kmeans), seed);
  nlohmann::json json = {{"k", options.kmeans},
                         {"examples", e.count},
                         {"inertia", clusters.inertia},
                         {"iterations", clusters.iterations},
                         {"seed", seed}};
  fmt::print("k-means, k = {}, on the posterior means of {} examples: {} iterations, "
             "inertia {:.4g}",
             options.kmeans, e.count, clusters.iterations, clusters.inertia);
  if (!e.labels.empty()) {
    double p = purity(clusters.assignment, e.labels);
    double nmi = normalizedMutualInformation(clusters.assignment, e.labels);
    json["purity"] = p;
    json["nmi"] = nmi;
    fmt::print("; against the labels: purity {:.3f}, NMI {:.3f}", p, nmi);
  }
  fmt::print("\n");
  return writeJson(options.outDir + "/clusters.json", json, error);
}

/// latents.csv: index (in its split), label, split (with --split all), the
/// means, the cluster.
bool writeLatents(const std::string &out, const Encoded &e, size_t latent, bool splitColumn,
                  const Clusters &clusters, std::string &error) {
  return writeAtomically(
      out,
      [&](std::ostream &csv) {
        csv << (splitColumn ? "index,label,split" : "index,label");
        for (size_t j = 0; j < latent; ++j)
          csv << ",mu" << j;
        csv << (clusters.assignment.empty() ? "\n" : ",cluster\n");
        for (size_t i = 0; i < e.count; ++i) {
          csv << fmt::format("{},{}", e.index[i],
                             e.labels.empty() ? "" : std::to_string(e.labels[i]));
          if (splitColumn)
            csv << ',' << e.split[i];
          for (size_t j = 0; j < latent; ++j)
            csv << fmt::format(",{}", e.mu[i * latent + j]);
          if (!clusters.assignment.empty())
            csv << ',' << clusters.assignment[i];
          csv << '\n';
        }
      },
      error);
}

/// encode: latents.csv (label and posterior mean of each example of
/// --split's sets); with --kmeans K also its cluster, purity and NMI against
/// the labels, clusters.json (else an old clusters.json is removed: it
/// would describe other latents); latent_scatter.png.
int runEncode(Trained &t, const TrainOptions &options,
              const std::vector<std::pair<std::string, const Dataset *>> &parts, uint64_t seed) {
  const vae_model &d = t.model.desc();
  size_t latent = size_t(d.latent_size);
  Encoded e = encodeParts(t, parts, seed);
  if (options.kmeans > 0 && size_t(options.kmeans) > e.count)
    return fail(fmt::format("--kmeans {}: --split {} has {} examples, and k-means needs at "
                            "least one per cluster",
                            options.kmeans, options.encodeSplit, e.count));
  Clusters clusters;
  std::string error, stale = options.outDir + "/clusters.json";
  if (options.kmeans > 0 ? !clusterLatents(options, e, latent, seed, clusters, error)
                         : (std::filesystem::remove(stale), false))
    return fail(error);
  std::string out = options.outDir + "/latents.csv";
  if (!writeLatents(out, e, latent, parts.size() > 1, clusters, error))
    return fail(error);
  fmt::print("wrote {} ({} examples of the {})\n", out, e.count,
             parts.size() > 1                 ? "training and test sets, a split column says which"
             : options.encodeSplit == "train" ? "training set"
                                              : "test set");
  // The scatter: the two dimensions the model uses most, coloured by label
  // (else by cluster).
  bool labelled = !e.labels.empty();
  std::vector<int32_t> groups =
      labelled ? e.labels
               : std::vector<int32_t>(clusters.assignment.begin(), clusters.assignment.end());
  if (latent < 2)
    return 0;
  auto dims = largestKlDimensions(d, e.mu, e.logvar, e.count);
  const char *by = labelled ? "label" : groups.empty() ? "nothing" : "cluster";
  std::string picture = options.outDir + "/latent_scatter.png";
  if (!writeLatentScatter(picture, e.mu, e.count, latent, dims, groups,
                          labelled         ? "LABEL"
                          : groups.empty() ? ""
                                           : "CLUSTER",
                          error))
    return fail(error);
  fmt::print("wrote {} (latent dimensions {} and {}, the largest KL; coloured by {})\n", picture,
             dims.first, dims.second, by);
  return 0;
}

/// Which test examples are anomalies for --auroc: those of labels outside
/// the run's --classes (or this command's), named in `normalClasses`.
bool anomalyLabels(const Trained &t, const TrainOptions &options, const Dataset &images,
                   std::vector<bool> &anomaly, std::string &normalClasses, std::string &error) {
  normalClasses = options.classes;
  if (normalClasses.empty())
    if (auto it = t.header.run.find("classes"); it != t.header.run.end() && it->second != "all")
      normalClasses = it->second;
  std::vector<int32_t> classes;
  if (normalClasses.empty()) {
    error = "--auroc needs the normal classes: train with --classes (e.g. 0-8), or give "
            "--classes here; the test examples of the other labels are the anomalies";
    return false;
  }
  if (!parseClasses(normalClasses, classes, error))
    return false;
  if (images.labels.empty()) {
    error = fmt::format("--auroc needs labels, and the test set '{}' has none", images.path);
    return false;
  }
  for (int32_t label : images.labels)
    anomaly.push_back(!std::binary_search(classes.begin(), classes.end(), label));
  size_t anomalies = size_t(std::count(anomaly.begin(), anomaly.end(), true));
  if (anomalies == 0 || anomalies == anomaly.size()) {
    error = fmt::format("--auroc: the {} test examples are all {} of --classes {}", anomaly.size(),
                        anomalies ? "outside" : "in", normalClasses);
    return false;
  }
  return true;
}

/// The scores of every example, in nats but the complexity's (bits).
struct Scores {
  std::vector<double> negElbo, reconstruction, kl;
  std::vector<double> negIw;      ///< with --iw
  std::vector<double> complexity; ///< with --complexity: PNG bits
  /// -log2 p(x) - L(x) (Serra et al.), p(x) by the IW bound where there is one.
  std::vector<double> inputComplexityScore() const {
    const std::vector<double> &nats = negIw.empty() ? negElbo : negIw;
    std::vector<double> out(nats.size());
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = nats[i] / std::log(2.0) - complexity[i];
    return out;
  }
};

/// Bits an 8-bit grey PNG of each example takes (libpng, level 9): as an
/// image where the model takes one (one channel, or a square row), else a
/// row; the values as the model sees them, in 256 levels.
std::vector<double> inputComplexity(const vae_model &d, const Dataset &images) {
  uint32_t width = uint32_t(d.input_size), height = 1;
  if (d.input_rank >= 2 &&
      d.input_shape[d.input_rank - 2] * d.input_shape[d.input_rank - 1] == d.input_size) {
    height = uint32_t(d.input_shape[d.input_rank - 2]);
    width = uint32_t(d.input_shape[d.input_rank - 1]);
  } else if (uint32_t side = squareSide(d)) {
    width = height = side;
  }
  float top = d.likelihood_bins > 0 ? float(d.likelihood_bins - 1) : 1.0f;
  std::vector<double> bits(images.count);
  std::vector<uint8_t> pixels(images.size);
  for (size_t i = 0; i < images.count; ++i) {
    for (size_t j = 0; j < images.size; ++j)
      pixels[j] = uint8_t(std::lround(std::clamp(images.value(i, j) / top, 0.0f, 1.0f) * 255));
    bits[i] = 8.0 * double(pngBytes(width, height, pixels.data()));
  }
  return bits;
}

bool writeScores(const std::string &out, const Dataset &images, const Scores &s, const vae_model &d,
                 std::string &error) {
  std::vector<double> complexityScore =
      s.complexity.empty() ? std::vector<double>{} : s.inputComplexityScore();
  return writeAtomically(
      out,
      [&](std::ostream &csv) {
        csv << "index,label,neg_elbo,reconstruction,kl,neg_elbo_bits_per_dim"
            << (s.negIw.empty() ? "" : ",neg_iw_log_likelihood")
            << (s.complexity.empty() ? "\n" : ",png_bits,input_complexity_score\n");
        for (size_t i = 0; i < images.count; ++i) {
          csv << fmt::format("{},{},{},{},{},{}", i,
                             images.labels.empty() ? "" : std::to_string(images.labels[i]),
                             float(s.negElbo[i]), float(s.reconstruction[i]), float(s.kl[i]),
                             float(bitsPerDim(s.negElbo[i], d.input_size)));
          if (!s.negIw.empty())
            csv << fmt::format(",{}", s.negIw[i]);
          if (!s.complexity.empty())
            csv << fmt::format(",{},{}", s.complexity[i], float(complexityScore[i]));
          csv << '\n';
        }
      },
      error);
}

/// auroc.json and score_histogram.png: each score as a detector of the
/// anomalies.
bool reportAuroc(const TrainOptions &options, const Scores &s, const std::vector<bool> &anomaly,
                 const std::string &normalClasses, std::string &error) {
  size_t anomalies = size_t(std::count(anomaly.begin(), anomaly.end(), true));
  double byElbo = auroc(s.negElbo, anomaly);
  nlohmann::json json = {{"normal_classes", normalClasses},
                         {"normal_examples", anomaly.size() - anomalies},
                         {"anomalies", anomalies},
                         {"auroc_neg_elbo", byElbo}};
  fmt::print("AUROC of the -ELBO as an anomaly score: {:.4f} ({} normal examples of classes "
             "{}, {} anomalies)",
             byElbo, anomaly.size() - anomalies, normalClasses, anomalies);
  if (!s.negIw.empty()) {
    double byIw = auroc(s.negIw, anomaly);
    json["auroc_neg_iw_log_likelihood"] = byIw;
    json["iw_samples"] = options.importanceSamples;
    fmt::print("; of the importance-weighted -log p(x), K = {}: {:.4f}", options.importanceSamples,
               byIw);
  }
  if (!s.complexity.empty()) {
    double byComplexity = auroc(s.inputComplexityScore(), anomaly);
    json["auroc_input_complexity"] = byComplexity;
    fmt::print("; of the input-complexity score -log2 p(x) - PNG bits{}: {:.4f}",
               s.negIw.empty() ? " (p by the ELBO)" : " (p by the IW bound)", byComplexity);
  }
  fmt::print("\n");
  std::string picture = options.outDir + "/score_histogram.png";
  if (!writeJson(options.outDir + "/auroc.json", json, error) ||
      !writeScoreHistogram(picture, s.negElbo, anomaly, normalClasses,
                           fmt::format("AUROC {:.3f}", byElbo), error))
    return false;
  fmt::print("wrote {}/auroc.json and {}\n", options.outDir, picture);
  return true;
}

/// score: scores.csv (the -ELBO of each example and its terms; with --iw K
/// the importance-weighted -log p(x); with --complexity the PNG bits and
/// the input-complexity score); with --auroc, the AUROC of each score as a
/// detector of the classes the run did not train on, auroc.json and
/// score_histogram.png.
int runScore(Trained &t, const TrainOptions &options, const Dataset &images, uint64_t seed) {
  const vae_model &d = t.model.desc();
  std::string error, normalClasses;
  std::vector<bool> anomaly;
  if (options.auroc && !anomalyLabels(t, options, images, anomaly, normalClasses, error))
    return fail(error);
  Scores s;
  if (options.importanceSamples > 0) {
    std::vector<double> iw = importanceWeightedLogLikelihood(t.model, t.p(), t.scratch(), images,
                                                             seed, options.importanceSamples);
    for (double v : iw)
      s.negIw.push_back(-v);
    double mean = std::accumulate(s.negIw.begin(), s.negIw.end(), 0.0) / double(iw.size());
    fmt::print("importance-weighted -log p(x), K = {}: {:.2f} nats per example, {:.4f} "
               "bits/dim, over {} examples\n",
               options.importanceSamples, mean, bitsPerDim(mean, d.input_size), iw.size());
  }
  size_t batch = size_t(d.batch);
  std::vector<float> loss(batch), rec(batch), kl(batch);
  s.negElbo.resize(images.count), s.reconstruction.resize(images.count), s.kl.resize(images.count);
  forEachBatch(t.model, images, seed,
               [&](size_t first, size_t n, std::vector<float> &x, std::vector<float> &eps) {
                 t.model.score(t.p(), t.scratch(), x.data(), eps.data(), loss.data(), rec.data(),
                               kl.data());
                 for (size_t b = 0; b < n; ++b) { // the −ELBO whatever beta is
                   s.negElbo[first + b] = double(rec[b]) + double(kl[b]);
                   s.reconstruction[first + b] = rec[b];
                   s.kl[first + b] = kl[b];
                 }
               });
  if (options.complexity)
    s.complexity = inputComplexity(d, images);
  std::string out = options.outDir + "/scores.csv";
  if (!writeScores(out, images, s, d, error))
    return fail(error);
  double meanNegElbo = std::accumulate(s.negElbo.begin(), s.negElbo.end(), 0.0) /
                       double(std::max<size_t>(images.count, 1));
  fmt::print("wrote {} ({} examples; mean -ELBO {:.2f} nats, {:.4f} bits/dim)\n", out, images.count,
             meanNegElbo, bitsPerDim(meanNegElbo, d.input_size));
  if (options.auroc && !reportAuroc(options, s, anomaly, normalClasses, error))
    return fail(error);
  return 0;
}

} // namespace

int vae::runCommand(const Model &model, const TrainOptions &given,
                    const std::string &checkpointPath, Command command) {
  TrainOptions options = given;
  std::string error;
  std::string path = checkpointPath.empty() ? options.outDir + "/checkpoint.bin" : checkpointPath;
  Trained t(model);
  if (!readCheckpoint(path, model, t.params.data(), t.state.data(), t.header, error) ||
      !sameModel(t.header.run, model, path, error))
    return fail(error);
  uint64_t seed = uint64_t(options.seed >= 0 ? options.seed : t.header.seed);
  // The folder is this command's alone while it writes there (eval only
  // prints: it may run beside a training).
  std::unique_ptr<RunLock> lock;
  auto lockFolder = [&] {
    static const char *const names[] = {"eval",       "encode",      "score",
                                        "sample",     "reconstruct", "compress",
                                        "decompress", "decode",      "interpolate"};
    lock = command == Command::Eval ? nullptr
                                    : RunLock::acquire(options.outDir, names[int(command)], error);
    return command == Command::Eval || lock;
  };
  if (command == Command::Compress) // (they write -o, not into the folder)
    return runCompress(model, t.p(), t.scratch(), t.header, options);
  if (command == Command::Decompress)
    return runDecompress(model, t.p(), t.scratch(), options);
  if (command == Command::Decode)
    return runDecode(model, t.p(), t.scratch(), options);
  if (command == Command::Sample) { // (no data needed)
    if (!lockFolder())
      return fail(error);
    return writeSamples(model, t.p(), t.scratch(), seed, size_t(options.samples), options.outDir,
                        error)
               ? 0
               : fail(error);
  }
  // The test set of the run's data, binarized as it was, unless --data or
  // --binarize say otherwise.
  adoptRunSettings(t.header.run, options, /*forTraining=*/false);
  Dataset trainSet, images;
  bool wantTrain = command == Command::Encode && options.encodeSplit != "test";
  if (!loadImages(model, options, uint64_t(t.header.seed), wantTrain, trainSet, images, error))
    return fail(error);
  if (!lockFolder())
    return fail(error);
  switch (command) {
  case Command::Eval:
    return runEval(t, images, seed);
  case Command::Encode: {
    std::vector<std::pair<std::string, const Dataset *>> parts;
    if (options.encodeSplit != "test")
      parts.emplace_back("train", &trainSet);
    if (options.encodeSplit != "train")
      parts.emplace_back("test", &images);
    return runEncode(t, options, parts, seed);
  }
  case Command::Score:
    return runScore(t, options, images, seed);
  case Command::Reconstruct: {
    if (!squareSide(model.desc()))
      return fail(fmt::format("reconstruct draws square images, and model '{}' takes inputs "
                              "of {} values",
                              model.desc().name, model.desc().input_size));
    std::string picture = options.outDir + "/reconstructions.png";
    if (!writeReconstructions(model, t.p(), t.scratch(), images, size_t(options.reconstructions),
                              picture, error))
      return fail(error);
    fmt::print("wrote {} (the first {} test images above their reconstructions)\n", picture,
               std::min(size_t(options.reconstructions), images.count));
    return 0;
  }
  case Command::Interpolate:
    return runInterpolate(model, t.p(), t.scratch(), images, options);
  case Command::Sample:
  case Command::Compress:
  case Command::Decompress:
  case Command::Decode:
    break;
  }
  return 1;
}
