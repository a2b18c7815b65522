//===- Pictures.cpp - what vae-train draws --------------------------------===//

#include "runtime/Pictures.h"

#include "runtime/Png.h"

#include "runtime/AtomicFile.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <utility>

using namespace vae;

namespace {

/// Means of the decoder's distribution for `count` latent codes (rows of
/// `z`), decoded a batch at a time.
std::vector<std::vector<float>> decodeMeans(const Model &model, const float *params, void *arena,
                                            const std::vector<float> &z, size_t count) {
  const vae_model &d = model.desc();
  size_t size = size_t(d.input_size), batch = size_t(d.batch), latent = size_t(d.latent_size);
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
      if (d.likelihood == VAE_LIKELIHOOD_DISCRETIZED_LOGISTIC) { // [-1, 1] -> 0 ... bins - 1
        float top = float(d.likelihood_bins - 1);
        for (float &v : images.back())
          v = std::clamp((v + 1.0f) * 0.5f * top, 0.0f, top);
      }
    }
  }
  return images;
}

/// The decoder's means at `count` draws from the prior, z ~ N(prior mean,
/// prior std^2): the same first draws whatever `count` is.
std::vector<std::vector<float>> priorSamples(const Model &model, const float *params, void *arena,
                                             uint64_t seed, size_t count) {
  const vae_model &d = model.desc();
  std::vector<float> z(count * size_t(d.latent_size));
  fillNoise(z, seed ^ 0x5a3b1e5ull, 0xfffffffeu, 0);
  for (float &v : z)
    v = float(d.prior_mean + d.prior_std * v);
  return decodeMeans(model, params, arena, z, count);
}

/// The two latent dimensions with the largest mean KL over `test`: the ones
/// the model uses most.
std::pair<size_t, size_t> mostInformativeDimensions(const Model &model, const float *params,
                                                    void *arena, const Dataset &test) {
  const vae_model &d = model.desc();
  size_t batch = size_t(d.batch), latent = size_t(d.latent_size);
  std::vector<float> x(batch * test.size), mu(batch * latent), logvar(mu.size());
  std::vector<float> allMu, allLogvar;
  std::vector<uint32_t> indices(batch);
  for (size_t first = 0; first < test.count; first += batch) {
    size_t n = std::min(batch, test.count - first);
    std::iota(indices.begin(), indices.begin() + long(n), uint32_t(first));
    gather(test, indices.data(), n, x);
    model.encode(params, arena, x.data(), mu.data(), logvar.data());
    allMu.insert(allMu.end(), mu.begin(), mu.begin() + long(n * latent));
    allLogvar.insert(allLogvar.end(), logvar.begin(), logvar.begin() + long(n * latent));
  }
  return largestKlDimensions(d, allMu, allLogvar, test.count);
}

