//===- VaezC.cpp - the C interface of vae/vaez.h ---------------------------===//

#include "vae/vaez.h"

#include "runtime/Vaez.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

using namespace vae;

namespace {

/// Copies `message` into the caller's buffer; returns 1 (failure).
int failWith(const std::string &message, char *error, int64_t errorBytes) {
  if (error && errorBytes > 0) {
    size_t n = std::min(message.size(), size_t(errorBytes - 1));
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
  }
  return 1;
}

/// Each library is loaded once per process and kept (a dlopen'ed model may
/// be used again by the next call).
const Model *modelAt(const char *path, std::string &error) {
  static std::mutex lock;
  static std::map<std::string, std::unique_ptr<Model>> models;
  std::lock_guard<std::mutex> guard(lock);
  std::unique_ptr<Model> &model = models[path ? path : ""];
  if (!model)
    model = Model::load(path ? path : "", error);
  return model.get();
}

Element elementOf(int32_t dtype) {
  return dtype == VAEZ_UINT8 ? Element::U8 : dtype == VAEZ_FLOAT32 ? Element::F32 : Element::F64;
}

} // namespace

int vaez_compress(const char *library_path, const float *params, const void *data, int32_t dtype,
                  int64_t count, const int64_t *shape, int32_t rank,
                  const vaez_precisions *precisions, void **out, int64_t *outBytes, char *error,
                  int64_t errorBytes) {
  std::string why;
  const Model *model = modelAt(library_path, why);
  if (!model)
    return failWith(why, error, errorBytes);
  if (dtype < VAEZ_UINT8 || dtype > VAEZ_FLOAT64 || count < 0 || rank < 1 || rank > 8)
    return failWith("vaez_compress: a dtype of 1 to 3, a count of 0 or more and a rank of 1 to 8, "
                    "please",
                    error, errorBytes);
  int64_t size = 1;
  for (int32_t i = 0; i < rank; ++i)
    size *= shape[i];
  if (size != model->desc().input_size)
    return failWith("examples of " + std::to_string(size) + " values, but the model takes " +
                        std::to_string(model->desc().input_size),
                    error, errorBytes);
  Element element = elementOf(dtype);
  size_t width = element == Element::U8 ? 1 : element == Element::F32 ? 4 : 8;
  const uint8_t *begin = static_cast<const uint8_t *>(data);
  Dataset set = Dataset::fromBytes("the examples", element, size_t(count), size_t(size),
                                   std::vector<uint8_t>(begin, begin + count * size * width));
  set.exampleShape.assign(shape, shape + rank);
  if (model->desc().likelihood_bins > 0)
    set.byteDivisor = 1.0f;
  BitsBackPrecisions p;
  if (precisions) {
    p.latent = precisions->latent ? unsigned(precisions->latent) : p.latent;
    p.posterior = precisions->posterior ? unsigned(precisions->posterior) : p.posterior;
    p.likelihood = precisions->likelihood ? unsigned(precisions->likelihood) : p.likelihood;
  }
  AlignedBuffer arena = model->newArena();
  std::string bytes;
  CompressionStats stats;
  if (!compressToVaez(*model, params, arena.bytes(), set, p, bytes, stats, why))
    return failWith(why, error, errorBytes);
  *out = std::malloc(std::max<size_t>(bytes.size(), 1));
  std::memcpy(*out, bytes.data(), bytes.size());
  *outBytes = int64_t(bytes.size());
  return 0;
}

int vaez_decompress(const char *library_path, const float *params, const void *bytes, int64_t size,
                    void **data, int32_t *dtype, int64_t *count, int64_t *shape, int32_t *rank,
                    char *error, int64_t errorBytes) {
  std::string why;
  const Model *model = modelAt(library_path, why);
  if (!model)
    return failWith(why, error, errorBytes);
  std::string file(static_cast<const char *>(bytes), size_t(std::max<int64_t>(size, 0)));
  VaezFile parsed;
  Dataset out;
  AlignedBuffer arena = model->newArena();
  if (!parseVaez(file, "the .vaez bytes", parsed, why) ||
      !decompressVaez(*model, params, arena.bytes(), parsed, "the .vaez bytes", out, why))
    return failWith(why, error, errorBytes);
  if (out.exampleShape.size() > 8)
    return failWith("the examples have more than 8 dimensions", error, errorBytes);
  size_t total = out.count * out.rowBytes();
  *data = std::malloc(std::max<size_t>(total, 1));
  if (total) // (no examples: no buffer to copy from)
    std::memcpy(*data, out.bytes(), total);
  *dtype = out.element == Element::U8    ? VAEZ_UINT8
           : out.element == Element::F32 ? VAEZ_FLOAT32
                                         : VAEZ_FLOAT64;
  *count = int64_t(out.count);
  *rank = int32_t(out.exampleShape.size());
  for (size_t i = 0; i < out.exampleShape.size(); ++i)
    shape[i] = int64_t(out.exampleShape[i]);
  return 0;
}

void vaez_free(void *memory) { std::free(memory); }
