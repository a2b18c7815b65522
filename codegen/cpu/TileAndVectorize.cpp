//===- TileAndVectorize.cpp - the vdl-tile-and-vectorize pass -------------===//

#include "codegen/common/TargetDescription.h"
#include "codegen/cpu/Passes.h"
#include "ir/VDLDialect.h"

#include "llvm/Support/FormatVariadic.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace vaec {
#define GEN_PASS_DEF_TILEANDVECTORIZE
#include "codegen/cpu/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::RegisterBlock;
namespace vdl = vaec::vdl;

namespace {

/// A tile size for a dimension of `size` in blocks of `block`: 0 (not
/// tiled) when one block covers it.
int64_t tileOf(int64_t size, int64_t block) { return block >= size ? 0 : block; }

/// The register block of a matmul-like op with an M x N output: the
/// target's (vdl-tile-and-vectorize's register-rows/cols options override it).
RegisterBlock blockFor(vdl::TargetAttr target, int64_t m, int64_t n, RegisterBlock forced,
                       int64_t liveRows = 1) {
  RegisterBlock block = vaec::matmulRegisterBlock(target, m, n, liveRows);
  if (forced.rows > 0)
    block.rows = forced.rows;
  if (forced.cols > 0)
    block.cols = forced.cols;
  return block;
}

/// The K block of a matmul (linalg.matmul or matmul_transpose_a, loops
/// [M, N, K]) whose K x nb panels of B are deeper than fit L2 (panelDepth):
/// K cut into blocks of at most that depth; 0 when the panels fit.
/// Each block then sums into C: a K x nb panel of B is packed once per block
/// and serves every row block from L2, instead of streaming from memory once
/// per row block.
int64_t kBlockFor(linalg::LinalgOp op, vdl::TargetAttr target, RegisterBlock forced) {
  if (!isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op))
    return 0;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::is_contained(ranges, ShapedType::kDynamic))
    return 0;
  int64_t depth = vaec::panelDepth(target, blockFor(target, ranges[0], ranges[1], forced).cols);
  if (ranges[2] <= depth)
    return 0;
  // A depth that divides K, if one is at least half the most (no remainder
  // block, which would be a loop nest of its own); else equal blocks and a
  // shorter last one.
  for (int64_t kBlock = depth; 2 * kBlock >= depth; --kBlock)
    if (ranges[2] % kBlock == 0)
      return kBlock;
  return llvm::divideCeil(ranges[2], llvm::divideCeil(ranges[2], depth));
}

/// The order of a matmul's M and N block loops: the one that slices the
/// larger operand outside (N > M: B is K x N, A is M x K), where it is spread
/// over the threads and where each of its panels is read once and then
/// serves every block of the other loop from cache: for x·W with a 400- or
/// 784-wide W, the n loop goes outside, so each thread reads its half of W
/// once and each K x nb panel of W stays in L2 while every row block of x
/// uses it, instead of streaming all of W (1.25 MB, more than L2) from L3
/// once per row block.
SmallVector<int64_t> matmulBlockOrder(ArrayRef<int64_t> ranges) {
  if (ranges[1] > ranges[0])
    return {1, 0};
  return {0, 1};
}

/// Whether `op` is small enough to be one vector op as it is: a tile of a
/// fused epilogue (a register block, or its remainder at an edge), whose
/// reads of the accumulator then fold away.
bool isRegisterTile(linalg::LinalgOp op, vdl::TargetAttr target) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.empty())
    return false;
  int64_t elements = 1;
  for (int64_t range : ranges)
    elements *= range;
  int64_t lanes = target.getLanes(), last = ranges.back();
  bool vectorizable = last % lanes == 0 || llvm::isPowerOf2_64(uint64_t(last));
  return vectorizable && last <= 4 * lanes && elements <= target.getVectorRegisters() * lanes;
}

