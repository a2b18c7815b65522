//===- MemoryPlanner.cpp - offsets in one arena for live intervals --------===//

#include "passes/memref/MemoryPlanner.h"

#include <algorithm>
#include <map>
#include <numeric>

using namespace vaec;

namespace {

int64_t alignUp(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

bool overlapInTime(const BufferInterval &a, const BufferInterval &b) {
  return a.first <= b.last && b.first <= a.last;
}

} // namespace

ArenaPlan vaec::planArena(const std::vector<BufferInterval> &buffers, int64_t alignment,
                          bool reuse) {
  ArenaPlan plan;
  size_t n = buffers.size();
  plan.offsets.assign(n, 0);
  std::vector<int64_t> sizes(n);
  for (size_t i = 0; i < n; ++i) {
    sizes[i] = alignUp(std::max<int64_t>(buffers[i].bytes, 1), alignment);
    plan.offsets[i] = plan.noReuseBytes;
    plan.noReuseBytes += sizes[i];
  }

  // Lower bound: a sweep over the interval ends.
  std::map<int64_t, int64_t> delta;
  for (size_t i = 0; i < n; ++i) {
    delta[buffers[i].first] += sizes[i];
    delta[buffers[i].last + 1] -= sizes[i];
  }
  int64_t live = 0;
  for (auto [position, change] : delta)
    plan.lowerBound = std::max(plan.lowerBound, live += change);

  if (!reuse) {
    plan.arenaBytes = plan.noReuseBytes;
    return plan;
  }

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (sizes[a] != sizes[b])
      return sizes[a] > sizes[b];
    return buffers[a].first < buffers[b].first;
  });
  std::vector<size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> busy; // [begin, end) in bytes
  for (size_t i : order) {
    busy.clear();
    for (size_t j : placed)
      if (overlapInTime(buffers[i], buffers[j]))
        busy.push_back({plan.offsets[j], plan.offsets[j] + sizes[j]});
    std::sort(busy.begin(), busy.end());
    // The smallest gap between busy ranges that holds the buffer; above
    // them all if none does.
    int64_t cursor = 0, bestOffset = -1, bestGap = INT64_MAX;
    for (auto [begin, end] : busy) {
      int64_t gap = begin - cursor;
      if (gap >= sizes[i] && gap < bestGap) {
        bestGap = gap;
        bestOffset = cursor;
      }
      cursor = std::max(cursor, end);
    }
    plan.offsets[i] = bestOffset >= 0 ? bestOffset : cursor;
    plan.arenaBytes = std::max(plan.arenaBytes, plan.offsets[i] + sizes[i]);
    placed.push_back(i);
  }
  return plan;
}
