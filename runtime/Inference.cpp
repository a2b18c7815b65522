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

/// encode: latents.csv (label and posterior mean of each example); with
/// --kmeans K also its cluster, purity and NMI against the labels,
/// clusters.json and latent_scatter.png.
int runEncode(Trained &t, const TrainOptions &options, const Dataset &images, uint64_t seed) {
  const vae_model &d = t.model.desc();
  if (options.kmeans > 0 && size_t(options.kmeans) > images.count)
    return fail(fmt::format("--kmeans {}: '{}' has {} examples, and k-means needs at least one "
                            "per cluster",
                            options.kmeans, images.path, images.count));
  size_t latent = size_t(d.latent_size);
  std::vector<float> mu, logvar;
  encodeAll(t, images, seed, mu, logvar);
  bool labelled = !images.labels.empty();
  Clusters clusters;
  std::string error;
  if (options.kmeans > 0) {
    clusters = kmeans(mu, images.count, latent, size_t(options.kmeans), seed);
    nlohmann::json json = {{"k", options.kmeans},
                           {"examples", images.count},
                           {"inertia", clusters.inertia},
                           {"iterations", clusters.iterations},
                           {"seed", seed}};
    fmt::print("k-means, k = {}, on the posterior means of {} examples: {} iterations, "
               "inertia {:.4g}",
               options.kmeans, images.count, clusters.iterations, clusters.inertia);
    if (labelled) {
      double p = purity(clusters.assignment, images.labels);
      double nmi = normalizedMutualInformation(clusters.assignment, images.labels);
      json["purity"] = p;
      json["nmi"] = nmi;
      fmt::print("; against the labels: purity {:.3f}, NMI {:.3f}", p, nmi);
    }
    fmt::print("\n");
    if (!writeJson(options.outDir + "/clusters.json", json, error))
      return fail(error);
  }
  std::string out = options.outDir + "/latents.csv";
  bool ok = writeAtomically(
      out,
      [&](std::ostream &csv) {
        csv << "index,label";
        for (size_t j = 0; j < latent; ++j)
          csv << ",mu" << j;
        csv << (clusters.assignment.empty() ? "\n" : ",cluster\n");
        for (size_t i = 0; i < images.count; ++i) {
          csv << fmt::format("{},{}", i, labelled ? std::to_string(images.labels[i]) : "");
          for (size_t j = 0; j < latent; ++j)
            csv << fmt::format(",{}", mu[i * latent + j]);
          if (!clusters.assignment.empty())
            csv << ',' << clusters.assignment[i];
          csv << '\n';
        }
      },
      error);
  if (!ok)
    return fail(error);
  fmt::print("wrote {} ({} examples)\n", out, images.count);
  // The scatter: the two dimensions the model uses most, coloured by label
  // (else by cluster).
  std::vector<int32_t> groups =
      labelled ? images.labels
               : std::vector<int32_t>(clusters.assignment.begin(), clusters.assignment.end());
  auto dims = largestKlDimensions(d, mu, logvar, images.count);
  if (latent >= 2) {
    std::string picture = options.outDir + "/latent_scatter.png";
    if (!writeLatentScatter(picture, mu, images.count, latent, dims, groups,
                            labelled         ? "LABEL"
                            : groups.empty() ? ""
                                             : "CLUSTER",
                            error))
      return fail(error);
    fmt::print("wrote {} (latent dimensions {} and {}, the largest KL; coloured by {})\n", picture,
               dims.first, dims.second,
               labelled         ? "label"
               : groups.empty() ? "nothing"
                                : "cluster");
  }
  return 0;
}