/// The 3 x 5 font: 15 cells per glyph, row by row, '#' inked.
const char *glyph(char c) {
  static const std::pair<char, const char *> kGlyphs[] = {
      {'0', "####.##.##.####"}, {'1', ".#.##..#..#.###"}, {'2', "###..#####..###"},
      {'3', "###..####..####"}, {'4', "#.##.####..#..#"}, {'5', "####..###..####"},
      {'6', "####..####.####"}, {'7', "###..#..#..#..#"}, {'8', "####.#####.####"},
      {'9', "####.####..####"}, {'.', ".............#."}, {'-', "......###......"},
      {'A', ".#.#.#####.##.#"}, {'B', "##.#.###.#.###."}, {'C', ".###..#..#...##"},
      {'D', "##.#.##.##.###."}, {'E', "####..##.#..###"}, {'F', "####..##.#..#.."},
      {'G', ".###..#.##.#.##"}, {'H', "#.##.#####.##.#"}, {'I', "###.#..#..#.###"},
      {'J', "..#..#..##.#.#."}, {'K', "#.##.###.#.##.#"}, {'L', "#..#..#..#..###"},
      {'M', "#.########.##.#"}, {'N', "##.#.##.##.##.#"}, {'O', ".#.#.##.##.#.#."},
      {'P', "##.#.###.#..#.."}, {'Q', ".#.#.##.###..##"}, {'R', "##.#.###.#.##.#"},
      {'S', ".###...#...###."}, {'T', "###.#..#..#..#."}, {'U', "#.##.##.##.####"},
      {'V', "#.##.##.##.#.#."}, {'W', "#.##.########.#"}, {'X', "#.##.#.#.#.##.#"},
      {'Y', "#.##.#.#..#..#."}, {'Z', "###..#.#.#..###"}, {':', "....#.....#...."},
      {'/', "..#..#.#.#..#.."}, {'(', ".#.#..#..#...#."}, {')', ".#...#..#..#.#."},
      {'=', "...###...###..."}, {'+', "....#.###.#...."}, {'%', "#.#..#.#.#..#.#"},
      {',', "..........#.#.."}, {'<', "..#.#.#...#...#"}, {'>', "#...#...#.#.#.."},
      {' ', "..............."}};
  char upper = char(std::toupper(static_cast<unsigned char>(c)));
  for (const auto &[key, rows] : kGlyphs)
    if (key == upper)
      return rows;
  return nullptr;
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
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }
  /// Text in a 3 x 5 pixel font (digits, letters shown upper-case, and
  /// " .-:/()=+%,<>") at `scale` pixels per font pixel; returns the width.
  int text(int x, int y, const std::string &s, int scale, Colour colour = {0, 0, 0},
           bool measureOnly = false) {
    int advance = 4 * scale;
    for (size_t i = 0; i < s.size() && !measureOnly; ++i) {
      const char *rows = glyph(s[i]);
      for (int row = 0; row < 5 && rows; ++row)
        for (int col = 0; col < 3; ++col)
          if (rows[row * 3 + col] == '#')
            box(x + int(i) * advance + col * scale, y + row * scale,
                x + int(i) * advance + col * scale + scale - 1, y + row * scale + scale - 1,
                colour);
    }
    return int(s.size()) * advance - scale;
  }
  int measure(const std::string &s, int scale) { return text(0, 0, s, scale, {}, true); }
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
  std::string text = fmt::format("{:.{}f}", value, decimals);
  // (A tick a rounding error below zero prints "-0".)
  if (text[0] == '-' && text.find_first_not_of("-0.") == std::string::npos)
    text.erase(0, 1);
  return text;
}

/// A plot frame: data ranges mapped into the canvas between margins, with
/// tick labels and axis titles.
struct Frame {
  int left = 80, right = 24, top = 36, bottom = 52, width, height;
  double xMin, xMax, yMin, yMax;
  /// The least spacing of the x ticks (1: whole numbers only).
  double minXSpacing = 0;
  int plotW() const { return width - left - right; }
  int plotH() const { return height - top - bottom; }
  int px(double x) const {
    return left + int(std::lround((std::clamp(x, xMin, xMax) - xMin) / (xMax - xMin) * plotW()));
  }
  int py(double y) const {
    return top + int(std::lround((yMax - std::clamp(y, yMin, yMax)) / (yMax - yMin) * plotH()));
  }
  /// Grid lines, tick labels, the axes and their titles.
  void draw(Canvas &canvas, const std::string &xTitle, const std::string &yTitle) const {
    double ys = tickSpacing(yMax - yMin), xs = std::max(minXSpacing, tickSpacing(xMax - xMin));
    for (double y = std::ceil(yMin / ys) * ys; y <= yMax; y += ys) {
      canvas.line(left, py(y), width - right, py(y), 230);
      std::string text = label(y, ys);
      canvas.text(left - 8 - canvas.measure(text, 2), py(y) - 5, text, 2);
    }
    for (double x = std::ceil(xMin / xs) * xs; x <= xMax; x += xs) {
      canvas.line(px(x), top + plotH(), px(x), top + plotH() + 5, 0);
      std::string text = label(x, xs);
      canvas.text(px(x) - canvas.measure(text, 2) / 2, top + plotH() + 12, text, 2);
    }
    canvas.line(left, top, left, top + plotH(), 0);
    canvas.line(left, top + plotH(), width - right, top + plotH(), 0);
    canvas.text(left + plotW() / 2 - canvas.measure(xTitle, 2) / 2, height - 18, xTitle, 2);
    canvas.text(8, 10, yTitle, 2);
  }
};

