//===- MemoryPlanner.h - offsets in one arena for live intervals -*- C++ -*-===//
//
// The algorithm of vdl-memory-plan, free of MLIR so that it is unit-tested
// on synthetic interval sets (tests/unit/MemoryPlannerTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_PASSES_MEMORYPLANNER_H
#define VAEC_PASSES_MEMORYPLANNER_H

#include <cstdint>
#include <vector>

namespace vaec {

/// A temporary buffer: its size and the positions (in a function's schedule)
/// of its first and last use, both inclusive.
struct BufferInterval {
  int64_t bytes = 0;
  int64_t first = 0, last = 0;
};

struct ArenaPlan {
  std::vector<int64_t> offsets; ///< per buffer, multiples of the alignment
  int64_t arenaBytes = 0;       ///< what the plan needs
  int64_t lowerBound = 0;       ///< peak of simultaneously live (aligned) bytes
  int64_t noReuseBytes = 0;     ///< every buffer in a place of its own
};

/// Buffers whose intervals intersect get disjoint [offset, offset + bytes)
/// ranges; others may share memory. With `reuse`, the decreasing-size
/// best-fit heap of XLA's heap simulator: buffers by decreasing size, each
/// into the smallest gap left by the buffers live at the same time, or above
/// them all. Without, one after another (the no-reuse layout).
ArenaPlan planArena(const std::vector<BufferInterval> &buffers, int64_t alignment,
                    bool reuse = true);

} // namespace vaec

#endif // VAEC_PASSES_MEMORYPLANNER_H
