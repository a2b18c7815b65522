//===- LowerVectors.cpp - the vdl-lower-vectors pass ----------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vaec {
#define GEN_PASS_DEF_LOWERVECTORS
#include "codegen/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

struct LowerVectorsPass : vaec::impl::LowerVectorsBase<LowerVectorsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Keep each accumulator block in registers across its k loop.
    linalg::hoistRedundantVectorTransfers(func);

    MLIRContext *ctx = &getContext();
    vector::VectorTransformsOptions options;
    options.setVectorTransformsOptions(vector::VectorContractLowering::OuterProduct);
    // 16x16 f32 transposes (the register blocks of linalg.transpose) as
    // AVX-512 shuffles; other shapes by MLIR's generic lowering.
    options.setVectorTransposeLowering(vector::VectorTransposeLowering::Shuffle16x16);
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
