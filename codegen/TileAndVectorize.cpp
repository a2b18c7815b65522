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

/// The register block along a dimension of `size`: 16 rows, or one 16-float
/// vector, when the size allows (tile sizes must divide the shapes, and
/// power-of-two vector widths are the fast ones).
int64_t registerBlock(int64_t size) {
  for (int64_t block : {16, 8, 4, 2})
    if (size % block == 0)
      return block;
  return 1;
}

/// The order of a matmul's M and N block loops: the one with more blocks
/// outside, where it is spread over the threads (more blocks, better
/// balance), and where the operand it slices is read once rather than once
/// per block of the other: for x·W with a 400- or 784-wide W, the n loop
/// goes outside, so each thread reads its half of W once and the K×16
/// column panel stays in L1/L2 while all 8 row blocks of x use it, instead
/// of streaming all of W (1.25 MB, more than L2) from L3 per row block.
SmallVector<int64_t> matmulBlockOrder(ArrayRef<int64_t> ranges) {
  int64_t mBlocks = ranges[0] / registerBlock(ranges[0]);
  int64_t nBlocks = ranges[1] / registerBlock(ranges[1]);
  if (nBlocks > mBlocks)
    return {1, 0};
  return {0, 1};
}

/// Tile sizes for `op`, one per loop, 0 meaning "not tiled".
SmallVector<int64_t> tileSizesFor(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op)) {
    // [M, N, K]: an mb x nb accumulator block per k step; 16 zmm registers
    // at most for the accumulators, the rest for operands.
    int64_t mb = registerBlock(ranges[0]);
    int64_t nb = registerBlock(ranges[1]);
    // A matmul tile fused into an epilogue's loop is one block already.
    return {mb == ranges[0] ? 0 : mb, nb == ranges[1] ? 0 : nb, 1};
  }
  // Any other contraction (a matmul on packed operands, say the k-major
  // panels [M/16][K][16] of x): the same register block, on the innermost
  // m and n dimensions; every other loop one step at a time.
  if (isa<linalg::GenericOp>(op) && linalg::isaContractionOpInterface(op)) {
    FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
    if (succeeded(dims) && !dims->m.empty() && !dims->n.empty()) {
      SmallVector<int64_t> sizes(ranges.size(), 1);
      sizes[dims->m.back()] = registerBlock(ranges[dims->m.back()]);
      sizes[dims->n.back()] = registerBlock(ranges[dims->n.back()]);
      return sizes;
    }
  }
  // A transpose (Wᵀ packed for dy·Wᵀ, see convert-vdl-to-linalg): 16x16
  // blocks, each a vector.transpose of a register block (16 row loads,
  // AVX-512 shuffles, 16 row stores) rather than a gather down a column.
  // (Of more dimensions, as when W is packed into [N/16][K][16] panels: the
  // same blocks on the last two, one step of the others.)
  if (isa<linalg::TransposeOp>(op) && ranges.size() >= 2) {
    SmallVector<int64_t> sizes(ranges.size(), 1);
    for (size_t d = ranges.size() - 2; d < ranges.size(); ++d)
      sizes[d] = registerBlock(ranges[d]);
    return sizes;
  }
  // A tile of a fused epilogue (at most one 16x16 register block): one
  // vector op, so that its reads of the accumulator fold away.
  int64_t elements = 1;
  for (int64_t range : ranges)
    elements *= range;
  if (!ranges.empty() && ranges.back() <= 16 && elements <= 256)
    return SmallVector<int64_t>(ranges.size(), 0);
  // Elementwise and reductions: one element of every outer loop, a vector of
  // the innermost.
  SmallVector<int64_t> sizes(ranges.size(), 1);
  if (!sizes.empty())
    sizes.back() = registerBlock(ranges.back());
  return sizes;
}

/// Elementwise ops smaller than this stay on one thread: a fork/join of
/// libomp costs about as much as a pass over 32K floats.
constexpr int64_t kMinParallelElements = 32768;

/// Whether the iterations of `op`'s outermost tile loop write disjoint parts
/// of every result (rows; for a matmul, row or column blocks), and there are
/// enough of them to be worth a fork/join.
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

/// The matmul whose whole result `op` reads elementwise, if `op` is an
/// all-parallel 2-D generic (an activation, or any elementwise epilogue):
/// tiled like the matmul, it can take the matmul's tile from registers.
linalg::LinalgOp epilogueProducer(linalg::GenericOp op) {
  if (op.getNumLoops() != 2 || op.getNumReductionLoops() != 0 || op.getNumDpsInits() != 1 ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
    return nullptr;
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto matmul = input->get().getDefiningOp<linalg::LinalgOp>();
    if (matmul && isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(matmul) &&
        op.getMatchingIndexingMap(input).isIdentity())
      return matmul;
  }
  return nullptr;
}