/// Tile sizes for `op`, one per loop, 0 meaning "not tiled". Sizes need not
/// divide the shapes: the remainders are peeled.
SmallVector<int64_t> tileSizesFor(linalg::LinalgOp op, vdl::TargetAttr target,
                                  RegisterBlock forced) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op)) {
    // [M, N, K]: a register block of accumulators per k step. A matmul tile
    // fused into an epilogue's loop is one block already.
    RegisterBlock block = blockFor(target, ranges[0], ranges[1], forced);
    return {tileOf(ranges[0], block.rows), tileOf(ranges[1], block.cols), 1};
  }
  // A direct convolution, loops (n, oh, ow, f, kh, kw, c): a register block
  // of output pixels along a row x output channels, one kh and one input
  // channel a step; each tile then decomposes into a 1-D convolution
  // (vectorizeTile) of kw FMAs per pixel on vectors of output channels, with
  // the kw filter rows of the step live beside the accumulators (14 x 32
  // blocks of a 1 x 2 kernel spilled on AVX-512: 2.3x the time of 2 x 1).
  if (isa<linalg::Conv2DNhwcHwcfOp>(op)) {
    RegisterBlock block = blockFor(target, ranges[2], ranges[3], forced, ranges[5]);
    return {1, 1, tileOf(ranges[2], block.rows), tileOf(ranges[3], block.cols), 1, 0, 1};
  }
  // Any other contraction (a matmul on packed operands, say the k-major
  // panels [M/16][K][16] of x): the same register block, on the innermost
  // m and n dimensions; every other loop one step at a time.
  if (isa<linalg::GenericOp>(op) && linalg::isaContractionOpInterface(op)) {
    FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
    if (succeeded(dims) && !dims->m.empty() && !dims->n.empty()) {
      int64_t m = dims->m.back(), n = dims->n.back();
      RegisterBlock block = blockFor(target, ranges[m], ranges[n], forced);
      SmallVector<int64_t> sizes(ranges.size(), 1);
      sizes[m] = tileOf(ranges[m], block.rows);
      sizes[n] = tileOf(ranges[n], block.cols);
      return sizes;
    }
  }
  // A transpose (Wᵀ packed for dy·Wᵀ, see convert-vdl-to-linalg): square
  // blocks of one vector register a row, each a vector.transpose of a
  // register block (row loads, shuffles, row stores) rather than a gather
  // down a column. (Of more dimensions, as when W is packed into
  // [N/16][K][16] panels: the same blocks on the last two, one step of the
  // others.)
  if (isa<linalg::TransposeOp>(op) && ranges.size() >= 2) {
    SmallVector<int64_t> sizes(ranges.size(), 1);
    for (size_t d = ranges.size() - 2; d < ranges.size(); ++d)
      sizes[d] = tileOf(ranges[d], vaec::vectorWidth(target, ranges[d]));
    return sizes;
  }
  if (isRegisterTile(op, target))
    return SmallVector<int64_t>(ranges.size(), 0);
  // Elementwise and reductions: one element of every outer loop, a vector of
  // the innermost. (Unit loops are not tiled: the outermost tile loop, the
  // one that may be spread over threads, is then one with steps to spread.)
  SmallVector<int64_t> sizes =
      llvm::map_to_vector(ranges, [](int64_t range) -> int64_t { return range == 1 ? 0 : 1; });
  if (!sizes.empty())
    sizes.back() = tileOf(ranges.back(), vaec::vectorWidth(target, ranges.back()));
  return sizes;
}

/// Vectorize tensor.extract of n-D indices (the gathers of convolutions,
/// see convert-vdl-to-linalg) into vector.gather, or loads where the
/// indices are contiguous.
constexpr bool kGathers = true;

/// A tile [1, .., 1, m, n] -> [1, .., 1, n, m] of a batched transpose (one
/// image's [C, H W] to [H W, C]) as the 2-D transpose it is: MLIR's vector
/// transpose lowering takes a 3-D vector.transpose element by element (256
/// extracts and inserts for 16 x 16), which made NCHW <-> NHWC copies as
/// slow as the convolutions between them; in 2-D it is 16-lane shuffles.
linalg::LinalgOp squareTranspose(IRRewriter &rewriter, linalg::TransposeOp transpose) {
  ArrayRef<int64_t> perm = transpose.getPermutation();
  int64_t rank = int64_t(perm.size());
  auto inputType = dyn_cast<RankedTensorType>(transpose.getInput().getType());
  if (rank <= 2 || !inputType || perm[rank - 2] != rank - 1 || perm[rank - 1] != rank - 2)
    return nullptr;
  for (int64_t d = 0; d < rank - 2; ++d)
    if (perm[d] != d || inputType.getDimSize(d) != 1)
      return nullptr;
  // Rank-reducing slices, not collapse_shape: a strided tile's unit
  // dimension does not collapse on memrefs, and bufferization then copied
  // each tile through a buffer of its own (shared by every iteration, which
  // kept vdl-parallelize off the loop).
  Location loc = transpose.getLoc();
  auto initType = cast<RankedTensorType>(transpose.getInit().getType());
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<OpFoldResult> zeros(rank, rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(rank, rewriter.getIndexAttr(1));
  auto square2d = [&](Value value, RankedTensorType type) {
    auto squareType = RankedTensorType::get(type.getShape().take_back(2), type.getElementType());
    return rewriter.create<tensor::ExtractSliceOp>(
        loc, squareType, value, zeros, getAsIndexOpFoldResult(ctx, type.getShape()), ones);
  };
  Value input = square2d(transpose.getInput(), inputType);
  Value init = square2d(transpose.getInit(), initType);
  auto square = rewriter.create<linalg::TransposeOp>(loc, input, init, ArrayRef<int64_t>{1, 0});
  rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
      transpose, square->getResult(0), transpose.getInit(), zeros,
      getAsIndexOpFoldResult(ctx, initType.getShape()), ones);
  return square;
}

