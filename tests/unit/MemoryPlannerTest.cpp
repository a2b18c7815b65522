//===- MemoryPlannerTest.cpp - the arena planner on synthetic intervals ---===//

#include "passes/memref/MemoryPlanner.h"

#include <catch2/catch.hpp>

#include <random>

using namespace vaec;

namespace {

int64_t aligned(int64_t bytes) { return (std::max<int64_t>(bytes, 1) + 63) / 64 * 64; }

/// Every pair of buffers live at the same time occupies disjoint bytes, every
/// offset is aligned, and the arena holds every buffer.
void requireSound(const std::vector<BufferInterval> &buffers, const ArenaPlan &plan) {
  REQUIRE(plan.offsets.size() == buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    REQUIRE(plan.offsets[i] % 64 == 0);
    REQUIRE(plan.offsets[i] + aligned(buffers[i].bytes) <= plan.arenaBytes);
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      bool together = buffers[i].first <= buffers[j].last && buffers[j].first <= buffers[i].last;
      bool apart = plan.offsets[i] + aligned(buffers[i].bytes) <= plan.offsets[j] ||
                   plan.offsets[j] + aligned(buffers[j].bytes) <= plan.offsets[i];
      INFO("buffers " << i << " and " << j);
      REQUIRE((!together || apart));
    }
  }
  REQUIRE(plan.lowerBound <= plan.arenaBytes);
  REQUIRE(plan.arenaBytes <= plan.noReuseBytes);
}

} // namespace

TEST_CASE("the planner never overlaps live buffers (random interval sets)", "[planner]") {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<BufferInterval> buffers(size_t(1 + rng() % 40));
    for (BufferInterval &b : buffers) {
      b.bytes = int64_t(rng() % 5000);
      b.first = int64_t(rng() % 60);
      b.last = b.first + int64_t(rng() % 20);
    }
    ArenaPlan plan = planArena(buffers, 64);
    requireSound(buffers, plan);
    ArenaPlan naive = planArena(buffers, 64, /*reuse=*/false);
    requireSound(buffers, naive);
    CHECK(naive.arenaBytes == naive.noReuseBytes);
    CHECK(plan.lowerBound == naive.lowerBound);
  }
}

TEST_CASE("the planner is optimal where the optimum is known", "[planner]") {
  SECTION("disjoint in time: one buffer's worth, the largest") {
    std::vector<BufferInterval> buffers{{1000, 0, 0}, {64, 1, 1}, {4096, 2, 2}, {640, 3, 3}};
    ArenaPlan plan = planArena(buffers, 64);
    CHECK(plan.arenaBytes == 4096);
    CHECK(plan.lowerBound == 4096);
    CHECK(plan.noReuseBytes == 1024 + 64 + 4096 + 640);
  }
  SECTION("all live together: the sum") {
    std::vector<BufferInterval> buffers{{100, 0, 5}, {200, 1, 4}, {300, 2, 3}};
    ArenaPlan plan = planArena(buffers, 64);
    CHECK(plan.arenaBytes == 128 + 256 + 320);
    CHECK(plan.lowerBound == plan.arenaBytes);
  }
  SECTION("a chain of equal buffers (each overlaps the next): two places") {
    std::vector<BufferInterval> buffers;
    for (int i = 0; i < 10; ++i)
      buffers.push_back({256, i, i + 1});
    ArenaPlan plan = planArena(buffers, 64);
    requireSound(buffers, plan);
    CHECK(plan.lowerBound == 512);
    CHECK(plan.arenaBytes == 512);
  }
  SECTION("a chain of unequal buffers: sound, within the heuristic's reach") {
    // Placement is NP-hard in general; best fit needs 384 bytes here where
    // 320 (the lower bound) is possible. The test pins the behaviour.
    std::vector<BufferInterval> buffers;
    for (int i = 0; i < 10; ++i)
      buffers.push_back({64 * (1 + i % 3), i, i + 1});
    ArenaPlan plan = planArena(buffers, 64);
    requireSound(buffers, plan);
    CHECK(plan.lowerBound == 320);
    CHECK(plan.arenaBytes == 384);
  }
  SECTION("a training step's shape: activations kept for the backward pass") {
    // Forward activations a0..a3 live until their backward use; gradients
    // g3..g0 live briefly. The peak is all activations plus one gradient.
    std::vector<BufferInterval> buffers;
    for (int i = 0; i < 4; ++i)
      buffers.push_back({4096, i, 8 - i});
    for (int i = 0; i < 4; ++i)
      buffers.push_back({1024, 5 + i, 6 + i});
    ArenaPlan plan = planArena(buffers, 64);
    requireSound(buffers, plan);
    CHECK(plan.arenaBytes == plan.lowerBound);
  }
  SECTION("zero-byte buffers still get an aligned place") {
    ArenaPlan plan = planArena({{0, 0, 0}, {0, 0, 0}}, 64);
    CHECK(plan.arenaBytes == 128);
    CHECK(plan.offsets[0] != plan.offsets[1]);
  }
  SECTION("nothing to place") {
    ArenaPlan plan = planArena({}, 64);
    CHECK(plan.arenaBytes == 0);
    CHECK(plan.lowerBound == 0);
  }
}

TEST_CASE("best fit takes the smallest gap that holds the buffer", "[planner]") {
  // Placed first (largest): A [0, 512) during 0-10; then B [512, 640) 0-2 and
  // C 640+ 0-10; when B is dead, the 128-byte D (3-10) fits B's gap exactly.
  std::vector<BufferInterval> buffers{{512, 0, 10}, {128, 0, 2}, {256, 0, 10}, {128, 3, 10}};
  ArenaPlan plan = planArena(buffers, 64);
  requireSound(buffers, plan);
  CHECK(plan.offsets[3] == plan.offsets[1]);
  CHECK(plan.arenaBytes == 512 + 128 + 256);
}
