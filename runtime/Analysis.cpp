//===- Analysis.cpp - anomaly scores and latent clusters ------------------===//

#include "runtime/Analysis.h"

#include "vae/philox.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

using namespace vae;

double vae::auroc(const std::vector<double> &score, const std::vector<bool> &anomaly) {
  std::vector<size_t> order(score.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  // Sum of the anomalies' ranks (1-based; tied scores share their mean rank).
  double rankSum = 0, anomalies = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && score[order[j]] == score[order[i]])
      ++j;
    double meanRank = 0.5 * double(i + 1 + j);
    for (size_t t = i; t < j; ++t)
      if (anomaly[order[t]]) {
        rankSum += meanRank;
        anomalies += 1;
      }
    i = j;
  }
  double normals = double(score.size()) - anomalies;
  if (anomalies == 0 || normals == 0)
    return std::numeric_limits<double>::quiet_NaN();
  return (rankSum - anomalies * (anomalies + 1) / 2) / (anomalies * normals);
}

namespace {

double squaredDistance(const float *a, const float *b, size_t dim) {
  double sum = 0;
  for (size_t j = 0; j < dim; ++j) {
    double d = double(a[j]) - double(b[j]);
    sum += d * d;
  }
  return sum;
}

/// Uniform doubles in [0, 1) from Philox: draw `i` of restart `restart`.
double uniform(uint64_t seed, uint32_t restart, uint32_t i) {
  PhiloxCounter w =
      philox4x32_10({i, restart, 0, 0x6b6d65u /* "kme" */}, {uint32_t(seed), uint32_t(seed >> 32)});
  return (double(w[0] >> 5) * 67108864.0 + double(w[1] >> 6)) * 0x1p-53;
}

/// k-means++: the first center uniformly, each next one with probability
/// proportional to the squared distance to the nearest center so far.
std::vector<float> seedCenters(const std::vector<float> &points, size_t count, size_t dim, size_t k,
                               uint64_t seed, uint32_t restart) {
  std::vector<float> centers;
  std::vector<double> nearest(count, std::numeric_limits<double>::infinity());
  uint32_t draw = 0;
  size_t chosen = std::min(count - 1, size_t(uniform(seed, restart, draw++) * double(count)));
  for (size_t c = 0; c < k; ++c) {
    centers.insert(centers.end(), points.begin() + long(chosen * dim),
                   points.begin() + long((chosen + 1) * dim));
    double total = 0;
    for (size_t i = 0; i < count; ++i) {
      nearest[i] = std::min(nearest[i], squaredDistance(&points[i * dim], &centers[c * dim], dim));
      total += nearest[i];
    }
    if (total == 0) // fewer distinct points than clusters: repeat one
      continue;
    double target = uniform(seed, restart, draw++) * total;
    for (chosen = 0; chosen + 1 < count && (target -= nearest[chosen]) >= 0; ++chosen) {
    }
  }
  return centers;
}

} // namespace

Clusters vae::kmeans(const std::vector<float> &points, size_t count, size_t dim, size_t k,
                     uint64_t seed, size_t restarts, size_t maxIterations) {
  Clusters best;
  best.inertia = std::numeric_limits<double>::infinity();
  if (count == 0 || k == 0)
    return best;
  k = std::min(k, count);
  for (uint32_t restart = 0; restart < restarts; ++restart) {
    Clusters run;
    run.centers = seedCenters(points, count, dim, k, seed, restart);
    run.assignment.assign(count, uint32_t(k)); // none yet
    std::vector<double> sums(k * dim);
    std::vector<size_t> sizes(k);
    for (bool moved = true; moved && run.iterations < maxIterations; ++run.iterations) {
      moved = false;
      run.inertia = 0;
      for (size_t i = 0; i < count; ++i) {
        uint32_t nearest = 0;
        double distance = std::numeric_limits<double>::infinity();
        for (uint32_t c = 0; c < k; ++c)
          if (double d = squaredDistance(&points[i * dim], &run.centers[c * dim], dim);
              d < distance) {
            distance = d;
            nearest = c;
          }
        moved |= run.assignment[i] != nearest;
        run.assignment[i] = nearest;
        run.inertia += distance;
      }
      std::fill(sums.begin(), sums.end(), 0.0);
      std::fill(sizes.begin(), sizes.end(), 0);
      for (size_t i = 0; i < count; ++i) {
        ++sizes[run.assignment[i]];
        for (size_t j = 0; j < dim; ++j)
          sums[run.assignment[i] * dim + j] += points[i * dim + j];
      }
      for (size_t c = 0; c < k; ++c)
        if (sizes[c]) // (an emptied cluster keeps its center)
          for (size_t j = 0; j < dim; ++j)
            run.centers[c * dim + j] = float(sums[c * dim + j] / double(sizes[c]));
    }
    if (run.inertia < best.inertia)
      best = std::move(run);
  }
  return best;
}

namespace {

/// Counts of (cluster, label) pairs, and of each side alone.
struct Contingency {
  std::map<std::pair<uint32_t, int32_t>, double> joint;
  std::map<uint32_t, double> clusters;
  std::map<int32_t, double> labels;
  double total = 0;
  Contingency(const std::vector<uint32_t> &assignment, const std::vector<int32_t> &labels_) {
    for (size_t i = 0; i < assignment.size() && i < labels_.size(); ++i) {
      joint[{assignment[i], labels_[i]}] += 1;
      clusters[assignment[i]] += 1;
      labels[labels_[i]] += 1;
      total += 1;
    }
  }
};

template <typename Map> double entropy(const Map &counts, double total) {
  double h = 0;
  for (const auto &[key, n] : counts)
    h -= n / total * std::log(n / total);
  return h;
}

} // namespace

double vae::purity(const std::vector<uint32_t> &assignment, const std::vector<int32_t> &labels) {
  Contingency table(assignment, labels);
  std::map<uint32_t, double> largest;
  for (const auto &[key, n] : table.joint)
    largest[key.first] = std::max(largest[key.first], n);
  double agreeing = 0;
  for (const auto &[cluster, n] : largest)
    agreeing += n;
  return table.total ? agreeing / table.total : 0;
}

double vae::normalizedMutualInformation(const std::vector<uint32_t> &assignment,
                                        const std::vector<int32_t> &labels) {
  Contingency table(assignment, labels);
  double mutual = 0, n = table.total;
  for (const auto &[key, count] : table.joint)
    mutual +=
        count / n * std::log(count * n / (table.clusters[key.first] * table.labels[key.second]));
  double mean = 0.5 * (entropy(table.clusters, n) + entropy(table.labels, n));
  return mean > 0 ? std::max(0.0, mutual / mean) : 1.0;
}