/// Vectorizes one tile; a direct convolution's (a 2-D convolution of one
/// output row and one kernel row) first becomes the 1-D convolution that
/// MLIR's vectorizer takes.
void vectorizeTile(IRRewriter &rewriter, linalg::LinalgOp tile) {
  if (auto conv = dyn_cast<linalg::Conv2DNhwcHwcfOp>(tile.getOperation())) {
    PatternRewriter patternRewriter(tile.getContext());
    patternRewriter.setInsertionPoint(conv);
    linalg::DownscaleSizeOneWindowed2DConvolution<linalg::Conv2DNhwcHwcfOp, linalg::Conv1DNwcWcfOp>
        downscale(tile.getContext());
    FailureOr<linalg::Conv1DNwcWcfOp> conv1d =
        downscale.returningMatchAndRewrite(conv, patternRewriter);
    if (failed(conv1d))
      return; // stays a loop nest: correct, only slower
    tile = *conv1d;
    rewriter.setInsertionPoint(tile);
  }
  if (auto transpose = dyn_cast<linalg::TransposeOp>(tile.getOperation()))
    if (linalg::LinalgOp square = squareTranspose(rewriter, transpose))
      tile = square;
  (void)linalg::vectorize(rewriter, tile, {}, {}, kGathers);
}

/// Marks a tile that is vectorized once the function's remainders are folded
/// to static shapes.
constexpr llvm::StringLiteral kTileAttrName = "vdl.tile";

/// Peels the remainder iteration off every loop of a tile nest (outermost
/// first in `loops`) whose step does not divide its range. The remainder's
/// sizes become constants only once its single iteration is inlined into the
/// parent: the function-wide folding after tiling does that (folding inside
/// the loop cannot), and its tiles then have static shapes and vectorize.
void peelRemainders(RewriterBase &rewriter, ArrayRef<scf::ForOp> loops) {
  for (scf::ForOp loop : llvm::reverse(loops)) { // innermost first
    scf::ForOp remainder;
    (void)scf::peelForLoopAndSimplifyBounds(rewriter, loop, remainder);
  }
}

/// Unrolls each matmul k loop (an scf.for carrying a vector.contract's
/// accumulator) by two where the accumulators and two k steps' operands
/// (B's vectors and A's broadcasts) fit the vector registers: twice the
/// work per loop branch and address update. (Not where they do not: on
/// AVX2's 4x16 blocks the unrolled loop spilled.)
void unrollKLoops(func::FuncOp func, vdl::TargetAttr target) {
  SmallVector<scf::ForOp> kLoops;
  func.walk([&](scf::ForOp loop) {
    vector::ContractionOp contract;
    for (Value yielded : loop.getYieldedValues())
      if (auto op = yielded.getDefiningOp<vector::ContractionOp>())
        contract = op;
    if (!contract)
      return;
    auto accumulator = cast<VectorType>(contract.getAccType());
    int64_t cols = accumulator.getShape().back(), rows = accumulator.getNumElements() / cols;
    int64_t vectors = (cols + target.getLanes() - 1) / target.getLanes();
    if (rows * vectors + 2 * (vectors + vaec::broadcastRegisters(target, rows)) <=
        target.getVectorRegisters())
      kLoops.push_back(loop);
  });
  for (scf::ForOp loop : kLoops)
    (void)loopUnrollByFactor(loop, 2);
}

