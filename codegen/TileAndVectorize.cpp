//===- TileAndVectorize.cpp - the vdl-tile-and-vectorize pass -------------===//

#include "codegen/Passes.h"
#include "ir/VDLDialect.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace vaec {
#define GEN_PASS_DEF_TILEANDVECTORIZE
#include "codegen/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// The largest of `candidates` (descending) that divides `size`.
int64_t largestDivisor(int64_t size, std::initializer_list<int64_t> candidates) {
  for (int64_t c : candidates)
    if (size % c == 0)
      return c;
  return 1;
}

/// Tile sizes for `op`, one per loop, 0 meaning "not tiled".
SmallVector<int64_t> tileSizesFor(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op)) {
    // [M, N, K]: an mb x nb accumulator block per k step; 16 zmm registers
    // at most for the accumulators, the rest for operands.
    int64_t mb = largestDivisor(ranges[0], {16, 8, 4, 2, 1});
    int64_t nb = largestDivisor(ranges[1], {16, 8, 4, 2, 1});
    return {mb, nb, 1};
  }
  // Elementwise and reductions: one element of every outer loop, a vector of
  // the innermost.
  SmallVector<int64_t> sizes(ranges.size(), 1);
  if (!sizes.empty())
    sizes.back() = largestDivisor(ranges.back(), {16, 8, 4, 2, 1});
  return sizes;
}

/// Elementwise ops smaller than this stay on one thread: a fork/join of
/// libomp costs about as much as a pass over 32K floats.
constexpr int64_t kMinParallelElements = 32768;

/// Whether the iterations of `op`'s outermost loop write disjoint rows of
/// every result, and there are enough of them to be worth a fork/join.
bool rowsAreIndependent(linalg::LinalgOp op) {
  if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op))
    return true;
  if (op.getNumLoops() == 0 || !linalg::isParallelIterator(op.getIteratorTypesArray()[0]))
    return false;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    if (map.getNumResults() == 0 || map.getResult(0) != getAffineDimExpr(0, op.getContext()))
      return false;
  }
  int64_t elements = 1;
  for (int64_t range : op.getStaticLoopRanges())
    elements *= range;
  return elements >= kMinParallelElements;
}

struct TileAndVectorizePass
    : vaec::impl::TileAndVectorizeBase<TileAndVectorizePass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
          !llvm::is_contained(op.getStaticLoopRanges(), ShapedType::kDynamic))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), tileSizesFor(op)));
      auto tileable = dyn_cast<TilingInterface>(op.getOperation());
      if (!tileable)
        continue;
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, tileable, options);
      if (failed(tiled))
        continue; // stays as it is: correct, only slower
      rewriter.replaceOp(op, tiled->replacements);
      // Each step of the outer tile loop writes its own rows of the result:
      // vdl-parallelize may spread them over threads.
      if (!tiled->loops.empty() && rowsAreIndependent(op))
        tiled->loops.front()->setAttr(vaec::vdl::VDLDialect::kParallelAttrName, rewriter.getUnitAttr());
      for (Operation *tile : tiled->tiledOps)
        if (isa<linalg::LinalgOp>(tile))
          (void)linalg::vectorize(rewriter, tile);
    }
    // A vectorized matmul tile is broadcast + mulf + multi_reduction over a
    // 16x16x1 iteration space: folded into vector.contract it lowers to 16
    // FMAs on vector<16xf32>. Left alone, the canonicalizer drops the unit
    // reduction and the 3-D mulf is unrolled into 256 scalar multiplies that
    // LLVM's SLP vectorizer has to put back together (slowly).
    // The operands' broadcasts hide in the transfer_reads' permutation maps:
    // made explicit, they fold into the contraction's indexing maps.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // The accumulator tile of a matmul is the same slice in every step of
    // its k loop: hoisted on tensors (after bufferization the tiles are views
    // of the arena, which MLIR's memref hoisting refuses), it becomes a
    // vector loop-carried in registers, read once and written once.
    getOperation().walk([&](scf::ForOp loop) { // innermost first
      moveLoopInvariantCode(loop);
      (void)hoistLoopInvariantSubsets(rewriter, loop);
    });
  }
};

} // namespace
