//===- Pictures.cpp - what vae-train draws --------------------------------===//

#include "runtime/Pictures.h"

#include "runtime/Png.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <utility>

using namespace vae;

namespace {

/// Means of the decoder's distribution for `count` latent codes (rows of
/// `z`), decoded a batch at a time.
std::vector<std::vector<float>> decodeMeans(const Model &model,
                                            const float *params, void *arena,
                                            const std::vector<float> &z,
                                            size_t count) {
  const vae_model &d = model.desc();
  size_t size = size_t(d.input_size), batch = size_t(d.batch),
         latent = size_t(d.latent_size);
  std::vector<float> codes(batch * latent), out0(batch * size), out1(out0.size());
  std::vector<std::vector<float>> images;
  for (size_t first = 0; first < count; first += batch) {
    size_t n = std::min(batch, count - first);
    std::fill(codes.begin(), codes.end(), 0.0f);
    std::copy_n(z.begin() + long(first * latent), n * latent, codes.begin());
    model.decode(params, arena, codes.data(), out0.data(), out1.data());
    for (size_t b = 0; b < n; ++b) {
      images.emplace_back(out0.begin() + long(b * size), out0.begin() + long((b + 1) * size));
      if (d.likelihood == VAE_LIKELIHOOD_BERNOULLI) // logits -> probabilities
        for (float &v : images.back())
          v = 1.0f / (1.0f + std::exp(-v));
    }
  }
  return images;
}

bool writeGrid(const std::string &path, const std::vector<std::vector<float>> &images,
               uint32_t side, uint32_t columns, std::string &error) {
  uint32_t width, height;
  std::vector<uint8_t> pixels = tileImages(images, side, columns, width, height);
  return writePng(path, width, height, 1, pixels, error);
}

/// The two latent dimensions with the largest mean KL over `test`: the ones
/// the model uses most.
std::pair<size_t, size_t> mostInformativeDimensions(const Model &model,
                                                    const float *params, void *arena,
                                                    const Dataset &test) {
  const vae_model &d = model.desc();
  size_t batch = size_t(d.batch), latent = size_t(d.latent_size);
  std::vector<float> x(batch * test.size), mu(batch * latent), logvar(mu.size());
  std::vector<uint32_t> indices(batch);
  std::vector<double> kl(latent, 0.0);
  double var0 = d.prior_std * d.prior_std;
  for (size_t first = 0; first < test.count; first += batch) {
    size_t n = std::min(batch, test.count - first);
    std::iota(indices.begin(), indices.begin() + long(n), uint32_t(first));
    gather(test, indices.data(), n, x);
    model.encode(params, arena, x.data(), mu.data(), logvar.data());
    for (size_t b = 0; b < n; ++b)
      for (size_t j = 0; j < latent; ++j) {
        double m = mu[b * latent + j] - d.prior_mean, lv = logvar[b * latent + j];
        kl[j] += 0.5 * ((std::exp(lv) + m * m) / var0 - 1 - lv + std::log(var0));
      }
  }
  std::vector<size_t> order(latent);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return kl[a] > kl[b]; });
  return {order[0], latent > 1 ? order[1] : order[0]};
}

/// An RGB colour.
struct Colour {
  uint8_t r, g, b;
};

/// An RGB drawing surface with lines, boxes and a 3 x 5 digit font; grey
/// levels darken what is there (so that crossing lines stay visible).
class Canvas {
public:
  Canvas(int width, int height)
      : width(width), height(height), pixels(size_t(width * height) * 3, 255) {}