/// score: scores.csv (the -ELBO of each example and its terms; with --iw K
/// the importance-weighted -log p(x)); with --auroc, the AUROC of each
/// score as a detector of the classes the run did not train on, auroc.json
/// and score_histogram.png.
int runScore(Trained &t, const TrainOptions &options, const Dataset &images, uint64_t seed) {
  const vae_model &d = t.model.desc();
  std::string error;
  // Which examples are anomalies: those of labels outside the run's
  // --classes (or this command's).
  std::vector<bool> anomaly;
  std::string normalClasses = options.classes;
  if (options.auroc) {
    if (normalClasses.empty())
      if (auto it = t.header.run.find("classes"); it != t.header.run.end() && it->second != "all")
        normalClasses = it->second;
    std::vector<int32_t> classes;
    if (normalClasses.empty())
      return fail("--auroc needs the normal classes: train with --classes (e.g. 0-8), or give "
                  "--classes here; the test examples of the other labels are the anomalies");
    if (!parseClasses(normalClasses, classes, error))
      return fail(error);
    if (images.labels.empty())
      return fail(fmt::format("--auroc needs labels, and the test set '{}' has none", images.path));
    for (int32_t label : images.labels)
      anomaly.push_back(!std::binary_search(classes.begin(), classes.end(), label));
    size_t anomalies = size_t(std::count(anomaly.begin(), anomaly.end(), true));
    if (anomalies == 0 || anomalies == anomaly.size())
      return fail(fmt::format("--auroc: the {} test examples are all {} of --classes {}",
                              anomaly.size(), anomalies ? "outside" : "in", normalClasses));
  }
  std::vector<double> iw;
  if (options.importanceSamples > 0) {
    iw = importanceWeightedLogLikelihood(t.model, t.p(), t.scratch(), images, seed,
                                         options.importanceSamples);
    double mean = std::accumulate(iw.begin(), iw.end(), 0.0) / double(iw.size());
    fmt::print("importance-weighted -log p(x), K = {}: {:.2f} nats per example, {:.4f} "
               "bits/dim, over {} examples\n",
               options.importanceSamples, -mean, bitsPerDim(-mean, d.input_size), iw.size());
  }
  size_t batch = size_t(d.batch);
  std::vector<float> loss(batch), rec(batch), kl(batch);
  std::vector<double> negElbo(images.count), reconstruction(images.count), klTerm(images.count);
  forEachBatch(t.model, images, seed,
               [&](size_t first, size_t n, std::vector<float> &x, std::vector<float> &eps) {
                 t.model.score(t.p(), t.scratch(), x.data(), eps.data(), loss.data(), rec.data(),
                               kl.data());
                 for (size_t b = 0; b < n; ++b) { // the −ELBO whatever beta is
                   negElbo[first + b] = double(rec[b]) + double(kl[b]);
                   reconstruction[first + b] = rec[b];
                   klTerm[first + b] = kl[b];
                 }
               });
  std::string out = options.outDir + "/scores.csv";
  bool ok = writeAtomically(
      out,
      [&](std::ostream &csv) {
        csv << "index,label,neg_elbo,reconstruction,kl,neg_elbo_bits_per_dim"
            << (iw.empty() ? "\n" : ",neg_iw_log_likelihood\n");
        for (size_t i = 0; i < images.count; ++i) {
          csv << fmt::format("{},{},{},{},{},{}", i,
                             images.labels.empty() ? "" : std::to_string(images.labels[i]),
                             float(negElbo[i]), float(reconstruction[i]), float(klTerm[i]),
                             float(bitsPerDim(negElbo[i], d.input_size)));
          if (!iw.empty())
            csv << fmt::format(",{}", -iw[i]);
          csv << '\n';
        }
      },
      error);
  if (!ok)
    return fail(error);
  double meanNegElbo = std::accumulate(negElbo.begin(), negElbo.end(), 0.0) /
                       double(std::max<size_t>(images.count, 1));
  fmt::print("wrote {} ({} examples; mean -ELBO {:.2f} nats, {:.4f} bits/dim)\n", out, images.count,
             meanNegElbo, bitsPerDim(meanNegElbo, d.input_size));
  if (!options.auroc)
    return 0;
  size_t anomalies = size_t(std::count(anomaly.begin(), anomaly.end(), true));
  double byElbo = auroc(negElbo, anomaly);
  nlohmann::json json = {{"normal_classes", normalClasses},
                         {"normal_examples", anomaly.size() - anomalies},
                         {"anomalies", anomalies},
                         {"auroc_neg_elbo", byElbo}};
  fmt::print("AUROC of the -ELBO as an anomaly score: {:.4f} ({} normal examples of classes "
             "{}, {} anomalies)",
             byElbo, anomaly.size() - anomalies, normalClasses, anomalies);
  if (!iw.empty()) {
    std::vector<double> negIw(iw.size());
    std::transform(iw.begin(), iw.end(), negIw.begin(), [](double v) { return -v; });
    double byIw = auroc(negIw, anomaly);
    json["auroc_neg_iw_log_likelihood"] = byIw;
    json["iw_samples"] = options.importanceSamples;
    fmt::print("; of the importance-weighted -log p(x), K = {}: {:.4f}", options.importanceSamples,
               byIw);
  }
  fmt::print("\n");
  std::string picture = options.outDir + "/score_histogram.png";
  if (!writeJson(options.outDir + "/auroc.json", json, error) ||
      !writeScoreHistogram(picture, negElbo, anomaly, normalClasses,
                           fmt::format("AUROC {:.3f}", byElbo), error))
    return fail(error);
  fmt::print("wrote {}/auroc.json and {}\n", options.outDir, picture);
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
    static const char *const names[] = {"eval", "encode", "score", "sample", "reconstruct"};
    lock = command == Command::Eval ? nullptr
                                    : RunLock::acquire(options.outDir, names[int(command)], error);
    return command == Command::Eval || lock;
  };
  if (command == Command::Compress) // (they write -o, not into the folder)
    return runCompress(model, t.p(), t.scratch(), t.header, options);
  if (command == Command::Decompress)
    return runDecompress(model, t.p(), t.scratch(), options);
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
  Dataset unused, images;
  if (!loadImages(model, options, uint64_t(t.header.seed), false, unused, images, error))
    return fail(error);
  if (!lockFolder())
    return fail(error);
  switch (command) {
  case Command::Eval:
    return runEval(t, images, seed);
  case Command::Encode:
    return runEncode(t, options, images, seed);
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
  case Command::Sample:
  case Command::Compress:
  case Command::Decompress:
    break;
  }
  return 1;
}
