//===- RunData.cpp - what a run trains on, and its record -----------------===//

#include "runtime/RunData.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <sstream>

using namespace vae;

namespace {

/// Philox streams of the two static binarizations (one per file).
constexpr uint32_t kTrainSetStream = 0, kTestSetStream = 1;

/// The test split's permutation is keyed by this, mixed into the seed.
constexpr uint64_t kTestSplitKey = 0x74657374ull;

/// "t10k-labels-idx1-ubyte.gz" beside "t10k-images-idx3-ubyte.gz": the
/// labels of an IDX image file, if they are there.
std::string idxLabelsOf(const std::string &images) {
  std::filesystem::path path(images);
  std::string name = path.filename();
  size_t at = name.find("images-idx3");
  if (at == std::string::npos)
    return "";
  name.replace(at, 11, "labels-idx1");
  path.replace_filename(name);
  return std::filesystem::exists(path) ? path.string() : "";
}

/// Whether `set`'s examples fit the model: as many values, and where the
/// model takes images, the same shape (sizes of 1 aside) or a flat row.
bool fitsModel(const Dataset &set, const vae_model &d, std::string &error) {
  std::vector<size_t> model(d.input_shape, d.input_shape + d.input_rank), file;
  auto squeeze = [](std::vector<size_t> shape) {
    shape.erase(std::remove(shape.begin(), shape.end(), 1), shape.end());
    return shape;
  };
  if (set.size == size_t(d.input_size) && (d.input_rank == 1 || set.exampleShape.size() == 1 ||
                                           squeeze(set.exampleShape) == squeeze(model)))
    return true;
  error = fmt::format("'{}' has examples of shape [{}] ({} values), but model '{}' takes [{}] "
                      "({} values)",
                      set.path, fmt::join(set.exampleShape, ", "), set.size, d.name,
                      fmt::join(model, ", "), d.input_size);
  if (set.size == size_t(d.input_size) + 1 && set.labels.empty() &&
      std::filesystem::path(set.path).extension() == ".csv")
    error += "; is one column a label? --label-column NAME says which";
  return false;
}

/// Data a Bernoulli likelihood, or --binarize, can take: values in [0, 1]
/// (PyTorch's binary_cross_entropy refuses others; vaec's would train on
/// to a meaningless negative -ELBO).
/// Data a discrete likelihood takes: its integers 0 ... bins - 1, as they
/// are (bytes unscaled).
bool withinDiscreteSupport(const Dataset &set, const vae_model &d, Binarize binarize,
                           std::string &error) {
  if (binarize != Binarize::None) {
    error = fmt::format("model '{}' has a discrete likelihood of {} levels; --binarize would "
                        "replace its data by 0 and 1: leave it out",
                        d.name, d.likelihood_bins);
    return false;
  }
  float top = float(d.likelihood_bins - 1);
  if (set.element == Element::U8 && d.likelihood_bins >= 256)
    return true;
  for (size_t i = 0; i < set.count; ++i)
    for (size_t j = 0; j < set.size; ++j)
      if (float v = set.value(i, j); !(v >= 0 && v <= top && v == std::floor(v))) {
        error = fmt::format("'{}': {} (example {}) is {}; model '{}' has a discretized logistic "
                            "likelihood over the integers 0 ... {}{}",
                            set.path, set.indexName(i, j), i, v, d.name, top,
                            set.element == Element::U8 ? " (bytes are read as they are)" : "");
        return false;
      }
  return true;
}

bool withinSupport(const Dataset &set, const vae_model &d, Binarize binarize, std::string &error) {
  if (d.likelihood_bins > 0)
    return withinDiscreteSupport(set, d, binarize, error);
  bool bernoulli = d.likelihood == VAE_LIKELIHOOD_BERNOULLI;
  if (!bernoulli && binarize == Binarize::None)
    return true;
  auto outside = set.firstOutside(0.0f, 1.0f);
  if (!outside)
    return true;
  auto [i, j] = *outside;
  std::string needs =
      bernoulli ? fmt::format("model '{}' has a Bernoulli likelihood, which models values in "
                              "[0, 1]: rescale the data to [0, 1] (uint8 data is divided by 255), "
                              "binarize it (--binarize static or dynamic), or give the decoder a "
                              "Gaussian likelihood",
                              d.name)
                : fmt::format("--binarize {} draws each value as a probability, which must be in "
                              "[0, 1]: rescale the data, or leave out --binarize",
                              binarize == Binarize::Static ? "static" : "dynamic");
  error = fmt::format("'{}': {} (example {}) is {}, outside [0, 1]; {}", set.path,
                      set.indexName(i, j), i, set.value(i, j), needs);
  return false;
}

const char *binarizeName(Binarize binarize) {
  return binarize == Binarize::Static    ? "static"
         : binarize == Binarize::Dynamic ? "dynamic"
                                         : "none";
}

/// The flag that sets each data setting of the run record.
const std::pair<const char *, const char *> kDataFlags[] = {{"data", "--data"},
                                                            {"limit", "--limit"},
                                                            {"binarize", "--binarize"},
                                                            {"last_batch", "--last-batch"},
                                                            {"val_fraction", "--val-fraction"},
                                                            {"test", "--test"},
                                                            {"test_fraction", "--test-fraction"},
                                                            {"label_column", "--label-column"},
                                                            {"labels", "--labels"},
                                                            {"test_labels", "--test-labels"},
                                                            {"classes", "--classes"}};

/// Whether `key` of a run record is a hyperparameter that a resumed run may
/// change (the validation split may not: it changes the training data).
bool isChangeableHyperparam(const std::string &key) {
  if (key == "schedule")
    return true;
  for (const HyperparamFlag &flag : hyperparamFlags())
    if (key == flag.key)
      return key != "val_fraction";
  return false;
}

/// The parts of two fingerprints ("encoder=H decoder=H prior=H") that
/// differ: "the decoder differs", "the encoder and the prior differ".
std::string differingParts(const std::string &a, const std::string &b) {
  std::istringstream left(a), right(b);
  std::vector<std::string> parts;
  for (std::string x, y; left >> x && right >> y;)
    if (x != y)
      parts.push_back("the " + x.substr(0, x.find('=')));
  if (parts.empty())
    return "its fingerprint differs";
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i)
    out += (i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return out + (parts.size() == 1 ? " differs" : " differ");
}

} // namespace