/// Tiles each matmul epilogue in the matmul's register blocks and fuses the
/// matmul and the bias broadcast (or zero fill) that initializes it into the
/// same loop nest: bias, k loop and activation then share one accumulator
/// block in registers. A matmul result with other users (the pre-activation
/// that an activation's derivative reads) is written from the same loop.
void fuseMatmulEpilogues(func::FuncOp func, IRRewriter &rewriter) {
  SmallVector<linalg::GenericOp> epilogues;
  func.walk([&](linalg::GenericOp op) {
    if (op.hasPureTensorSemantics() && epilogueProducer(op))
      epilogues.push_back(op);
  });
  for (linalg::GenericOp epilogue : epilogues) {
    // Asked again: an earlier fusion may have taken this matmul (a matmul
    // with two elementwise consumers is fused into the first one's loops).
    linalg::LinalgOp matmul = epilogueProducer(epilogue);
    if (!matmul)
      continue;
    SmallVector<int64_t> ranges = matmul.getStaticLoopRanges();
    if (llvm::is_contained(ranges, ShapedType::kDynamic))
      continue;
    Operation *consumer = epilogue;
    // The loop nest yields the matmul's result to its other users, so it
    // must come before them: move the epilogue up when its operands allow.
    Operation *firstOtherUser = nullptr;
    for (Operation *user : matmul->getUsers())
      if (user != consumer && user->getBlock() == consumer->getBlock() &&
          (!firstOtherUser || user->isBeforeInBlock(firstOtherUser)))
        firstOtherUser = user;
    bool sharedResult = llvm::any_of(matmul->getUsers(), [&](Operation *user) {
      return user != consumer;
    });
    if (firstOtherUser && firstOtherUser->isBeforeInBlock(consumer)) {
      bool movable = llvm::all_of(consumer->getOperands(), [&](Value operand) {
        Operation *def = operand.getDefiningOp();
        return !def || def->getBlock() != consumer->getBlock() ||
               def->isBeforeInBlock(firstOtherUser);
      });
      if (!movable)
        continue;
      consumer->moveBefore(firstOtherUser);
    }
    // The matmul's initial value (bias broadcast or zero fill) is fused only
    // when nothing else reads it. (Counted now: during fusion the original
    // matmul still uses it next to its tile.)
    Operation *init = matmul.getDpsInitOperand(0)->get().getDefiningOp();
    if (!init || !isa<linalg::BroadcastOp, linalg::FillOp>(init) ||
        !init->getResult(0).hasOneUse())
      init = nullptr;
    scf::SCFTileAndFuseOptions options;
    options.tilingOptions.setTileSizes(getAsIndexOpFoldResult(
        rewriter.getContext(), {registerBlock(ranges[0]), registerBlock(ranges[1])}));
    options.tilingOptions.setInterchange(matmulBlockOrder(ranges));
    options.setFusionControlFn([&](tensor::ExtractSliceOp, OpResult producer,
                                   bool) -> std::tuple<bool, bool> {
      Operation *op = producer.getOwner();
      if (op == matmul.getOperation())
        return {true, sharedResult};
      return {op == init, false};
    });
    rewriter.setInsertionPoint(epilogue);
    FailureOr<scf::SCFTileAndFuseResult> fused = scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, cast<TilingInterface>(consumer), options);
    if (failed(fused))
      continue; // the epilogue stays a kernel of its own
    for (auto [original, replacement] : fused->replacements)
      rewriter.replaceAllUsesWith(original, replacement);
    if (!fused->loops.empty())
      fused->loops.front()->setAttr(vaec::vdl::VDLDialect::kParallelAttrName,
                                    rewriter.getUnitAttr());
  }
}

/// Kernels as vdl-fusion counts them (linalg ops, each a loop nest once
/// lowered), a loop nest of fused linalg ops counting once.
int64_t countKernels(func::FuncOp func) {
  int64_t kernels = 0;
  for (Operation &op : func.getBody().front()) {
    WalkResult found = op.walk([](linalg::LinalgOp) { return WalkResult::interrupt(); });
    kernels += found.wasInterrupted();
  }
  return kernels;
}

struct TileAndVectorizePass
    : vaec::impl::TileAndVectorizeBase<TileAndVectorizePass> {
  using TileAndVectorizeBase::TileAndVectorizeBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    func::FuncOp func = getOperation();
    if (fuseEpilogues) {
      int64_t kernelsBefore = countKernels(func);
      fuseMatmulEpilogues(func, rewriter);
      // The fused producers and their slices are dead now: gone before the
      // count, and before tiling would tile them.
      if (failed(applyPatternsAndFoldGreedily(func, RewritePatternSet(&getContext()))))
        return signalPassFailure();
      // --stats: the graph-level numbers of vdl-fusion, then these.
      if (auto stats = func->getAttrOfType<DictionaryAttr>(vaec::vdl::VDLDialect::kFusionAttrName)) {
        NamedAttrList entries(stats);
        entries.set("kernels_before_epilogues", rewriter.getI64IntegerAttr(kernelsBefore));
        entries.set("kernels_after_epilogues", rewriter.getI64IntegerAttr(countKernels(func)));
        func->setAttr(vaec::vdl::VDLDialect::kFusionAttrName, entries.getDictionary(&getContext()));
      }
    }
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
          !llvm::is_contained(op.getStaticLoopRanges(), ShapedType::kDynamic))
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      SmallVector<int64_t> sizes = tileSizesFor(op);
      if (llvm::all_of(sizes, [](int64_t size) { return size == 0; })) {
        (void)linalg::vectorize(rewriter, op);
        continue;
      }
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), sizes));
      // The outermost tile loop: the one vdl-parallelize may spread.
      int64_t outerDim = 0;
      if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op) && sizes[0] != 0 &&
          sizes[1] != 0) {
        SmallVector<int64_t> order = matmulBlockOrder(op.getStaticLoopRanges());
        options.setInterchange({order[0], order[1], 2});
        outerDim = order[0];
      }
      auto tileable = dyn_cast<TilingInterface>(op.getOperation());
      if (!tileable)
        continue;
      // Each step of the outer tile loop writes its own rows (or, for a
      // matmul's n loop, columns) of the result: vdl-parallelize may spread
      // them over threads. Asked of `op` now: replaceOp below erases it.
      bool parallel = sizes[outerDim] != 0 && rowsAreIndependent(op);
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, tileable, options);
      if (failed(tiled))
        continue; // stays as it is: correct, only slower
      rewriter.replaceOp(op, tiled->replacements);
      if (parallel && !tiled->loops.empty())
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