SmallVector<scf::ForOp> forLoops(ArrayRef<LoopLikeOpInterface> loops) {
  SmallVector<scf::ForOp> fors;
  for (LoopLikeOpInterface loop : loops)
    if (auto forOp = dyn_cast<scf::ForOp>(loop.getOperation()))
      fors.push_back(forOp);
  return fors;
}

/// Work smaller than this stays on one thread. A fork/join of libomp costs
/// about as much as a pass over 32K floats (elementwise ops), or 2^16
/// multiply-adds of a contraction (well under a microsecond of FMAs). Not
/// more: at batch 1 a 1 x 400 x 784 matmul reads 1.25 MB of weights, and
/// two cores read them faster than one (Zen 4, 2026-12-07: mnist_vae's
/// batch-1 encode 0.011 ms with its matmuls on two threads, 0.015-0.017 ms
/// with them on one).
constexpr int64_t kMinParallelElements = 32768;
constexpr int64_t kMinParallelMultiplyAdds = int64_t(1) << 16;

/// Whether `op` has enough work to be worth a fork/join: its iterations
/// (elements; multiply-adds of a contraction) against the thresholds above.
/// (Not the target's `threads`: a library runs with the threads of the
/// machine it runs on, as OMP_NUM_THREADS says.)
bool worthThreads(linalg::LinalgOp op) {
  int64_t iterations = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range))
      return true;
    iterations *= range;
  }
  // (Named ops only: isaContractionOpInterface also takes a likelihood's
  // sum of x * logits, an elementwise pass.)
  bool contraction = isa<linalg::ContractionOpInterface, linalg::ConvolutionOpInterface>(*op);
  return iterations >= (contraction ? kMinParallelMultiplyAdds : kMinParallelElements);
}

/// Whether the iterations of `op`'s outermost tile loop, over loop `outer`,
/// write disjoint parts of every result (rows; for a matmul, row or column
/// blocks), and there are enough of them to be worth a fork/join.
bool rowsAreIndependent(linalg::LinalgOp op, int64_t outer) {
  if (!worthThreads(op))
    return false;
  if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op))
    return true;
  if (outer >= op.getNumLoops() || !linalg::isParallelIterator(op.getIteratorTypesArray()[outer]))
    return false;
  AffineExpr dim = getAffineDimExpr(outer, op.getContext());
  for (OpOperand &init : op.getDpsInitsMutable())
    if (!llvm::is_contained(op.getMatchingIndexingMap(&init).getResults(), dim))
      return false;
  return true;
}

/// Why a contraction runs on one thread, for its remark.
std::string oneThreadWhy(linalg::LinalgOp op) {
  if (worthThreads(op))
    return "one thread";
  int64_t multiplyAdds = 1;
  for (int64_t range : op.getStaticLoopRanges())
    multiplyAdds *= range;
  return llvm::formatv("one thread ({0} multiply-adds, fewer than the {1} a fork/join is worth)",
                       multiplyAdds, kMinParallelMultiplyAdds);
}