/// Ten distinguishable colours (Tableau's), for labels and clusters.
Colour paletteColour(size_t i) {
  static const Colour kPalette[] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return kPalette[i % 10];
}

/// How a legend entry shows its series: a filled box (bars, groups), a few
/// dots, a line, or a line through a square (a series of points joined).
enum class Swatch { Box, Dots, Line, LineAndSquare };

struct LegendEntry {
  Colour colour;
  std::string name;
  Swatch swatch = Swatch::Box;
};

/// A legend in the top right corner: a swatch drawn as its series is, and a
/// name, per line.
void legend(Canvas &canvas, const Frame &frame, const std::vector<LegendEntry> &entries) {
  int widest = 0;
  for (const LegendEntry &entry : entries)
    widest = std::max(widest, canvas.measure(entry.name, 2));
  int x = frame.width - frame.right - widest - 36, y = frame.top + 6;
  canvas.box(x - 6, y - 6, frame.width - frame.right - 2, y + int(entries.size()) * 16, 255);
  for (const LegendEntry &entry : entries) {
    uint8_t level = entry.colour.r; // (the line series are grey)
    switch (entry.swatch) {
    case Swatch::Box:
      canvas.box(x, y, x + 10, y + 9, entry.colour);
      break;
    case Swatch::Dots:
      for (int dx = 0; dx <= 14; dx += 3)
        canvas.dot(x + dx, y + 4 + (dx % 2 ? -2 : 2), level);
      break;
    case Swatch::Line:
    case Swatch::LineAndSquare:
      canvas.line(x, y + 4, x + 16, y + 4, level);
      if (entry.swatch == Swatch::LineAndSquare)
        canvas.box(x + 5, y + 1, x + 11, y + 7, level);
      break;
    }
    canvas.text(x + 24, y, entry.name, 2);
    y += 16;
  }
}

/// Every grid of images (samples, reconstructions, traversals) is drawn
/// alike: 10 columns, each pixel 3 x 3, so that pictures side by side show
/// images at one size.
constexpr uint32_t kGridColumns = 10, kGridScale = 3;

/// What is written around a grid: a caption above it, a label left of each
/// row (cycled: "INPUT", "RECONSTRUCTION"), a label above each column.
struct GridLabels {
  std::string caption;
  std::vector<std::string> rows, columns;
};

/// `images` (each side x side) tiled `columns` wide, each pixel drawn
/// kGridScale x kGridScale, with `labels` around them, into a PNG.
bool writeGrid(const vae_model &d, const std::string &path,
               const std::vector<std::vector<float>> &images, uint32_t side, uint32_t columns,
               std::string &error, const GridLabels &labels = {}) {
  uint32_t width, height;
  // A discrete likelihood's data are its integers 0 ... bins - 1.
  float white = d.likelihood_bins > 0 ? float(d.likelihood_bins - 1) : 1.0f;
  std::vector<std::vector<float>> unit = images;
  for (auto &image : unit)
    for (float &v : image)
      v /= white;
  std::vector<uint8_t> tiles = tileImages(unit, side, columns, width, height);
  const int scale = int(kGridScale), border = 2, line = 16, cell = int(side) + border;
  Canvas sizer(1, 1);
  int left = 0;
  for (const std::string &label : labels.rows)
    left = std::max(left, sizer.measure(label, 2) + 16);
  int top = (labels.caption.empty() ? 0 : line + 8) + (labels.columns.empty() ? 0 : line);
  int captionWidth = labels.caption.empty() ? 0 : sizer.measure(labels.caption, 2) + 16;
  Canvas canvas(std::max(left + int(width) * scale, captionWidth), top + int(height) * scale);
  for (int y = 0; y < int(height) * scale; ++y)
    for (int x = 0; x < int(width) * scale; ++x) {
      uint8_t level = tiles[size_t(y / scale) * width + size_t(x / scale)];
      canvas.paint(left + x, top + y, {level, level, level});
    }
  if (!labels.caption.empty())
    canvas.text(8, 8, labels.caption, 2);
  int centre = (border + int(side) / 2) * scale; // of the first cell
  for (size_t c = 0; c < labels.columns.size() && c < columns; ++c)
    canvas.text(left + centre + int(c) * cell * scale - canvas.measure(labels.columns[c], 2) / 2,
                top - line + 2, labels.columns[c], 2);
  uint32_t rows = uint32_t((images.size() + columns - 1) / columns);
  for (uint32_t r = 0; r < rows && !labels.rows.empty(); ++r)
    canvas.text(8, top + centre + int(r) * cell * scale - 5, labels.rows[r % labels.rows.size()],
                2);
  return canvas.save(path, error);
}

} // namespace

