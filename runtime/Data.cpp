//===- Data.cpp - batches, noise and shuffling for vae-train --------------===//

#include "runtime/Data.h"

#include "runtime/Idx.h"
#include "vae/philox.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

using namespace vae;

namespace {

/// Philox streams (the counter's last word) of the runtime's draws.
enum Stream : uint32_t {
  kNoiseStream = 1,
  kShuffleStream = 2,
  kDynamicBinarizeStream = 3,
  kStaticBinarizeStream = 4,
};

PhiloxKey keyOf(uint64_t seed) { return {uint32_t(seed), uint32_t(seed >> 32)}; }

} // namespace

bool Dataset::load(const std::string &path, size_t limit, Dataset &out,
                   std::string &error) {
  auto reader = IdxReader::open(path, error);
  if (!reader)
    return false;
  out.path = path;
  out.count = limit ? std::min<size_t>(limit, reader->count()) : reader->count();
  out.size = reader->exampleSize();
  if (!reader->read(out.count, out.pixels, error))
    return false;
  out.checksum = uint32_t(::crc32_z(0L, out.pixels.data(), out.pixels.size()));
  return true;
}

void Dataset::binarizeStatically(uint32_t stream) {
  // Four draws per Philox call; a fixed key, not the run's seed.
  PhiloxKey key{0x62696e61u, stream};
  for (size_t example = 0; example < count; ++example) {
    uint8_t *row = &pixels[example * size];
    for (size_t j = 0; j < size; j += 4) {
      PhiloxCounter w = philox4x32_10(
          {uint32_t(j / 4), uint32_t(example), 0, kStaticBinarizeStream}, key);
      for (size_t k = 0; k < 4 && j + k < size; ++k)
        row[j + k] = uniformFloat(w[k]) * 255.0f < float(row[j + k]) ? 255 : 0;
    }
  }
}

std::string vae::findIdx(const std::string &dir, const std::string &stem) {
  for (const char *suffix : {"", ".gz"}) {
    std::string path = dir + "/" + stem + suffix;
    if (std::filesystem::exists(path))
      return path;
  }
  return "";
}

void vae::fillNoise(std::vector<float> &eps, uint64_t seed, uint32_t epoch,
                    uint32_t step, size_t first) {
  // Box-Muller on both halves of each Philox draw: four normals per call.
  // (vae-train spends this between training steps, on the critical path.)
  PhiloxKey key = keyOf(seed);
  size_t end = first + eps.size();
  for (size_t block = first / 4 * 4; block < end; block += 4) {
    PhiloxCounter w = philox4x32_10({uint32_t(block / 4), step, epoch, kNoiseStream}, key);
    for (size_t pair = 0; pair < 2; ++pair) {
      // u1 in (0, 1] from the top 24 bits (exact in float), u2 in [0, 1).
      float u1 = float((w[2 * pair] >> 8) + 1) * 0x1p-24f;
      float u2 = float(w[2 * pair + 1] >> 8) * 0x1p-24f;
      float r = std::sqrt(-2.0f * std::log(u1)), s, c;
      sincosf(float(2 * M_PI) * u2, &s, &c);
      size_t j = block + 2 * pair;
      if (j >= first && j < end)
        eps[j - first] = r * c;
      if (j + 1 >= first && j + 1 < end)
        eps[j + 1 - first] = r * s;
    }
  }
}

std::vector<uint32_t> vae::shuffle(size_t n, uint64_t seed, uint32_t epoch) {
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i)
    order[i] = uint32_t(i);
  PhiloxKey key = keyOf(seed);
  for (size_t i = n; i > 1; --i) {
    uint32_t r = philox4x32_10({uint32_t(i), epoch, 0, kShuffleStream}, key)[0];
    std::swap(order[i - 1], order[r % i]);
  }
  return order;
}

void vae::gather(const Dataset &data, const uint32_t *indices, size_t n,
                 std::vector<float> &x) {
  for (size_t b = 0; b < n; ++b)
    for (size_t j = 0; j < data.size; ++j)
      x[b * data.size + j] = float(data.pixels[size_t(indices[b]) * data.size + j]) / 255.0f;
  std::fill(x.begin() + long(n * data.size), x.end(), 0.0f);
}

void vae::binarizeDynamically(float *x, size_t count, uint64_t seed,
                              uint32_t epoch, uint32_t step, size_t first) {
  PhiloxKey key = keyOf(seed);
  size_t end = first + count;
  for (size_t block = first / 4 * 4; block < end; block += 4) {
    PhiloxCounter w =
        philox4x32_10({uint32_t(block / 4), step, epoch, kDynamicBinarizeStream}, key);
    for (size_t k = 0; k < 4; ++k)
      if (size_t j = block + k; j >= first && j < end)
        x[j - first] = uniformFloat(w[k]) < x[j - first] ? 1.0f : 0.0f;
  }
}