/// vaec --remarks: a contraction's register block and threads, at its VDL
/// line.
void remarkTiling(linalg::LinalgOp op, ArrayRef<int64_t> sizes, bool parallel,
                  vdl::TargetAttr target, bool withEpilogue = false) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  std::string what, block;
  if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op)) {
    what = llvm::formatv("matmul {0} x {1} x {2} (M x N x K)", ranges[0], ranges[1], ranges[2]);
    block = llvm::formatv("{0} x {1}", sizes[0] ? sizes[0] : ranges[0],
                          sizes[1] ? sizes[1] : ranges[1]);
  } else if (isa<linalg::Conv2DNhwcHwcfOp>(op)) {
    what = llvm::formatv("direct convolution, {0} x {1} kernel", ranges[4], ranges[5]);
    block = llvm::formatv("{0} pixels x {1} channels", sizes[2] ? sizes[2] : ranges[2],
                          sizes[3] ? sizes[3] : ranges[3]);
  } else {
    return;
  }
  op->emitRemark()
      << what << ": register blocks of " << block << " (" << target.getCpu() << ": "
      << target.getVectorRegisters() << " registers of " << target.getLanes() << " lanes), "
      << (parallel && target.getThreads() > 1
              ? llvm::formatv("the block loop on {0} threads", target.getThreads()).str()
              : oneThreadWhy(op))
      << (withEpilogue ? "; its initial value and the elementwise op on its result fused "
                         "into the same register blocks"
                       : "");
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
void fuseMatmulEpilogues(func::FuncOp func, IRRewriter &rewriter, vdl::TargetAttr target,
                         RegisterBlock forced) {
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
    // A matmul cut into K blocks keeps its epilogue apart: the epilogue can
    // only run after the last block.
    if (llvm::is_contained(ranges, ShapedType::kDynamic) || kBlockFor(matmul, target, forced))
      continue;
    Operation *consumer = epilogue;
    // The loop nest yields the matmul's result to its other users, so it
    // must come before them: move the epilogue up when its operands allow.
    Operation *firstOtherUser = nullptr;
    for (Operation *user : matmul->getUsers())
      if (user != consumer && user->getBlock() == consumer->getBlock() &&
          (!firstOtherUser || user->isBeforeInBlock(firstOtherUser)))
        firstOtherUser = user;
    bool sharedResult =
        llvm::any_of(matmul->getUsers(), [&](Operation *user) { return user != consumer; });
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
    if (!init || !isa<linalg::BroadcastOp, linalg::FillOp>(init) || !init->getResult(0).hasOneUse())
      init = nullptr;
    RegisterBlock block = blockFor(target, ranges[0], ranges[1], forced);
    bool parallel = worthThreads(matmul);
    if (vaec::vdl::VDLDialect::remarksWanted(matmul))
      remarkTiling(matmul, {tileOf(ranges[0], block.rows), tileOf(ranges[1], block.cols), 1},
                   parallel, target, /*withEpilogue=*/true);
    scf::SCFTileAndFuseOptions options;
    options.tilingOptions.setTileSizes(getAsIndexOpFoldResult(
        rewriter.getContext(), {tileOf(ranges[0], block.rows), tileOf(ranges[1], block.cols)}));
    options.tilingOptions.setInterchange(matmulBlockOrder(ranges));
    options.setFusionControlFn(
        [&](tensor::ExtractSliceOp, OpResult producer, bool) -> std::tuple<bool, bool> {
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
    SmallVector<scf::ForOp> loops = forLoops(fused->loops);
    peelRemainders(rewriter, loops);
    if (parallel && !loops.empty())
      loops.front()->setAttr(vaec::vdl::VDLDialect::kParallelAttrName, rewriter.getUnitAttr());
  }
}

/// Cuts the K loop of every matmul with panels deeper than L2 holds
/// (kBlockFor) into a loop over K blocks, each a matmul of the same M x N
/// that adds into C, tiled into register blocks after this like any other.
LogicalResult cutKBlocks(func::FuncOp func, IRRewriter &rewriter, vdl::TargetAttr target,
                         RegisterBlock forced, const FrozenRewritePatternSet &folding) {
  SmallVector<std::pair<linalg::LinalgOp, int64_t>> deep;
  func.walk([&](linalg::LinalgOp op) {
    if (!op.hasPureTensorSemantics())
      return;
    if (int64_t kBlock = kBlockFor(op, target, forced))
      deep.push_back({op, kBlock});
  });
  if (deep.empty())
    return success();
  for (auto [op, kBlock] : deep) {
    rewriter.setInsertionPoint(op);
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), {0, 0, kBlock}));
    FailureOr<scf::SCFTilingResult> tiled =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      continue; // one K loop: correct, only slower
    rewriter.replaceOp(op, tiled->replacements);
    peelRemainders(rewriter, forLoops(tiled->loops));
  }
  // The blocks' matmuls get static shapes (the remainder's once its loop is
  // inlined) before they are tiled.
  return applyPatternsAndFoldGreedily(func, folding);
}

/// Whether `op` sums everything it reads into one scalar: all of its loops
/// reductions, a 0-d init, and a body that adds each term to the init's
/// value once (`yield addf(term, out)`), as reduce_sum and reduce_mean lower
/// with their producers fused in.
bool isFullSum(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 || op.getNumLoops() < 2 ||
      op.getNumReductionLoops() != op.getNumLoops() ||
      cast<ShapedType>(op.getDpsInitOperand(0)->get().getType()).getRank() != 0)
    return false;
  Block &body = op.getRegion().front();
  BlockArgument out = body.getArguments().back();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues().front().getDefiningOp<arith::AddFOp>();
  return add && out.hasOneUse() && (add.getLhs() == out || add.getRhs() == out);
}