std::pair<size_t, size_t> vae::largestKlDimensions(const vae_model &d, const std::vector<float> &mu,
                                                   const std::vector<float> &logvar, size_t count) {
  size_t latent = size_t(d.latent_size);
  std::vector<double> kl(latent, 0.0);
  double var0 = d.prior_std * d.prior_std;
  for (size_t i = 0; i < count; ++i)
    for (size_t j = 0; j < latent; ++j) {
      double m = mu[i * latent + j] - d.prior_mean, lv = logvar[i * latent + j];
      kl[j] += 0.5 * ((std::exp(lv) + m * m) / var0 - 1 - lv + std::log(var0));
    }
  std::vector<size_t> order(latent);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return kl[a] > kl[b]; });
  return {order[0], latent > 1 ? order[1] : order[0]};
}

bool vae::writeScoreHistogram(const std::string &path, const std::vector<double> &scores,
                              const std::vector<bool> &anomaly, const std::string &normalName,
                              const std::string &title, std::string &error) {
  // Bins over the 0.5 % to 99.5 % range of all scores (the tails clamped
  // into the end bins), each group as its fraction per bin: the groups
  // differ in size.
  std::vector<double> sorted = scores;
  std::sort(sorted.begin(), sorted.end());
  double lo = sorted[size_t(0.005 * double(sorted.size() - 1))];
  double hi = sorted[size_t(0.995 * double(sorted.size() - 1))];
  if (!(hi > lo))
    hi = lo + 1;
  const size_t bins = 40;
  std::vector<double> counts[2] = {std::vector<double>(bins), std::vector<double>(bins)};
  double totals[2] = {0, 0};
  for (size_t i = 0; i < scores.size(); ++i) {
    size_t bin = size_t(std::clamp((scores[i] - lo) / (hi - lo) * bins, 0.0, double(bins - 1)));
    counts[anomaly[i]][bin] += 1;
    totals[anomaly[i]] += 1;
  }
  double top = 0;
  for (int g = 0; g < 2; ++g)
    for (double &c : counts[g]) {
      c /= std::max(1.0, totals[g]);
      top = std::max(top, c);
    }
  Frame frame;
  frame.width = 720;
  frame.height = 420;
  frame.xMin = lo;
  frame.xMax = hi;
  frame.yMin = 0;
  frame.yMax = top * 1.15;
  Canvas canvas(frame.width, frame.height);
  frame.draw(canvas, "-ELBO (NATS)", "FRACTION OF EACH GROUP");
  const Colour colours[2] = {paletteColour(0), paletteColour(1)};
  // Side by side in each bin: normal on the left, anomalies on the right.
  for (size_t b = 0; b < bins; ++b)
    for (int g = 0; g < 2; ++g) {
      double x0 = lo + (hi - lo) * double(b) / bins;
      int left = frame.px(x0), right = frame.px(x0 + (hi - lo) / bins);
      int mid = (left + right) / 2;
      if (counts[g][b] > 0)
        canvas.box(g ? mid : left + 1, frame.py(counts[g][b]), g ? right - 1 : mid, frame.py(0) - 1,
                   colours[g]);
    }
  legend(canvas, frame,
         {{colours[0], fmt::format("NORMAL {}: {}", normalName, size_t(totals[0]))},
          {colours[1], fmt::format("ANOMALIES: {}", size_t(totals[1]))}});
  canvas.text(frame.width / 2 - canvas.measure(title, 2) / 2, 10, title, 2);
  return canvas.save(path, error);
}