/// The training and test sets of a run, checked against the model:
/// --data is a folder of MNIST-format IDX files (train-* and t10k-*, with
/// their labels) or one file (.npy, .csv, IDX); --test another file, or
/// --test-fraction a seeded share of --data held out. Training keeps
/// --classes only, then the first --limit examples. Binarized as asked; a
/// dynamically binarized run evaluates on the statically binarized test
/// set, so that its test -ELBO is comparable across epochs. (`wantTrain`
/// false: the training set only where the test set is split from it.)
bool vae::loadImages(const Model &model, const TrainOptions &options, uint64_t seed, bool wantTrain,
                     Dataset &trainSet, Dataset &testSet, std::string &error) {
  const vae_model &d = model.desc();
  std::string trainPath = options.dataPath, testPath = options.testPath;
  bool split = options.testFraction > 0;
  if (std::filesystem::is_directory(options.dataPath)) {
    auto find = [&](const char *stem, std::string &path) {
      path = findIdx(options.dataPath, stem);
      if (path.empty())
        error = fmt::format("no {0} or {0}.gz in '{1}'", stem, options.dataPath);
      return !path.empty();
    };
    if (!find("train-images-idx3-ubyte", trainPath) ||
        (testPath.empty() && !split && !find("t10k-images-idx3-ubyte", testPath)))
      return false;
  } else if (!std::filesystem::exists(options.dataPath)) {
    error = fmt::format("--data '{}' does not exist (it takes a folder of MNIST-format IDX "
                        "files, or a .npy, .csv or IDX file)",
                        options.dataPath);
    return false;
  } else if (testPath.empty() && !split) {
    error = fmt::format("--data '{}' is one file: give a test set with --test FILE, or hold "
                        "part of it out with --test-fraction F",
                        options.dataPath);
    return false;
  }
  if (!testPath.empty() && split) {
    error = "--test and --test-fraction exclude each other";
    return false;
  }
  if (!options.testLabelsPath.empty() && testPath.empty()) {
    error = fmt::format("--test-labels '{}' labels a --test file; {}", options.testLabelsPath,
                        split ? "with --test-fraction the test set keeps its --labels"
                              : "the data folder's test set has its own labels");
    return false;
  }
  std::vector<int32_t> classes;
  if (!options.classes.empty() && !parseClasses(options.classes, classes, error))
    return false;
  auto load = [&](const std::string &path, size_t limit, const std::string &npyLabels,
                  Dataset &set) {
    std::string labels = idxLabelsOf(path);
    if (!Dataset::load(path, limit, options.labelColumn, set, error) ||
        (!labels.empty() && !set.loadIdxLabels(labels, error)))
      return false;
    set.byteDivisor = d.likelihood_bins > 0 ? 1.0f : 255.0f;
    if (!npyLabels.empty() && !set.labels.empty()) {
      error = fmt::format("'{}' has labels of its own; --labels '{}' would be a second set", path,
                          npyLabels);
      return false;
    }
    return (npyLabels.empty() || set.loadNpyLabels(npyLabels, error)) && fitsModel(set, d, error) &&
           withinSupport(set, d, options.binarize, error);
  };
  bool binarizeTest = options.binarize != Binarize::None;
  if (wantTrain || split) {
    // A prefix (--limit alone) is read as such: a mapped .npy stays mapped.
    bool whole = split || !classes.empty();
    if (!load(trainPath, whole ? 0 : options.limit, options.labelsPath, trainSet))
      return false;
    if (options.binarize == Binarize::Static)
      trainSet.binarizeStatically(kTrainSetStream);
    if (split) {
      size_t held = size_t(std::llround(options.testFraction * double(trainSet.count)));
      if (held == 0 || held >= trainSet.count) {
        error = fmt::format("--test-fraction {} of the {} examples of '{}' leaves {} for the "
                            "test set",
                            options.testFraction, trainSet.count, trainPath,
                            held == 0 ? "none" : "none to train on and all");
        return false;
      }
      std::vector<uint32_t> order = shuffle(trainSet.count, seed ^ kTestSplitKey, 0xfffffffdu);
      std::vector<bool> isTest(trainSet.count, false);
      for (size_t i = 0; i < held; ++i)
        isTest[order[i]] = true;
      testSet =
          trainSet.subset(rowsWhere(trainSet.count, 0, [&](uint32_t i) { return isTest[i]; }));
      testSet.path = trainPath + " (test split)";
      trainSet =
          trainSet.subset(rowsWhere(trainSet.count, 0, [&](uint32_t i) { return !isTest[i]; }));
      binarizeTest = options.binarize == Binarize::Dynamic;
    }
    if (!classes.empty()) {
      if (trainSet.labels.empty()) {
        error = fmt::format("--classes needs labels, and '{}' has none (an IDX file's come "
                            "from its *-labels-idx1-ubyte file, a CSV file's from "
                            "--label-column, a .npy file's from --labels FILE.npy)",
                            trainPath);
        return false;
      }
      trainSet = trainSet.subset(rowsWhere(trainSet.count, options.limit, [&](uint32_t i) {
        return std::binary_search(classes.begin(), classes.end(), trainSet.labels[i]);
      }));
      if (trainSet.count == 0) {
        error = fmt::format("'{}' has no example of --classes {}", trainPath, options.classes);
        return false;
      }
    } else if (split && options.limit && options.limit < trainSet.count) {
      trainSet =
          trainSet.subset(rowsWhere(trainSet.count, options.limit, [](uint32_t) { return true; }));
    }
    trainSet.path = trainPath;
  }
  if (!split) {
    if (!load(testPath, 0, options.testLabelsPath, testSet))
      return false;
  }
  if (binarizeTest)
    testSet.binarizeStatically(kTestSetStream);
  return true;
}