/// Splits every full sum of two or more dimensions into partial sums along
/// its innermost dimension, then one sum of those: the partial sums are
/// vectors of the target's width added to elementwise, where one loop would
/// reduce each vector across its lanes (a shuffle tree per vector). The
/// squared norms of gradient clipping are such sums, 2.6 MB for mnist_vae.
///   sum_{i,j} f(x[i, j])  ->  p[j] = sum_i f(x[i, j]);  sum_j p[j]
void splitFullSums(func::FuncOp func, IRRewriter &rewriter, vdl::TargetAttr target) {
  SmallVector<linalg::GenericOp> sums;
  func.walk([&](linalg::GenericOp op) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (isFullSum(op) && !llvm::is_contained(ranges, ShapedType::kDynamic) &&
        ranges.back() >= target.getLanes())
      sums.push_back(op);
  });
  for (linalg::GenericOp op : sums) {
    rewriter.setInsertionPoint(op);
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    unsigned loops = op.getNumLoops();
    int64_t width = op.getStaticLoopRanges().back();
    Value init = op.getDpsInitOperand(0)->get();
    Type element = cast<ShapedType>(init.getType()).getElementType();
    auto partialType = RankedTensorType::get({width}, element);
    Value zero = rewriter.create<arith::ConstantOp>(loc, rewriter.getZeroAttr(element));
    Value empty = rewriter.create<tensor::EmptyOp>(loc, partialType.getShape(), element);
    Value filled = rewriter.create<linalg::FillOp>(loc, zero, empty).getResult(0);
    SmallVector<AffineMap> maps;
    for (OpOperand *input : op.getDpsInputOperands())
      maps.push_back(op.getMatchingIndexingMap(input));
    maps.push_back(AffineMap::get(loops, 0, getAffineDimExpr(loops - 1, ctx), ctx));
    SmallVector<utils::IteratorType> iterators(loops, utils::IteratorType::reduction);
    iterators.back() = utils::IteratorType::parallel;
    auto partial = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{partialType}, op.getDpsInputs(), ValueRange{filled}, maps, iterators);
    rewriter.cloneRegionBefore(op.getRegion(), partial.getRegion(), partial.getRegion().end());
    AffineMap row = AffineMap::get(1, 0, getAffineDimExpr(0, ctx), ctx);
    auto total = rewriter.create<linalg::GenericOp>(
        loc, op.getResultTypes(), partial.getResult(0), ValueRange{init},
        ArrayRef<AffineMap>{row, AffineMap::get(1, 0, {}, ctx)},
        ArrayRef<utils::IteratorType>{utils::IteratorType::reduction},
        [](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(l, b.create<arith::AddFOp>(l, args[0], args[1]).getResult());
        });
    rewriter.replaceOp(op, total.getResults());
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

struct TileAndVectorizePass : vaec::impl::TileAndVectorizeBase<TileAndVectorizePass> {
  using TileAndVectorizeBase::TileAndVectorizeBase;

