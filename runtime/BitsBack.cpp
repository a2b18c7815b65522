//===- BitsBack.cpp - lossless compression with a trained VAE -------------===//

#include "runtime/BitsBack.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

using namespace vae;

namespace {

/// The standard normal CDF.
double normalCdf(double t) { return 0.5 * std::erfc(-t * M_SQRT1_2); }

/// Standard normal quantiles at i / 2^bits, i = 0 ... 2^bits (the ends
/// infinite), by bisection on normalCdf: computed once per process and
/// precision, the same way on both sides of a code.
const std::vector<double> &normalQuantiles(unsigned bits) {
  static std::mutex lock;
  static std::map<unsigned, std::vector<double>> tables;
  std::lock_guard<std::mutex> guard(lock);
  std::vector<double> &table = tables[bits];
  if (!table.empty())
    return table;
  size_t n = size_t{1} << bits;
  table.resize(n + 1);
  table[0] = -INFINITY;
  table[n] = INFINITY;
  for (size_t i = 1; i < n; ++i) {
    double p = double(i) / double(n), lo = -40, hi = 40;
    for (int step = 0; step < 100 && lo < hi; ++step) {
      double mid = 0.5 * (lo + hi);
      if (mid == lo || mid == hi)
        break;
      (normalCdf(mid) < p ? lo : hi) = mid;
    }
    table[i] = 0.5 * (lo + hi);
  }
  return table;
}

/// The frequency of 1 under a Bernoulli with logit `logit`, at `precision`
/// bits: in [1, 2^precision - 1], so that both values stay codable.
uint32_t bernoulliOne(float logit, unsigned precision) {
  double total = double(uint64_t{1} << precision);
  double one = std::nearbyint(total / (1.0 + std::exp(-double(logit))));
  if (std::isnan(one)) // (a NaN logit: any fixed choice will do)
    one = total / 2;
  return uint32_t(std::clamp(one, 1.0, total - 1.0));
}

} // namespace

unsigned vae::codedSymbols(const vae_model &model, std::string &why) {
  switch (model.likelihood) {
  case VAE_LIKELIHOOD_BERNOULLI:
    return 2;
  case VAE_LIKELIHOOD_DISCRETIZED_LOGISTIC:
    return unsigned(model.likelihood_bins);
  case VAE_LIKELIHOOD_GAUSSIAN:
  case VAE_LIKELIHOOD_GAUSSIAN_FIXED:
    why = "a Gaussian likelihood is a density over real numbers: it gives no value a "
          "probability, so it codes nothing exactly (compress needs a Bernoulli model for 0/1 "
          "data)";
    return 0;
  default:
    why = "its likelihood (" + std::to_string(model.likelihood) + ") is unknown to this runtime";
    return 0;
  }
}

BitsBackCoder::BitsBackCoder(const Model &model, const float *params, void *arena,
                             BitsBackPrecisions precisions)
    : model(model), params(params), arena(arena), precisions(precisions),
      batch(size_t(model.desc().batch)), latent(size_t(model.desc().latent_size)),
      size(size_t(model.desc().input_size)),
      bernoulli(model.desc().likelihood == VAE_LIKELIHOOD_BERNOULLI),
      levels(bernoulli ? 2 : unsigned(model.desc().likelihood_bins)),
      quantiles(normalQuantiles(precisions.latent + 1)), x(batch * size), mu(batch * latent),
      logvar(batch * latent), z(batch * latent), out0(batch * size), out1(batch * size),
      buckets(batch * latent) {}

uint32_t BitsBackCoder::posteriorCdf(uint32_t k, double mean, double sd) const {
  uint32_t buckets = uint32_t{1} << precisions.latent;
  if (k == 0)
    return 0;
  if (k == buckets)
    return uint32_t{1} << precisions.posterior;
  // Each bucket gets 1 and a share of the rest by its mass under q.
  double spare = double((uint64_t{1} << precisions.posterior) - buckets);
  double mass = normalCdf((quantiles[2 * size_t(k)] - mean) / sd);
  if (std::isnan(mass)) // (an edge at the mean of a zero-width q)
    mass = 0.5;
  return k + uint32_t(std::min(std::floor(mass * spare), spare));
}

void BitsBackCoder::posteriorStep(std::vector<AnsStack> &stacks, size_t active, bool pop) {
  const vae_model &d = model.desc();
  uint32_t count = uint32_t{1} << precisions.latent;
  for (size_t lane = 0; lane < active; ++lane) {
    AnsStack &stack = stacks[lane];
    for (size_t i = 0; i < latent; ++i) {
      // Compress pops dimensions first to last; decompress pushes them back
      // last to first.
      size_t j = pop ? i : latent - 1 - i;
      size_t at = lane * latent + j;
      double mean = (double(mu[at]) - d.prior_mean) / d.prior_std;
      double sd = std::exp(0.5 * double(logvar[at])) / d.prior_std;
      if (pop) {
        uint32_t target = stack.peek(precisions.posterior), lo = 0, hi = count;
        while (hi - lo > 1) { // the bucket whose interval holds `target`
          uint32_t mid = lo + (hi - lo) / 2;
          (posteriorCdf(mid, mean, sd) <= target ? lo : hi) = mid;
        }
        buckets[at] = lo;
      }
      uint32_t k = buckets[at];
      uint32_t start = posteriorCdf(k, mean, sd), end = posteriorCdf(k + 1, mean, sd);
      if (pop)
        stack.pop(start, end - start, precisions.posterior);
      else
        stack.push(start, end - start, precisions.posterior);
    }
  }
}