bool vae::writeLatentScatter(const std::string &path, const std::vector<float> &mu, size_t count,
                             size_t latent, std::pair<size_t, size_t> dims,
                             const std::vector<int32_t> &groups, const std::string &title,
                             std::string &error) {
  auto [a, b] = dims;
  Frame frame;
  frame.width = 640;
  frame.height = 600;
  frame.right = 130;
  frame.xMin = frame.yMin = INFINITY;
  frame.xMax = frame.yMax = -INFINITY;
  for (size_t i = 0; i < count; ++i) {
    frame.xMin = std::min(frame.xMin, double(mu[i * latent + a]));
    frame.xMax = std::max(frame.xMax, double(mu[i * latent + a]));
    frame.yMin = std::min(frame.yMin, double(mu[i * latent + b]));
    frame.yMax = std::max(frame.yMax, double(mu[i * latent + b]));
  }
  double padX = std::max(1e-3, 0.04 * (frame.xMax - frame.xMin));
  double padY = std::max(1e-3, 0.04 * (frame.yMax - frame.yMin));
  frame.xMin -= padX;
  frame.xMax += padX;
  frame.yMin -= padY;
  frame.yMax += padY;
  Canvas canvas(frame.width, frame.height);
  frame.draw(canvas, fmt::format("MEAN OF LATENT {}", a), fmt::format("MEAN OF LATENT {}", b));
  std::vector<int32_t> names = groups;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  auto colourOf = [&](int32_t group) {
    return paletteColour(
        size_t(std::lower_bound(names.begin(), names.end(), group) - names.begin()));
  };
  for (size_t i = 0; i < count; ++i) {
    int x = frame.px(mu[i * latent + a]), y = frame.py(mu[i * latent + b]);
    canvas.box(x - 1, y - 1, x + 1, y + 1, // 3 x 3: visible at any size
               groups.empty() ? Colour{0, 0, 0} : colourOf(groups[i]));
  }
  // The legend beside the frame.
  int y = frame.top;
  canvas.text(frame.width - frame.right + 12, y, title, 2);
  for (int32_t name : names) {
    y += 16;
    canvas.box(frame.width - frame.right + 12, y, frame.width - frame.right + 22, y + 9,
               colourOf(name));
    canvas.text(frame.width - frame.right + 30, y, std::to_string(name), 2);
    if (y > frame.height - 40)
      break;
  }
  return canvas.save(path, error);
}

bool vae::writeSamples(const Model &model, const float *params, void *arena, uint64_t seed,
                       size_t count, const std::string &dir, std::string &error) {
  const vae_model &d = model.desc();
  std::vector<std::vector<float>> samples = priorSamples(model, params, arena, seed, count);
  std::vector<float> flat;
  flat.reserve(count * size_t(d.input_size));
  for (const auto &sample : samples)
    flat.insert(flat.end(), sample.begin(), sample.end());
  std::vector<size_t> shape{count};
  shape.insert(shape.end(), d.input_shape, d.input_shape + d.input_rank);
  std::string npy = xt::dump_npy(xt::adapt(flat, shape));
  std::string path = dir + "/samples.npy";
  if (!writeAtomically(path, [&](std::ostream &out) { out << npy; }, error))
    return false;
  fmt::print("wrote {} (float32 [{}]: the decoder's means at {} draws from the prior)\n", path,
             fmt::join(shape, ", "), count);
  uint32_t side = squareSide(d);
  if (!side)
    return true;
  samples.resize(std::min<size_t>(count, 200));
  if (!writeGrid(d, dir + "/samples.png", samples, side, kGridColumns, error,
                 {"DECODER MEANS AT DRAWS FROM THE PRIOR", {}, {}}))
    return false;
  fmt::print("wrote {}/samples.png (the first {})\n", dir, samples.size());
  return true;
}

