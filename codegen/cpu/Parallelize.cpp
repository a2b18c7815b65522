//===- Parallelize.cpp - the vdl-parallelize pass -------------------------===//
//
// scf.for {vdl.parallel} -> scf.parallel, for convert-scf-to-openmp.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"
#include "ir/VDLDialect.h"

namespace vaec {
#define GEN_PASS_DEF_PARALLELIZE
#include "codegen/cpu/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::vdl::VDLDialect;

namespace {

/// Whether an iteration of `loop` writes a buffer defined outside the loop
/// rather than a view of its own tile (made inside from the induction
/// variable): a temporary that bufferization made where it could not write
/// in place (an edge tile) sits at one arena offset, hoisted out of the
/// loop, and every thread would write it.
bool writesSharedBuffer(scf::ForOp loop) {
  WalkResult found = loop.getBody()->walk([&](MemoryEffectOpInterface op) {
    SmallVector<MemoryEffects::EffectInstance> effects;
    op.getEffects(effects);
    for (const MemoryEffects::EffectInstance &effect : effects) {
      Value buffer = effect.getValue();
      if (!isa<MemoryEffects::Write>(effect.getEffect()) || !buffer)
        continue;
      Operation *owner = buffer.getDefiningOp();
      if (!owner)
        owner = cast<BlockArgument>(buffer).getOwner()->getParentOp();
      if (!loop->isAncestor(owner) || owner == loop.getOperation())
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found.wasInterrupted();
}

struct ParallelizePass : vaec::impl::ParallelizeBase<ParallelizePass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) {
      if (loop->hasAttr(VDLDialect::kParallelAttrName))
        loops.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : loops) {
      // On buffers a tile loop carries nothing; one that does is not ours.
      // Nor is one whose iterations would share a temporary (fuzz seed 2021:
      // a 7x3 edge tile's temporary at one arena offset, raced on by both
      // threads): it stays serial, correct and slower.
      if (loop.getNumRegionIterArgs() != 0 || loop->getParentOfType<scf::ParallelOp>() ||
          writesSharedBuffer(loop)) {
        loop->removeAttr(VDLDialect::kParallelAttrName);
        continue;
      }
      rewriter.setInsertionPoint(loop);
      auto parallel = rewriter.create<scf::ParallelOp>(
          loop.getLoc(), ValueRange{loop.getLowerBound()}, ValueRange{loop.getUpperBound()},
          ValueRange{loop.getStep()});
      Block *body = parallel.getBody();
      rewriter.eraseOp(body->getTerminator()); // the builder's scf.reduce
      rewriter.mergeBlocks(loop.getBody(), body, body->getArguments());
      // scf.yield -> scf.reduce, the terminator of scf.parallel.
      rewriter.setInsertionPoint(body->getTerminator());
      rewriter.replaceOpWithNewOp<scf::ReduceOp>(body->getTerminator());
      rewriter.eraseOp(loop);
    }
  }
};

} // namespace