/// The settings of `options` the user did not give, from the run record of
/// a checkpoint: a resumed run, or eval/score of one, sees the data the
/// run trained on, as it trained on it. (`limit` and `last_batch` only
/// when `forTraining`.)
void vae::adoptRunSettings(const std::map<std::string, std::string> &run, TrainOptions &options,
                           bool forTraining) {
  auto take = [&](const char *key, bool given, auto apply) {
    auto it = run.find(key);
    if (!given && it != run.end())
      apply(it->second);
  };
  take("data", options.dataGiven, [&](const std::string &v) { options.dataPath = v; });
  take("test", options.testGiven, [&](const std::string &v) { options.testPath = v; });
  take("test_fraction", options.testFractionGiven,
       [&](const std::string &v) { options.testFraction = std::strtod(v.c_str(), nullptr); });
  take("label_column", options.labelColumnGiven,
       [&](const std::string &v) { options.labelColumn = v; });
  take("labels", options.labelsGiven, [&](const std::string &v) { options.labelsPath = v; });
  take("test_labels", options.testLabelsGiven,
       [&](const std::string &v) { options.testLabelsPath = v; });
  take("binarize", options.binarizeGiven, [&](const std::string &v) {
    options.binarize = v == "static"    ? Binarize::Static
                       : v == "dynamic" ? Binarize::Dynamic
                                        : Binarize::None;
  });
  if (!forTraining)
    return;
  take("limit", options.limitGiven, [&](const std::string &v) {
    options.limit = v == "all" ? 0 : size_t(std::strtoull(v.c_str(), nullptr, 10));
  });
  take("classes", options.classesGiven,
       [&](const std::string &v) { options.classes = v == "all" ? "" : v; });
  take("last_batch", options.lastBatchGiven,
       [&](const std::string &v) { options.padLastBatch = v != "drop"; });
}

