//===- Analysis.h - anomaly scores and latent clusters ----------*- C++ -*-===//
//
// What `vae-train score --auroc` and `vae-train encode --kmeans` compute from
// a trained model's outputs: the area under the ROC curve of an anomaly
// score, k-means on posterior means, and how well clusters match labels.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_ANALYSIS_H
#define VAE_RUNTIME_ANALYSIS_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vae {

/// The probability that an anomaly scores higher than a normal example
/// (ties count one half): the area under the ROC curve of `score` as a
/// detector of `anomaly`. 0.5 is chance, 1 a perfect detector. Computed
/// from ranks (Mann-Whitney U), O(n log n).
double auroc(const std::vector<double> &score, const std::vector<bool> &anomaly);

/// A clustering of `count` points.
struct Clusters {
  std::vector<uint32_t> assignment; ///< the cluster of each point
  std::vector<float> centers;       ///< k x dim
  double inertia = 0;               ///< sum of squared distances to the centers
  size_t iterations = 0;            ///< Lloyd iterations of the best restart
};

/// k-means on the rows of `points` (count x dim): k-means++ seeding (Arthur
/// and Vassilvitskii 2007) drawn from Philox with `seed`, then Lloyd
/// iterations until no point moves (at most `maxIterations`); the best of
/// `restarts` seedings by inertia. The same seed gives the same clusters.
Clusters kmeans(const std::vector<float> &points, size_t count, size_t dim, size_t k, uint64_t seed,
                size_t restarts = 10, size_t maxIterations = 300);

/// The fraction of points whose cluster's most frequent label is their own.
double purity(const std::vector<uint32_t> &assignment, const std::vector<int32_t> &labels);

/// Normalized mutual information of two labellings: I(A; B) divided by the
/// mean of H(A) and H(B) (scikit-learn's default, "arithmetic"); 1 when one
/// determines the other, near 0 when they are independent.
double normalizedMutualInformation(const std::vector<uint32_t> &assignment,
                                   const std::vector<int32_t> &labels);

} // namespace vae

#endif // VAE_RUNTIME_ANALYSIS_H