uint32_t vae::squareSide(const vae_model &d) {
  uint32_t side = uint32_t(std::lround(std::sqrt(double(d.input_size))));
  return uint64_t(side) * side == uint64_t(d.input_size) ? side : 0;
}

bool vae::writeReconstructions(const Model &model, const float *params, void *arena,
                               const Dataset &test, size_t count, const std::string &path,
                               std::string &error) {
  const vae_model &d = model.desc();
  uint32_t side = squareSide(d);
  size_t batch = size_t(d.batch), latent = size_t(d.latent_size);
  count = std::min(count, test.count);
  // Pairs of rows: up to 10 test images, their reconstructions below.
  const size_t columns = std::min<size_t>(count, kGridColumns);
  std::vector<std::vector<float>> grid;
  std::vector<float> x(batch * test.size), mu(batch * latent), logvar(mu.size());
  std::vector<uint32_t> rows(batch);
  for (size_t first = 0; first < count; first += columns) {
    size_t n = std::min(columns, count - first);
    std::iota(rows.begin(), rows.begin() + long(n), uint32_t(first));
    gather(test, rows.data(), n, x);
    model.encode(params, arena, x.data(), mu.data(), logvar.data());
    for (size_t i = 0; i < columns; ++i) // (a short last row: blank)
      grid.push_back(i < n ? std::vector<float>(x.begin() + long(i * test.size),
                                                x.begin() + long((i + 1) * test.size))
                           : std::vector<float>(test.size, 0.0f));
    std::vector<std::vector<float>> decoded = decodeMeans(model, params, arena, mu, n);
    decoded.resize(columns, std::vector<float>(test.size, 0.0f));
    grid.insert(grid.end(), decoded.begin(), decoded.end());
  }
  return writeGrid(d, path, grid, side, uint32_t(columns), error,
                   {"", {"INPUT", "RECONSTRUCTION"}, {}});
}

bool vae::writePictures(const Model &model, const float *params, void *arena, const Dataset &test,
                        uint64_t seed, const std::string &dir, std::string &error) {
  const vae_model &d = model.desc();
  if (!squareSide(d)) {
    fmt::print("no pictures: inputs of {} values are not square images\n", d.input_size);
    return true;
  }
  uint32_t side = squareSide(d);
  size_t latent = size_t(d.latent_size);
  if (!writeReconstructions(model, params, arena, test, kGridColumns, dir + "/reconstructions.png",
                            error))
    return false;

  // Samples: z ~ N(prior mean, prior std^2).
  if (!writeGrid(d, dir + "/samples.png", priorSamples(model, params, arena, seed, 60), side,
                 kGridColumns, error, {"DECODER MEANS AT DRAWS FROM THE PRIOR", {}, {}}))
    return false;

  // Traversal: rows walk dimension a, columns dimension b, from -2 to +2
  // prior standard deviations; a one-dimensional latent space walks once.
  auto [a, b] = mostInformativeDimensions(model, params, arena, test);
  const size_t steps = 10, rows = latent == 1 ? 1 : steps;
  auto at = [&](size_t i) {
    return float(d.prior_mean + d.prior_std * (-2.0 + 4.0 * double(i) / (steps - 1)));
  };
  std::vector<float> codes(rows * steps * latent, float(d.prior_mean));
  for (size_t row = 0; row < rows; ++row)
    for (size_t col = 0; col < steps; ++col) {
      float *code = &codes[(row * steps + col) * latent];
      code[a] = at(latent == 1 ? col : row);
      if (latent > 1)
        code[b] = at(col);
    }
  // Each column's (and row's) value in prior standard deviations.
  std::vector<std::string> values;
  for (size_t i = 0; i < steps; ++i)
    values.push_back(fmt::format("{:+.1f}", -2.0 + 4.0 * double(i) / (steps - 1)));
  GridLabels labels{
      latent == 1 ? fmt::format("LATENT {} FROM -2 TO +2 PRIOR SD", a)
                  : fmt::format("COLUMNS: LATENT {}  ROWS: LATENT {}  (-2 TO +2 PRIOR SD)", b, a),
      latent == 1 ? std::vector<std::string>{} : values, values};
  if (!writeGrid(d, dir + "/latent_traversal.png",
                 decodeMeans(model, params, arena, codes, rows * steps), side, uint32_t(steps),
                 error, labels))
    return false;
  fmt::print("pictures: {}/{{reconstructions,samples,latent_traversal}}.png (traversal of "
             "latent {})\n",
             dir, latent == 1 ? "dimension 0" : fmt::format("dimensions {} and {}", a, b));
  return true;
}

