//===- ReaderFuzzer.cpp - libFuzzer target for every file vae-train reads -===//
//
// The first byte picks a reader, the rest is the file it reads:
//   0  IDX images (MNIST format), as they are
//   1  IDX images, gzip-compressed by this target (the fuzzer mutates what
//      is inside the stream)
//   2  bytes given a .gz name (broken gzip streams)
//   3  IDX labels
//   4  .npy (header and body)
//   5  .csv, without a label column
//   6  .csv, label column "label"
//   7  a checkpoint as it is (refused by its SHA-256 unless the fuzzer
//      forged one)
//   8  a checkpoint resealed with the SHA-256 of its bytes, so that the
//      parser behind the digest sees the mutations
//   9  a .vaez file as it is (CRC-32s guard its header and chunks)
//  10  a .vaez chunk: the next byte says how many examples (0 to 15), the
//      rest is the payload, framed with a header the test model accepts and
//      valid CRC-32s, so that the bits-back decoder sees the mutations
// A crash, a sanitizer report or a hang is a bug; so is a reader that
// accepts a file and returns a dataset whose sizes disagree with its bytes,
// or that refuses one without saying why.
//
//===----------------------------------------------------------------------===//

#include "runtime/Checkpoint.h"
#include "runtime/Data.h"
#include "runtime/Vaez.h"

#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace vae;

namespace {

/// A scratch folder of this process, removed at exit.
const char *scratch() {
  static char dir[] = "/tmp/vaert-fuzz-XXXXXX";
  static const bool made = [] {
    if (!mkdtemp(dir))
      std::abort();
    std::atexit([] { std::system((std::string("rm -rf ") + dir).c_str()); });
    return true;
  }();
  (void)made;
  return dir;
}

std::string writeFile(const std::string &name, const uint8_t *data, size_t size) {
  std::string path = std::string(scratch()) + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char *>(data), std::streamsize(size));
  return path;
}

std::string writeGzip(const std::string &name, const uint8_t *data, size_t size) {
  std::string path = std::string(scratch()) + "/" + name;
  gzFile file = gzopen(path.c_str(), "wb");
  if (size)
    gzwrite(file, data, unsigned(size));
  gzclose(file);
  return path;
}

[[noreturn]] void bug(const std::string &what) {
  std::fprintf(stderr, "vaert-fuzz: %s\n", what.c_str());
  std::abort();
}

/// A dataset a reader accepted must be what it says it is.
void checkDataset(bool ok, const Dataset &set, const std::string &error) {
  if (!ok) {
    if (error.empty())
      bug("a reader refused a file without saying why");
    return;
  }
  size_t shape = 1;
  for (size_t dim : set.exampleShape)
    shape *= dim;
  if (shape != set.size)
    bug("the example shape disagrees with the example size");
  for (size_t i = 0; i < set.count; ++i) // every value readable, and finite
    for (size_t j = 0; j < set.size; ++j)
      if (!std::isfinite(set.value(i, j)))
        bug("a reader accepted a value that is not finite");
  if (!set.labels.empty() && set.labels.size() != set.count)
    bug("labels and examples disagree in number");
}

/// The generated model the checkpoint reader checks sizes against.
const Model &testModel() {
  static std::unique_ptr<Model> model = [] {
    std::string error;
    auto loaded = Model::load(VAE_TEST_MODEL, error);
    if (!loaded)
      bug("cannot load the test model: " + error);
    return loaded;
  }();
  return *model;
}

void readCheckpointBytes(const uint8_t *data, size_t size, bool reseal) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  if (reseal) {
    unsigned char digest[32];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
    bytes.append(reinterpret_cast<const char *>(digest), 32);
  }
  std::string path =
      writeFile("checkpoint.bin", reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  const Model &model = testModel();
  AlignedBuffer params = model.newParams(), state = model.newOptimizerState();
  CheckpointHeader header;
  std::string error;
  if (!readCheckpoint(path, model, params.data(), state.data(), header, error) && error.empty())
    bug("the checkpoint reader refused a file without saying why");
}

/// Parses `bytes` as a .vaez file and decompresses what parses with the
/// test model; a decoded file must hold the examples its header says.
void decompressBytes(const std::string &bytes) {
  static const Model &model = testModel();
  static AlignedBuffer params = [] {
    AlignedBuffer p = testModel().newParams();
    testModel().initParams(p.data(), 1);
    return p;
  }();
  static AlignedBuffer arena = model.newArena();
  VaezFile file;
  Dataset out;
  std::string error;
  bool ok = parseVaez(bytes, "fuzz.vaez", file, error) &&
            decompressVaez(model, params.data(), arena.bytes(), file, "fuzz.vaez", out, error);
  if (!ok && error.empty())
    bug("the .vaez reader refused a file without saying why");
  if (ok && (out.count != file.header.examples || out.size != size_t(model.desc().input_size)))
    bug("a decompressed file disagrees with its header");
  if (ok)
    checkDataset(true, out, error);
}

/// A chunk of `data` framed as the test model's own file.
void decompressForgedChunk(const uint8_t *data, size_t size) {
  if (size == 0)
    return;
  static AlignedBuffer params = [] {
    AlignedBuffer p = testModel().newParams();
    testModel().initParams(p.data(), 1);
    return p;
  }();
  size_t examples = data[0] % 16;
  Dataset shape =
      Dataset::fromBytes("x", Element::U8, examples, 784, std::vector<uint8_t>(examples * 784));
  shape.exampleShape = {28, 28};
  VaezHeader header = vaezHeaderFor(testModel(), params.data(), shape);
  std::string payload(reinterpret_cast<const char *>(data + 1), size - 1);
  decompressBytes(
      serializeVaez(header, examples ? std::vector{payload} : std::vector<std::string>{}));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  uint8_t reader = data[0] % 11;
  ++data, --size;
  Dataset set;
  std::string error;
  switch (reader) {
  case 0:
  case 1:
  case 2: {
    std::string path = reader == 0   ? writeFile("images-idx3-ubyte", data, size)
                       : reader == 1 ? writeGzip("images-idx3-ubyte.gz", data, size)
                                     : writeFile("broken-idx3-ubyte.gz", data, size);
    checkDataset(Dataset::load(path, 0, "", set, error), set, error);
    break;
  }
  case 3: {
    // Labels for 3 examples of 2 values (what loadIdxLabels checks against).
    static const uint8_t images[] = {0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6};
    std::string imagePath = writeFile("labelled-idx3-ubyte", images, sizeof(images));
    std::string labelPath = writeFile("labels-idx1-ubyte", data, size);
    bool ok = Dataset::load(imagePath, 0, "", set, error) && set.loadIdxLabels(labelPath, error);
    checkDataset(ok, set, error);
    break;
  }
  case 4:
    checkDataset(Dataset::load(writeFile("data.npy", data, size), 0, "", set, error), set, error);
    break;
  case 5:
  case 6:
    checkDataset(
        Dataset::load(writeFile("data.csv", data, size), 0, reader == 6 ? "label" : "", set, error),
        set, error);
    break;
  case 7:
  case 8:
    readCheckpointBytes(data, size, reader == 8);
    break;
  case 9:
    decompressBytes(std::string(reinterpret_cast<const char *>(data), size));
    break;
  default:
    decompressForgedChunk(data, size);
  }
  return 0;
}