  void dot(int x, int y, uint8_t level) {
    if (x >= 0 && y >= 0 && x < width && y < height)
      for (size_t c = 0; c < 3; ++c) {
        uint8_t &p = pixels[size_t(y * width + x) * 3 + c];
        p = std::min(p, level);
      }
  }
  void paint(int x, int y, Colour colour) {
    if (x >= 0 && y >= 0 && x < width && y < height) {
      uint8_t *p = &pixels[size_t(y * width + x) * 3];
      p[0] = colour.r;
      p[1] = colour.g;
      p[2] = colour.b;
    }
  }
  void box(int x0, int y0, int x1, int y1, uint8_t level) {
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x)
        dot(x, y, level);
  }
  void box(int x0, int y0, int x1, int y1, Colour colour) {
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x)
        paint(x, y, colour);
  }
  /// Bresenham.
  void line(int x0, int y0, int x1, int y1, uint8_t level) {
    int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
      dot(x0, y0, level);
      if (x0 == x1 && y0 == y1)
        return;
      int e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
  }
  /// Digits, '.' and '-' at `scale` pixels per font pixel; returns the width.
  int text(int x, int y, const std::string &s, int scale, bool measureOnly = false) {
    static const char *const kGlyphs = "0123456789.-";
    static const uint16_t kBits[] = {0x7b6f, 0x2c97, 0x73e7, 0x73cf, 0x5bc9, 0x79cf,
                                     0x79ef, 0x7249, 0x7bef, 0x7bcf, 0x0002, 0x01c0};
    int advance = 4 * scale;
    for (size_t i = 0; i < s.size() && !measureOnly; ++i) {
      const char *glyph = std::strchr(kGlyphs, s[i]);
      if (!glyph || !*glyph)
        continue;
      uint16_t bits = kBits[glyph - kGlyphs];
      for (int row = 0; row < 5; ++row)
        for (int col = 0; col < 3; ++col)
          if (bits >> (14 - row * 3 - col) & 1)
            box(x + int(i) * advance + col * scale, y + row * scale,
                x + int(i) * advance + col * scale + scale - 1, y + row * scale + scale - 1, 0);
    }
    return int(s.size()) * advance - scale;
  }
  bool save(const std::string &path, std::string &error) const {
    return writePng(path, uint32_t(width), uint32_t(height), 3, pixels, error);
  }

private:
  int width, height;
  std::vector<uint8_t> pixels;
};