uint32_t BitsBackCoder::likelihoodCdf(size_t at, uint32_t k) const {
  uint32_t bins = levels, total = uint32_t{1} << precisions.likelihood;
  if (k == 0)
    return 0;
  if (k == bins)
    return total;
  // The logistic's mass below bin k's lower edge, on [-1, 1] (see
  // vdl.discretized_logistic_log_prob); every bin at least 1.
  double h = 1.0 / double(bins - 1), edge = 2.0 * h * double(k) - 1.0 - h;
  double x = std::exp(-double(out1[at])) * (edge - double(out0[at]));
  double below = 1.0 / (1.0 + std::exp(-x));
  if (std::isnan(below))
    below = 0.5;
  double spare = double(total - bins);
  return k + uint32_t(std::min(std::floor(below * spare), spare));
}

void BitsBackCoder::pushExample(AnsStack &stack, size_t lane, const uint8_t *symbols) {
  unsigned p = precisions.likelihood;
  uint32_t total = uint32_t{1} << p;
  for (size_t j = 0; j < size; ++j) {
    size_t at = lane * size + j;
    if (bernoulli) {
      uint32_t one = bernoulliOne(out0[at], p), zero = total - one;
      if (symbols[j])
        stack.push(zero, one, p);
      else
        stack.push(0, zero, p);
    } else {
      uint32_t start = likelihoodCdf(at, symbols[j]), end = likelihoodCdf(at, symbols[j] + 1u);
      stack.push(start, end - start, p);
    }
  }
}

void BitsBackCoder::popExample(AnsStack &stack, size_t lane, uint8_t *symbols) {
  unsigned p = precisions.likelihood;
  uint32_t total = uint32_t{1} << p;
  for (size_t j = size; j-- > 0;) {
    size_t at = lane * size + j;
    uint32_t target = stack.peek(p);
    if (bernoulli) {
      uint32_t one = bernoulliOne(out0[at], p), zero = total - one;
      symbols[j] = target >= zero;
      if (symbols[j])
        stack.pop(zero, one, p);
      else
        stack.pop(0, zero, p);
    } else {
      uint32_t lo = 0, hi = levels;
      while (hi - lo > 1) { // the value whose interval holds `target`
        uint32_t mid = lo + (hi - lo) / 2;
        (likelihoodCdf(at, mid) <= target ? lo : hi) = mid;
      }
      uint32_t start = likelihoodCdf(at, lo), end = likelihoodCdf(at, lo + 1);
      symbols[j] = uint8_t(lo);
      stack.pop(start, end - start, p);
    }
  }
}

void BitsBackCoder::setInputs(const uint8_t *symbols, size_t active) {
  std::fill(x.begin(), x.end(), 0.0f);
  for (size_t i = 0; i < active * size; ++i)
    x[i] = float(symbols[i]);
}

void BitsBackCoder::setLatents(size_t active) {
  const vae_model &d = model.desc();
  std::fill(z.begin(), z.end(), 0.0f);
  for (size_t i = 0; i < active * latent; ++i)
    z[i] = float(d.prior_mean + d.prior_std * quantiles[2 * size_t(buckets[i]) + 1]);
}

void BitsBackCoder::compress(const uint8_t *symbols, size_t count, std::vector<AnsStack> &stacks) {
  unsigned p = precisions.latent;
  for (size_t first = 0; first < count; first += batch) {
    size_t active = std::min(batch, count - first);
    const uint8_t *round = symbols + first * size;
    setInputs(round, active);
    model.encode(params, arena, x.data(), mu.data(), logvar.data());
    posteriorStep(stacks, active, /*pop=*/true);
    setLatents(active);
    model.decode(params, arena, z.data(), out0.data(), out1.data());
    for (size_t lane = 0; lane < active; ++lane) {
      pushExample(stacks[lane], lane, round + lane * size);
      for (size_t j = 0; j < latent; ++j) // the prior: uniform over the buckets
        stacks[lane].push(buckets[lane * latent + j], 1, p);
    }
  }
}

bool BitsBackCoder::decompress(std::vector<AnsStack> &stacks, size_t count, uint8_t *symbols) {
  unsigned p = precisions.latent;
  size_t rounds = (count + batch - 1) / batch;
  for (size_t r = rounds; r-- > 0;) {
    size_t first = r * batch, active = std::min(batch, count - first);
    uint8_t *round = symbols + first * size;
    for (size_t lane = 0; lane < active; ++lane)
      for (size_t j = latent; j-- > 0;) {
        uint32_t k = stacks[lane].peek(p);
        stacks[lane].pop(k, 1, p);
        buckets[lane * latent + j] = k;
      }
    setLatents(active);
    model.decode(params, arena, z.data(), out0.data(), out1.data());
    for (size_t lane = 0; lane < active; ++lane)
      popExample(stacks[lane], lane, round + lane * size);
    setInputs(round, active);
    model.encode(params, arena, x.data(), mu.data(), logvar.data());
    posteriorStep(stacks, active, /*pop=*/false);
  }
  return std::none_of(stacks.begin(), stacks.end(),
                      [](const AnsStack &s) { return s.exhausted(); });
}