  /// Canonicalization of every op the context knows, run after peeling: it
  /// inlines single-iteration remainder loops and turns the sizes that
  /// become constant into static shapes (affine.min, extract_slice, tensor.cast
  /// into linalg ops).
  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet patterns(context);
    for (Dialect *dialect : context->getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName op : context->getRegisteredOperations())
      op.getCanonicalizationPatterns(patterns, context);
    folding = FrozenRewritePatternSet(std::move(patterns));
    return success();
  }

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    func::FuncOp func = getOperation();
    vdl::TargetAttr target = vaec::targetOf(func);
    RegisterBlock forced{registerRows, registerCols};
    if (fuseEpilogues) {
      int64_t kernelsBefore = countKernels(func);
      fuseMatmulEpilogues(func, rewriter, target, forced);
      // The fused producers and their slices are dead now: gone before the
      // count, and before tiling would tile them; the remainder tiles get
      // static shapes.
      if (failed(applyPatternsAndFoldGreedily(func, folding)))
        return signalPassFailure();
      // --stats: the graph-level numbers of vdl-fusion, then these.
      if (auto stats =
              func->getAttrOfType<DictionaryAttr>(vaec::vdl::VDLDialect::kFusionAttrName)) {
        NamedAttrList entries(stats);
        entries.set("kernels_before_epilogues", rewriter.getI64IntegerAttr(kernelsBefore));
        entries.set("kernels_after_epilogues", rewriter.getI64IntegerAttr(countKernels(func)));
        func->setAttr(vaec::vdl::VDLDialect::kFusionAttrName, entries.getDictionary(&getContext()));
      }
    }
    if (failed(cutKBlocks(func, rewriter, target, forced, folding)))
      return signalPassFailure();
    splitFullSums(func, rewriter, target);
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
          !llvm::is_contained(op.getStaticLoopRanges(), ShapedType::kDynamic))
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      SmallVector<int64_t> sizes = tileSizesFor(op, target, forced);
      if (llvm::all_of(sizes, [](int64_t size) { return size == 0; })) {
        (void)linalg::vectorize(rewriter, op, {}, {}, kGathers);
        continue;
      }
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), sizes));
      // The outermost tile loop: the one vdl-parallelize may spread. (Loops
      // not tiled stay inside the tiles: a unit dimension in front, say.)
      int64_t outerDim =
          llvm::find_if(sizes, [](int64_t size) { return size != 0; }) - sizes.begin();
      if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op) && sizes[0] != 0 && sizes[1] != 0) {
        SmallVector<int64_t> order = matmulBlockOrder(op.getStaticLoopRanges());
        options.setInterchange({order[0], order[1], 2});
        outerDim = order[0];
      } else if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op) && sizes[0] == 0) {
        // One block of rows (9 of im2col's taps): the column loop is the
        // outer one, and as independent.
        outerDim = 1;
      }
      auto tileable = dyn_cast<TilingInterface>(op.getOperation());
      if (!tileable)
        continue;
      // Each step of the outer tile loop writes its own rows (or, for a
      // matmul's n loop, columns) of the result: vdl-parallelize may spread
      // them over threads. Asked of `op` now: replaceOp below erases it.
      bool parallel = sizes[outerDim] != 0 && rowsAreIndependent(op, outerDim);
      // (Not for the tiles of a matmul already tiled with its epilogue.)
      if (vaec::vdl::VDLDialect::remarksWanted(op) && !op->getParentOfType<scf::ForOp>())
        remarkTiling(op, sizes, parallel, target);
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(rewriter, tileable, options);
      if (failed(tiled))
        continue; // stays as it is: correct, only slower
      for (Operation *tile : tiled->tiledOps)
        tile->setAttr(kTileAttrName, rewriter.getUnitAttr());
      rewriter.replaceOp(op, tiled->replacements);
      SmallVector<scf::ForOp> loops = forLoops(tiled->loops);
      peelRemainders(rewriter, loops);
      // (Marked after peeling: the remainder, one iteration, stays serial.)
      if (parallel && !loops.empty())
        loops.front()->setAttr(vaec::vdl::VDLDialect::kParallelAttrName, rewriter.getUnitAttr());
    }
    if (failed(applyPatternsAndFoldGreedily(func, folding)))
      return signalPassFailure();
    SmallVector<linalg::LinalgOp> tiles;
    func.walk([&](linalg::LinalgOp tile) {
      if (tile->removeAttr(kTileAttrName))
        tiles.push_back(tile);
    });
    for (linalg::LinalgOp tile : tiles) {
      rewriter.setInsertionPoint(tile);
      vectorizeTile(rewriter, tile);
    }
    // A vectorized matmul tile is broadcast + mulf + multi_reduction over an
    // mb x nb x 1 iteration space: folded into vector.contract it lowers to
    // mb FMAs on vector<nb x f32>. Left alone, the canonicalizer drops the unit
    // reduction and the 3-D mulf is unrolled into 256 scalar multiplies that
    // LLVM's SLP vectorizer has to put back together (slowly).
    // The operands' broadcasts hide in the transfer_reads' permutation maps:
    // made explicit, they fold into the contraction's indexing maps.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    // A sum over a unit dimension (one batch row a step of a bias gradient's
    // partial sums, vector<1x1x16> into vector<1x16>) as the add it is:
    // lowered as a reduction it was an extract and an insert per lane.
    vector::MultiDimReductionOp::getCanonicalizationPatterns(patterns, &getContext());
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
    unrollKLoops(func, target);
  }

  FrozenRewritePatternSet folding;
};

} // namespace