bool vae::writeLossCurve(const std::string &path, const LossHistory &history, std::string &error) {
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
  Frame frame;
  frame.width = 720;
  frame.height = 440;
  frame.xMin = 0;
  frame.xMax = 1;
  frame.yMin = INFINITY;
  frame.yMax = -INFINITY;
  frame.minXSpacing = 1; // whole epochs
  for (const auto *series : {&std::as_const(smooth), &history.test})
    for (auto [x, y] : *series) {
      frame.xMax = std::max(frame.xMax, x);
      frame.yMin = std::min(frame.yMin, y);
      frame.yMax = std::max(frame.yMax, y);
    }
  if (!(frame.yMin <= frame.yMax)) { // nothing to draw yet
    frame.yMin = 0;
    frame.yMax = 1;
  }
  // Room around the data: the last test point's square stays inside.
  double pad = std::max(1e-3, 0.05 * (frame.yMax - frame.yMin));
  frame.yMin -= pad;
  frame.yMax += 3 * pad; // (the legend)
  frame.xMax *= 1.03;
  Canvas canvas(frame.width, frame.height);
  frame.draw(canvas, "EPOCH", "-ELBO (NATS PER EXAMPLE)");
  auto px = [&](double x) { return frame.px(x); };
  auto py = [&](double y) { return frame.py(y); };
  // Each step as a dot where a moving average is drawn over them; with one
  // step per point the "average" is the series itself, drawn as the line.
  const uint8_t kStepLevel = 170, kMeanLevel = 90;
  if (window > 1)
    for (const auto &[x, y] : history.steps)
      canvas.dot(px(x), py(y), kStepLevel);
  for (size_t i = 1; i < smooth.size(); ++i)
    canvas.line(px(smooth[i - 1].first), py(smooth[i - 1].second), px(smooth[i].first),
                py(smooth[i].second), kMeanLevel);
  for (size_t i = 0; i < history.test.size(); ++i) {
    int x = px(history.test[i].first), y = py(history.test[i].second);
    if (i)
      canvas.line(px(history.test[i - 1].first), py(history.test[i - 1].second), x, y, 0);
    canvas.box(x - 3, y - 3, x + 3, y + 3, 0);
  }
  // (The swatches drawn as the series are: dots, line, line through squares.)
  std::vector<LegendEntry> entries;
  Colour step{kStepLevel, kStepLevel, kStepLevel}, mean{kMeanLevel, kMeanLevel, kMeanLevel};
  if (window > 1) {
    entries.push_back({step, "TRAIN, EACH STEP", Swatch::Dots});
    entries.push_back({mean, fmt::format("TRAIN, MEAN OF {} STEPS", window), Swatch::Line});
  } else {
    entries.push_back({mean, "TRAIN, EACH STEP", Swatch::Line});
  }
  entries.push_back({{0, 0, 0}, "TEST, EACH EPOCH", Swatch::LineAndSquare});
  legend(canvas, frame, entries);
  return canvas.save(path, error);
}

std::vector<std::vector<float>> vae::decoderMeans(const Model &model, const float *params,
                                                  void *arena, const std::vector<float> &z,
                                                  size_t count) {
  return decodeMeans(model, params, arena, z, count);
}

bool vae::writeImageGrid(const vae_model &d, const std::string &path,
                         const std::vector<std::vector<float>> &images, uint32_t columns,
                         const std::string &caption, std::string &error) {
  return writeGrid(d, path, images, squareSide(d), columns, error, {caption, {}, {}});
}
