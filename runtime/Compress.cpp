//===- Compress.cpp - vae-train compress and decompress -------------------===//
//
// compress codes a data file (or the run's test set) with the trained model
// into a .vaez file (Vaez.h, BitsBack.h) and says what it cost against the
// model's -ELBO of the same data; decompress writes the examples back, the
// same bytes in the same dtype and shape.
//
//===----------------------------------------------------------------------===//

#include "runtime/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/Idx.h"
#include "runtime/RunData.h"
#include "runtime/Vaez.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace vae;

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// What compress codes: --data FILE as it is (a folder: its test images),
/// binarized only if --binarize static says so; or with --test the run's
/// test set as eval sees it.
bool loadToCompress(const Model &model, const CheckpointHeader &header, const TrainOptions &given,
                    Dataset &data, std::string &error) {
  TrainOptions options = given;
  if (options.compressTestSet) {
    adoptRunSettings(header.run, options, /*forTraining=*/false);
    Dataset unused;
    return loadImages(model, options, uint64_t(header.seed), false, unused, data, error);
  }
  if (!options.dataGiven) {
    error = "compress needs the data: --data FILE (.npy, .csv or IDX) or a folder (its "
            "t10k-images-idx3-ubyte), or --test for the run's test set";
    return false;
  }
  std::string path = options.dataPath;
  if (std::filesystem::is_directory(path)) {
    path = findIdx(options.dataPath, "t10k-images-idx3-ubyte");
    if (path.empty()) {
      error = fmt::format("--data '{}' is a folder without t10k-images-idx3-ubyte[.gz]: give "
                          "one file",
                          options.dataPath);
      return false;
    }
  }
  if (!Dataset::load(path, 0, options.labelColumn, data, error))
    return false;
  if (model.desc().likelihood_bins > 0) // (the integers themselves)
    data.byteDivisor = 1.0f;
  if (data.size != size_t(model.desc().input_size)) {
    error = fmt::format("'{}' has examples of {} values, but model '{}' takes {}", data.path,
                        data.size, model.desc().name, model.desc().input_size);
    return false;
  }
  if (options.binarize == Binarize::Static)
    data.binarizeStatically(1);
  return true;
}

bool readWholeFile(const std::string &path, std::string &bytes, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot open '{}'", path);
    return false;
  }
  std::ostringstream content;
  content << in.rdbuf();
  bytes = content.str();
  return true;
}

} // namespace

int vae::runCompress(const Model &model, const float *params, void *arena,
                     const CheckpointHeader &header, const TrainOptions &options) {
  std::string error;
  Dataset data;
  if (!loadToCompress(model, header, options, data, error))
    return fail(error);
  auto start = std::chrono::steady_clock::now();
  std::string bytes;
  CompressionStats stats;
  BitsBackPrecisions precisions{unsigned(options.latentBits), unsigned(options.posteriorBits),
                                unsigned(options.likelihoodBits)};
  if (!compressToVaez(model, params, arena, data, precisions, bytes, stats, error))
    return fail(error);
  double seconds = secondsSince(start);
  if (!writeAtomically(options.compressOutput, [&](std::ostream &out) { out << bytes; }, error))
    return fail(error);
  double values = double(std::max<uint64_t>(stats.values, 1));
  fmt::print("compressed {} examples of '{}' ({} values each, {}) to {}: {} bytes, {:.4f} "
             "bits/dim ({} initial bits, {:.4f} bits/dim without them); {:.2f} s, {:.0f} "
             "examples/s\n",
             data.count, data.path, data.size,
             data.element == Element::U8    ? "uint8"
             : data.element == Element::F32 ? "float32"
                                            : "float64",
             options.compressOutput, stats.fileBytes, 8.0 * double(stats.fileBytes) / values,
             stats.initialBits,
             (8.0 * double(stats.fileBytes) - double(stats.initialBits)) / values, seconds,
             double(data.count) / std::max(seconds, 1e-9));
  if (data.count > 0) { // what the model says the data should cost
    Terms terms = evaluate(model, params, arena, data, uint64_t(header.seed));
    double elboBits = terms.negElbo() / std::log(2.0) / double(data.size);
    fmt::print(
        "the model's -ELBO of the same examples: {:.2f} nats, {:.4f} bits/dim; the code "
        "without its initial bits is {:+.2f} % of it\n",
        terms.negElbo(), elboBits,
        100.0 * ((8.0 * double(stats.fileBytes) - double(stats.initialBits)) / values / elboBits -
                 1.0));
  }
  return 0;
}

int vae::runDecompress(const Model &model, const float *params, void *arena,
                       const TrainOptions &options) {
  std::string error, bytes;
  const std::string &path = options.vaezInput;
  VaezFile file;
  if (!readWholeFile(path, bytes, error) || !parseVaez(bytes, path, file, error))
    return fail(error);
  auto start = std::chrono::steady_clock::now();
  Dataset data;
  if (!decompressVaez(model, params, arena, file, path, data, error))
    return fail(error);
  double seconds = secondsSince(start);
  const std::string &out = options.compressOutput;
  bool npy = std::filesystem::path(out).extension() == ".npy";
  if (!npy && data.element != Element::U8)
    return fail(fmt::format("'{}' holds {} values, which IDX output (uint8) cannot hold: "
                            "name the output FILE.npy",
                            path, file.header.dtype));
  bool ok = npy ? writeNpy(out, data, error) : [&] {
    std::vector<uint32_t> dims{uint32_t(data.count)};
    for (size_t n : data.exampleShape)
      dims.push_back(uint32_t(n));
    std::vector<uint8_t> raw(data.bytes(), data.bytes() + data.count * data.rowBytes());
    return writeIdx(out, dims, raw, error);
  }();
  if (!ok)
    return fail(error);
  fmt::print("decompressed {} examples ({}, shape [{}]) to {}; {:.2f} s, {:.0f} examples/s\n",
             data.count, file.header.dtype, fmt::join(file.header.shape, ", "), out, seconds,
             double(data.count) / std::max(seconds, 1e-9));
  return 0;
}