/// 1, 2 or 5 times a power of ten, near `range / 8`.
double tickSpacing(double range) {
  double rough = range / 8, power = std::pow(10.0, std::floor(std::log10(rough)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * power >= rough)
      return m * power;
  return 10 * power;
}

std::string label(double value, double spacing) {
  int decimals = std::max(0, int(-std::floor(std::log10(spacing))));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

} // namespace

bool vae::writePictures(const Model &model, const float *params, void *arena,
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

  // Reconstructions: the first 8 test images above their reconstructions.
  size_t shown = std::min(std::min<size_t>(batch, 8), test.count);
  std::vector<float> x(batch * test.size), mu(batch * latent), logvar(mu.size());
  std::vector<uint32_t> first(shown);
  std::iota(first.begin(), first.end(), 0u);
  gather(test, first.data(), shown, x);
  model.encode(params, arena, x.data(), mu.data(), logvar.data());
  std::vector<std::vector<float>> grid;
  for (size_t i = 0; i < shown; ++i)
    grid.emplace_back(x.begin() + long(i * test.size), x.begin() + long((i + 1) * test.size));
  for (auto &image : decodeMeans(model, params, arena, mu, shown))
    grid.push_back(std::move(image));
  if (!writeGrid(dir + "/reconstructions.png", grid, side, uint32_t(shown), error))
    return false;

  // Samples: z ~ N(prior mean, prior std^2).
  const size_t samples = 64;
  std::vector<float> z(samples * latent);
  fillNoise(z, seed ^ 0x5a3b1e5ull, 0xfffffffeu, 0);
  for (float &v : z)
    v = float(d.prior_mean + d.prior_std * v);
  if (!writeGrid(dir + "/samples.png", decodeMeans(model, params, arena, z, samples),
                 side, 8, error))
    return false;

  // Traversal: rows walk dimension a, columns dimension b.
  auto [a, b] = mostInformativeDimensions(model, params, arena, test);
  const size_t steps = 10;
  std::vector<float> codes(steps * steps * latent, float(d.prior_mean));
  for (size_t row = 0; row < steps; ++row)
    for (size_t col = 0; col < steps; ++col) {
      float *code = &codes[(row * steps + col) * latent];
      code[a] = float(d.prior_mean + d.prior_std * (-2.0 + 4.0 * double(row) / (steps - 1)));
      code[b] = float(d.prior_mean + d.prior_std * (-2.0 + 4.0 * double(col) / (steps - 1)));
    }
  if (!writeGrid(dir + "/latent_traversal.png",
                 decodeMeans(model, params, arena, codes, steps * steps), side,
                 uint32_t(steps), error))
    return false;
  std::printf("pictures: %s/{reconstructions,samples,latent_traversal}.png "
              "(traversal of latent dimensions %zu and %zu)\n",
              dir.c_str(), a, b);
  return true;
}

bool vae::writeLossCurve(const std::string &path, const LossHistory &history,
                         std::string &error) {
  const int width = 720, height = 420, left = 80, right = 20, top = 20, bottom = 44;
  Canvas canvas(width, height);
  // Moving average over about a fiftieth of the run.
  size_t window = std::max<size_t>(1, history.steps.size() / 50);
  std::vector<std::pair<double, double>> smooth;
  double sum = 0;
  for (size_t i = 0; i < history.steps.size(); ++i) {
    sum += history.steps[i].second;
    if (i >= window)
      sum -= history.steps[i - window].second;
    if (i + 1 >= window)
      smooth.push_back({history.steps[i].first, sum / double(window)});
  }
  double xMax = 1, yMin = INFINITY, yMax = -INFINITY;
  for (const auto *series : {&std::as_const(smooth), &history.test})
    for (auto [x, y] : *series) {
      xMax = std::max(xMax, x);
      yMin = std::min(yMin, y);
      yMax = std::max(yMax, y);
    }
  if (!(yMin <= yMax)) { // nothing to draw yet
    yMin = 0;
    yMax = 1;
  }
  double pad = std::max(1e-3, 0.05 * (yMax - yMin));
  yMin -= pad;
  yMax += pad;
  int plotW = width - left - right, plotH = height - top - bottom;
  auto px = [&](double x) { return left + int(std::lround(x / xMax * plotW)); };
  auto py = [&](double y) {
    return top + int(std::lround((yMax - std::clamp(y, yMin, yMax)) / (yMax - yMin) * plotH));
  };

  double spacing = tickSpacing(yMax - yMin);
  for (double y = std::ceil(yMin / spacing) * spacing; y <= yMax; y += spacing) {
    canvas.line(left, py(y), width - right, py(y), 230); // grid line
    std::string text = label(y, spacing);
    canvas.text(left - 8 - canvas.text(0, 0, text, 2, true), py(y) - 5, text, 2);
  }
  int epochStep = std::max(1, int(std::ceil(xMax / 12)));
  for (int e = 0; e <= int(xMax); e += epochStep) {
    canvas.line(px(e), top + plotH, px(e), top + plotH + 5, 0);
    std::string text = std::to_string(e);
    canvas.text(px(e) - canvas.text(0, 0, text, 2, true) / 2, top + plotH + 12, text, 2);
  }
  for (const auto &[x, y] : history.steps)
    canvas.dot(px(x), py(y), 200);
  for (size_t i = 1; i < smooth.size(); ++i)
    canvas.line(px(smooth[i - 1].first), py(smooth[i - 1].second),
                px(smooth[i].first), py(smooth[i].second), 100);
  for (size_t i = 0; i < history.test.size(); ++i) {
    int x = px(history.test[i].first), y = py(history.test[i].second);
    if (i)
      canvas.line(px(history.test[i - 1].first), py(history.test[i - 1].second), x, y, 0);
    canvas.box(x - 3, y - 3, x + 3, y + 3, 0);
  }
  canvas.line(left, top, left, top + plotH, 0); // axes
  canvas.line(left, top + plotH, width - right, top + plotH, 0);
  return canvas.save(path, error);
}
