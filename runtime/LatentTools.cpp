//===- LatentTools.cpp - vae-train decode and interpolate -----------------===//
//
// The latent space as a tool: decode codes of one's own (`decode --z
// FILE.npy`), and walk the line between two test examples' posterior means
// (`interpolate --from I --to J`), straight or along the great circle of a
// normal prior.
//
//===----------------------------------------------------------------------===//

#include "runtime/AtomicFile.h"
#include "runtime/Pictures.h"
#include "runtime/RunData.h"
#include "runtime/Vaez.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <numeric>

using namespace vae;

namespace {

/// `images` (decoder means) as a float32 .npy of [count, input shape...].
bool writeMeans(const vae_model &d, const std::string &path,
                const std::vector<std::vector<float>> &images, std::string &error) {
  std::vector<uint8_t> bytes;
  for (const auto &image : images) {
    const uint8_t *begin = reinterpret_cast<const uint8_t *>(image.data());
    bytes.insert(bytes.end(), begin, begin + image.size() * sizeof(float));
  }
  Dataset out =
      Dataset::fromBytes(path, Element::F32, images.size(), size_t(d.input_size), std::move(bytes));
  out.exampleShape.assign(d.input_shape, d.input_shape + d.input_rank);
  return writeNpy(path, out, error);
}

/// Points from `a` to `b` (latent values each), `steps` of them, the ends
/// included: on the segment, or with `spherical` on the great circle around
/// the prior mean `centre` (slerp; the segment where a and b are parallel).
std::vector<float> interpolate(const std::vector<float> &a, const std::vector<float> &b,
                               size_t steps, bool spherical, double centre) {
  size_t latent = a.size();
  double dot = 0, na = 0, nb = 0;
  for (size_t j = 0; j < latent; ++j) {
    double u = a[j] - centre, v = b[j] - centre;
    dot += u * v, na += u * u, nb += v * v;
  }
  double omega = std::acos(std::clamp(dot / std::sqrt(na * nb), -1.0, 1.0));
  bool slerp = spherical && na > 0 && nb > 0 && std::sin(omega) > 1e-6;
  std::vector<float> z(steps * latent);
  for (size_t k = 0; k < steps; ++k) {
    double t = steps == 1 ? 0.0 : double(k) / double(steps - 1);
    double wa = slerp ? std::sin((1 - t) * omega) / std::sin(omega) : 1 - t;
    double wb = slerp ? std::sin(t * omega) / std::sin(omega) : t;
    for (size_t j = 0; j < latent; ++j)
      z[k * latent + j] = float(centre + wa * (a[j] - centre) + wb * (b[j] - centre));
  }
  return z;
}

/// `path` with its extension replaced by `.png`.
std::string pictureBeside(const std::string &path) {
  return std::filesystem::path(path).replace_extension(".png").string();
}

} // namespace

int vae::runDecode(const Model &model, const float *params, void *arena,
                   const TrainOptions &options) {
  const vae_model &d = model.desc();
  std::string error;
  Dataset codes;
  if (!Dataset::load(options.codesPath, 0, "", codes, error))
    return fail(error);
  if (codes.size != size_t(d.latent_size))
    return fail(fmt::format("'{}' holds codes of {} values, but model '{}' has {} latent "
                            "dimensions: give [n, {}]",
                            codes.path, codes.size, d.name, d.latent_size, d.latent_size));
  codes.byteDivisor = 1.0f; // (codes are values, bytes too)
  std::vector<float> z(codes.count * codes.size);
  for (size_t i = 0; i < codes.count; ++i)
    for (size_t j = 0; j < codes.size; ++j)
      z[i * codes.size + j] = codes.value(i, j);
  auto images = decoderMeans(model, params, arena, z, codes.count);
  if (!writeMeans(d, options.compressOutput, images, error))
    return fail(error);
  fmt::print("wrote {} (float32 [{}, {}]: the decoder's means at the {} codes of '{}')\n",
             options.compressOutput, codes.count,
             fmt::join(d.input_shape, d.input_shape + d.input_rank, ", "), codes.count, codes.path);
  if (!squareSide(d) || codes.count == 0)
    return 0;
  std::string picture = pictureBeside(options.compressOutput);
  images.resize(std::min<size_t>(images.size(), 200));
  if (!writeImageGrid(d, picture, images, 10, "DECODER MEANS AT GIVEN CODES", error))
    return fail(error);
  fmt::print("wrote {} (the first {})\n", picture, images.size());
  return 0;
}

int vae::runInterpolate(const Model &model, const float *params, void *arena, const Dataset &test,
                        const TrainOptions &options) {
  const vae_model &d = model.desc();
  for (int64_t index : {options.fromIndex, options.toIndex})
    if (index < 0 || size_t(index) >= test.count)
      return fail(fmt::format("--from/--to {}: the test set '{}' has examples 0 to {}", index,
                              test.path, int64_t(test.count) - 1));
  size_t latent = size_t(d.latent_size), batch = size_t(d.batch);
  std::vector<float> x(batch * test.size), mu(batch * latent), logvar(mu.size());
  uint32_t rows[2] = {uint32_t(options.fromIndex), uint32_t(options.toIndex)};
  gather(test, rows, 2, x);
  model.encode(params, arena, x.data(), mu.data(), logvar.data());
  std::vector<float> a(mu.begin(), mu.begin() + long(latent)),
      b(mu.begin() + long(latent), mu.begin() + long(2 * latent));
  size_t steps = size_t(options.steps);
  std::vector<float> z = interpolate(a, b, steps, options.spherical, d.prior_mean);
  auto images = decoderMeans(model, params, arena, z, steps);
  std::string error, npy = options.outDir + "/interpolation.npy";
  if (!writeMeans(d, npy, images, error))
    return fail(error);
  fmt::print("wrote {} (float32: the decoder's means at {} points from test example {} to {}, "
             "{})\n",
             npy, steps, options.fromIndex, options.toIndex,
             options.spherical ? "on the great circle around the prior mean" : "on the segment");
  if (!squareSide(d))
    return 0;
  // The row: example I, the points, example J.
  std::vector<std::vector<float>> row{std::vector<float>(x.begin(), x.begin() + long(test.size))};
  row.insert(row.end(), images.begin(), images.end());
  row.emplace_back(x.begin() + long(test.size), x.begin() + long(2 * test.size));
  std::string picture = options.outDir + "/interpolation.png";
  if (!writeImageGrid(d, picture, row, uint32_t(std::min<size_t>(row.size(), 12)),
                      fmt::format("TEST {} TO TEST {}", options.fromIndex, options.toIndex), error))
    return fail(error);
  fmt::print("wrote {} (the two examples at the ends)\n", picture);
  return 0;
}
