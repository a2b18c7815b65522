//===- LowerVectors.cpp - the vdl-lower-vectors pass ----------------------===//

#include "codegen/common/TargetDescription.h"
#include "codegen/cpu/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vaec {
#define GEN_PASS_DEF_LOWERVECTORS
#include "codegen/cpu/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// As vdl-tile-and-vectorize: a fork/join costs about a pass over 32K floats.
constexpr int64_t kMinParallelElements = 32768;

bool isContiguous(Value buffer) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  return type &&
         (type.getLayout().isIdentity() || memref::isStaticShapeAndContiguousRowMajor(type));
}

/// Rewrites each copy between strided views (a peeled edge tile that
/// bufferization could not write in place) as vector loads and stores when
/// it fits the vector registers, else as loops over its rows (the innermost
/// dimension, or the innermost two where one is narrower than a vector: a
/// channels-last image of one channel), each row a vector load and store,
/// the outer loop on every core when the copy is large: a whole image copied
/// into the zero border of a direct convolution (convert-vdl-to-linalg) was
/// a scalar loop nest, slow to run and 2 s of LLVM's loop vectorizer to
/// compile. As a memref.copy it would lower to a call of MLIR's runtime
/// library (memrefCopy), which a vaec library does not link. Contiguous
/// copies stay: they lower to llvm.memcpy.
void lowerStridedCopies(func::FuncOp func) {
  vaec::vdl::TargetAttr target = vaec::targetOf(func);
  SmallVector<memref::CopyOp> copies;
  func.walk([&](memref::CopyOp copy) {
    if (!isContiguous(copy.getSource()) || !isContiguous(copy.getTarget()))
      copies.push_back(copy);
  });
  IRRewriter rewriter(func.getContext());
  for (memref::CopyOp copy : copies) {
    rewriter.setInsertionPoint(copy);
    auto type = cast<MemRefType>(copy.getSource().getType());
    auto linalgCopy =
        rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(), copy.getTarget());
    if (!type.hasStaticShape())
      continue; // convert-linalg-to-loops makes it scalar loops
    if (type.getNumElements() <= target.getVectorRegisters() * target.getLanes()) {
      (void)linalg::vectorize(rewriter, linalgCopy);
      continue;
    }
    int64_t rank = type.getRank();
    SmallVector<int64_t> sizes(rank, 1);
    sizes[rank - 1] = 0; // whole rows
    if (rank >= 2 && type.getDimSize(rank - 1) < target.getLanes())
      sizes[rank - 2] = 0;
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(func.getContext(), sizes));
    FailureOr<scf::SCFTilingResult> tiled =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(linalgCopy.getOperation()), options);
    if (failed(tiled))
      continue; // stays a linalg.copy: scalar loops
    rewriter.eraseOp(linalgCopy);
    for (Operation *tile : tiled->tiledOps) {
      rewriter.setInsertionPoint(tile);
      (void)linalg::vectorize(rewriter, tile);
    }
    if (!tiled->loops.empty() && type.getNumElements() >= kMinParallelElements)
      tiled->loops.front()->setAttr(vaec::vdl::VDLDialect::kParallelAttrName,
                                    rewriter.getUnitAttr());
  }
}

/// A shape_cast that only adds or drops unit dimensions in front of one
/// vector (vector<1x1x16xf32> to vector<1x16xf32>) as the extract and
/// broadcast it is: MLIR's shape_cast lowering takes it element by element,
/// 16 extracts and inserts that LLVM spilled around in a bias gradient's
/// partial sums.
struct UnitShapeCast : OpRewritePattern<vector::ShapeCastOp> {
  using OpRewritePattern::OpRewritePattern;
  static bool onlyLastDimension(VectorType type) {
    return llvm::all_of(type.getShape().drop_back(), [](int64_t size) { return size == 1; });
  }
  LogicalResult matchAndRewrite(vector::ShapeCastOp op, PatternRewriter &rewriter) const override {
    VectorType source = op.getSourceVectorType(), result = op.getResultVectorType();
    if (source.getRank() < 2 || result.getRank() < 1 || source.isScalable() ||
        !onlyLastDimension(source) || !onlyLastDimension(result) ||
        source.getShape().back() != result.getShape().back())
      return failure();
    Value row = rewriter.create<vector::ExtractOp>(op.getLoc(), op.getSource(),
                                                   SmallVector<int64_t>(source.getRank() - 1, 0));
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(op, result, row);
    return success();
  }
};

struct LowerVectorsPass : vaec::impl::LowerVectorsBase<LowerVectorsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    lowerStridedCopies(func);
    // Keep each accumulator block in registers across its k loop.
    linalg::hoistRedundantVectorTransfers(func);

    MLIRContext *ctx = &getContext();
    vector::VectorTransformsOptions options;
    options.setVectorTransformsOptions(vector::VectorContractLowering::OuterProduct);
    // 16x16 f32 transposes (the register blocks of linalg.transpose on
    // AVX-512) as 512-bit shuffles; other shapes and targets by MLIR's
    // generic lowering, which LLVM turns into the target's shuffles.
    if (vaec::targetOf(func).getLanes() == 16)
      options.setVectorTransposeLowering(vector::VectorTransposeLowering::Shuffle16x16);
    else
      options.setVectorTransposeLowering(vector::VectorTransposeLowering::Shuffle1D);
    // Applied in stages, as IREE's CPU pipeline does: contracts first, then
    // what they leave behind. Mixing every pattern in one set costs memory.
    {
      RewritePatternSet patterns(ctx);
      vector::populateVectorContractLoweringPatterns(patterns, options);
      vector::populateVectorMultiReductionLoweringPatterns(
          patterns, vector::VectorMultiReductionLowering::InnerReduction);
      vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
      if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }
    {
      RewritePatternSet patterns(ctx);
      vector::populateVectorOuterProductLoweringPatterns(patterns);
      vector::populateVectorTransposeLoweringPatterns(patterns, options);
      vector::populateVectorBroadcastLoweringPatterns(patterns);
      patterns.add<UnitShapeCast>(ctx, /*benefit=*/2);
      vector::populateVectorShapeCastLoweringPatterns(patterns);
      vector::populateVectorTransferLoweringPatterns(patterns, /*maxTransferRank=*/1);
      vector::populateVectorMaskOpLoweringPatterns(patterns);
      vector::populateVectorInsertExtractStridedSliceTransforms(patterns);
      if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }
  }
};

} // namespace
