//===- ConvertVDLToLinalg.cpp - vdl to linalg on tensors ------------------===//
//
// The convert-vdl-to-linalg pass: every vdl op becomes linalg (and tensor,
// arith, math) on tensors through one OpConversionPattern per op, gathered
// by op family in the files beside this one (PopulatePatterns.h).
//
//===----------------------------------------------------------------------===//

#include "codegen/vdl-to-linalg/Passes.h"
#include "codegen/vdl-to-linalg/PopulatePatterns.h"
#include "ir/VDLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace vaec {
#define GEN_PASS_DEF_CONVERTVDLTOLINALG
#include "codegen/vdl-to-linalg/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using namespace vaec::vdl_to_linalg;

namespace {

struct ConvertVDLToLinalgPass : vaec::impl::ConvertVDLToLinalgBase<ConvertVDLToLinalgPass> {
  using ConvertVDLToLinalgBase::ConvertVDLToLinalgBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<vaec::vdl::VDLDialect>();
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
                           math::MathDialect, func::FuncDialect>();
    // The step number becomes a 0-d tensor before any vdl op sees it.
    target.addLegalOp<tensor::FromElementsOp>();
    RewritePatternSet patterns(ctx);
    populateLinearPatterns(patterns);
    populateElementwisePatterns(patterns);
    populateReductionPatterns(patterns);
    populateConvolutionPatterns(patterns, convAlgorithm);
    populateOptimizerPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
