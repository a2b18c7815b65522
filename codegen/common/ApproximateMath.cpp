//===- ApproximateMath.cpp - the vdl-approximate-math pass ----------------===//

#include "codegen/common/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vaec {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "codegen/common/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

struct ApproximateMathPass : vaec::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