/// What a checkpoint records of the run that made it: the model's
/// fingerprint (vae_model.fingerprint: its encoder, decoder and prior), the
/// training data (folder, examples, CRC-32) and its settings. (The
/// hyperparameters join it: hyperparamRecord.)
std::map<std::string, std::string> vae::runRecord(const Model &model, const TrainOptions &options,
                                                  const Dataset &trainSet) {
  const vae_model &d = model.desc();
  auto absolute = [](const std::string &path) {
    std::error_code ec;
    std::filesystem::path full = std::filesystem::absolute(path, ec);
    return (ec ? std::filesystem::path(path) : full).lexically_normal().string();
  };
  return {{"model", d.name},
          {"fingerprint", d.fingerprint},
          {"batch", std::to_string(d.batch)},
          {"data", absolute(options.dataPath)},
          {"test", options.testPath.empty() ? "" : absolute(options.testPath)},
          {"test_fraction", fmt::format("{}", options.testFraction)},
          {"label_column", options.labelColumn},
          {"labels", options.labelsPath.empty() ? "" : absolute(options.labelsPath)},
          {"test_labels", options.testLabelsPath.empty() ? "" : absolute(options.testLabelsPath)},
          {"classes", options.classes.empty() ? "all" : options.classes},
          {"train_examples", std::to_string(trainSet.count)},
          {"train_crc32", fmt::format("{:08x}", trainSet.checksum)},
          {"limit", options.limit ? std::to_string(options.limit) : "all"},
          {"binarize", binarizeName(options.binarize)},
          {"last_batch", options.padLastBatch ? "pad" : "drop"}};
}

/// Whether the model of `model` is the one that made a checkpoint with the
/// run record `run`; otherwise `error` says what differs.
bool vae::sameModel(const std::map<std::string, std::string> &run, const Model &model,
                    const std::string &path, std::string &error) {
  auto it = run.find("fingerprint");
  if (it == run.end() || it->second == model.desc().fingerprint)
    return true;
  std::string name = run.count("model") ? run.at("model") : "?";
  error = "'" + path + "' was trained by another model: " +
          differingParts(it->second, model.desc().fingerprint) + " between the '" + name +
          "' that made it (" + it->second + ") and this '" + model.desc().name + "' (" +
          model.desc().fingerprint + "); its parameters mean nothing to this one";
  return false;
}

/// For --resume: every difference between the run record of the checkpoint
/// and this run's, one line each, naming the flag that makes it. (Another
/// --data or --limit changes the examples too: said once, by the flag.)
std::string vae::runDifferences(const std::map<std::string, std::string> &saved,
                                const std::map<std::string, std::string> &now) {
  auto differs = [&](const std::string &key) {
    auto it = now.find(key), was = saved.find(key);
    return it != now.end() && was != saved.end() && it->second != was->second;
  };
  std::string lines;
  for (const auto &[key, value] : saved) {
    if (key == "fingerprint" || key == "model" || isChangeableHyperparam(key) || !differs(key))
      continue;
    const std::string &current = now.at(key);
    std::string flag;
    for (const auto &[k, f] : kDataFlags)
      if (key == k)
        flag = f;
    if (key == "train_examples" || key == "train_crc32") {
      if (!differs("data") && !differs("limit"))
        lines += "\n  the training data differ: " + key + " " + value + " then, " + current +
                 " now (the files in the run's --data folder changed)";
    } else if (!flag.empty()) {
      lines += "\n  " + flag + " " + current + ", but the run trained with " + flag + " " + value;
    } else if (key == "processes") {
      lines += "\n  this run has " + current + " process" + (current == "1" ? "" : "es") +
               ", the run had " + value + ": resume it with " +
               (value == "1" ? std::string("vae-train alone (no mpirun)") : "mpirun -np " + value) +
               " (the global batch, and so every step, depends on it)";
    } else if (key == "batch") {
      lines += "\n  this library trains batches of " + current + ", the run's were " + value +
               " (compiled with another --batch or train block?)";
    } else {
      lines += "\n  " + key + " " + current + " now, " + value + " in the run";
    }
  }
  return lines;
}

void vae::splitAnomalies(const std::string &classesText, Dataset &testSet, Dataset &anomalies) {
  std::vector<int32_t> classes;
  std::string unused;
  if (classesText.empty() || testSet.labels.empty() || !parseClasses(classesText, classes, unused))
    return;
  auto normal = [&](uint32_t i) {
    return std::binary_search(classes.begin(), classes.end(), testSet.labels[i]);
  };
  std::vector<uint32_t> others =
      rowsWhere(testSet.count, 0, [&](uint32_t i) { return !normal(i); });
  if (others.empty() || others.size() == testSet.count)
    return;
  anomalies = testSet.subset(others);
  anomalies.path = testSet.path + " (anomalies)";
  std::string path = testSet.path;
  testSet = testSet.subset(rowsWhere(testSet.count, 0, normal));
  testSet.path = path;
}
