//===- Parallelize.cpp - the vdl-parallelize pass -------------------------===//
//
// scf.for {vdl.parallel} -> scf.parallel, for convert-scf-to-openmp.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "ir/VDLDialect.h"

namespace vaec {
#define GEN_PASS_DEF_PARALLELIZE
#include "codegen/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::vdl::VDLDialect;

namespace {

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
      if (loop.getNumRegionIterArgs() != 0 ||
          loop->getParentOfType<scf::ParallelOp>()) {
        loop->removeAttr(VDLDialect::kParallelAttrName);
        continue;
      }
      rewriter.setInsertionPoint(loop);
      auto parallel = rewriter.create<scf::ParallelOp>(
          loop.getLoc(), ValueRange{loop.getLowerBound()},
          ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
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
