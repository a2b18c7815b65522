//===- AnalysisTest.cpp - AUROC, k-means, purity and NMI ------------------===//

#include "runtime/Analysis.h"

#include "vae/philox.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace vae;

TEST_CASE("AUROC is the chance that an anomaly outscores a normal example", "[analysis]") {
  CHECK(auroc({1, 2, 3, 4}, {false, false, true, true}) == 1.0);
  CHECK(auroc({4, 3, 2, 1}, {false, false, true, true}) == 0.0);
  CHECK(auroc({1, 1, 1, 1}, {false, true, false, true}) == 0.5); // ties count one half
  // Pairs (anomaly, normal): 3 > 1, 3 > 2, 3 < 4 -> 2 of 3.
  CHECK(auroc({1, 3, 2, 4}, {false, true, false, false}) == Approx(2.0 / 3.0));
  CHECK(std::isnan(auroc({1, 2}, {false, false}))); // no anomalies: undefined
}

namespace {

/// `perCluster` points around each of `k` centers far apart in `dim`
/// dimensions, labelled by their center; Philox noise of standard
/// deviation `spread`.
void separableClusters(size_t k, size_t perCluster, size_t dim, double spread,
                       std::vector<float> &points, std::vector<int32_t> &labels) {
  for (size_t c = 0; c < k; ++c)
    for (size_t i = 0; i < perCluster; ++i) {
      for (size_t j = 0; j < dim; ++j) {
        PhiloxCounter w = philox4x32_10({uint32_t(i), uint32_t(j), uint32_t(c), 9}, {1, 2});
        double u1 = (double(w[0]) + 1) / 4294967297.0, u2 = double(w[1]) / 4294967296.0;
        double noise = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
        double center = 10.0 * double((c * 7 + j * 3) % 5) + (j == c % dim ? 20.0 : 0.0);
        points.push_back(float(center + spread * noise));
      }
      labels.push_back(int32_t(c));
    }
}

} // namespace

TEST_CASE("k-means++ recovers separable clusters", "[analysis]") {
  std::vector<float> points;
  std::vector<int32_t> labels;
  separableClusters(5, 200, 4, 1.0, points, labels);
  Clusters clusters = kmeans(points, labels.size(), 4, 5, 42);
  REQUIRE(clusters.assignment.size() == labels.size());
  CHECK(normalizedMutualInformation(clusters.assignment, labels) > 0.99);
  CHECK(purity(clusters.assignment, labels) > 0.99);
  // Seeded: the same clusters again.
  CHECK(kmeans(points, labels.size(), 4, 5, 42).assignment == clusters.assignment);
  // Too few clusters: purity falls, NMI stays below 1.
  Clusters two = kmeans(points, labels.size(), 4, 2, 42);
  CHECK(purity(two.assignment, labels) < 0.7);
  CHECK(normalizedMutualInformation(two.assignment, labels) < 0.9);
}

TEST_CASE("NMI is 1 for a relabelling and near 0 for independent labels", "[analysis]") {
  std::vector<int32_t> labels;
  std::vector<uint32_t> renamed, independent;
  for (uint32_t i = 0; i < 1000; ++i) {
    labels.push_back(int32_t(i % 4));
    renamed.push_back((i % 4 + 1) % 4 * 10);
    independent.push_back(philox4x32_10({i, 0, 0, 0}, {3, 4})[0] % 4);
  }
  CHECK(normalizedMutualInformation(renamed, labels) == Approx(1.0));
  CHECK(purity(renamed, labels) == 1.0);
  CHECK(normalizedMutualInformation(independent, labels) < 0.02);
  CHECK(purity(independent, labels) < 0.35);
}
