//===- Fusion.cpp - the vdl-fusion pass -----------------------------------===//
//
// Graph-level fusion on linalg-on-tensors: an elementwise producer goes into
// its consumer's loop when the consumer is its only user, so chains (the
// reparameterization, KL, likelihood and their adjoints, activation
// derivatives feeding a bias-gradient reduction) become one loop nest and
// their intermediates never reach memory. A producer with several users is
// left alone (fusing it would recompute it per user), and so are matmuls:
// their epilogues (bias, activation) are fused at tile level, in register
// blocks, by vdl-tile-and-vectorize.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

namespace vaec {
#define GEN_PASS_DEF_FUSION
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::vdl::VDLDialect;

namespace {

/// Kernels (linalg ops: one loop nest over memory each once lowered) and the
/// bytes they read and write, counting every operand once per kernel.
std::pair<int64_t, int64_t> kernelsAndBytes(func::FuncOp func) {
  int64_t kernels = 0, bytes = 0;
  func.walk([&](linalg::LinalgOp op) {
    ++kernels;
    for (Value operand : op->getOperands())
      if (auto type = dyn_cast<ShapedType>(operand.getType()); type && type.hasStaticShape())
        bytes +=
            type.getNumElements() * int64_t(llvm::divideCeil(type.getElementTypeBitWidth(), 8));
  });
  return {kernels, bytes};
}

/// vaec --remarks: each elementwise loop nest fusion left on its own, and
/// why, at its VDL location (the fused ones are gone into their users). Not
/// for the model-level glue located at the model itself, as the function is.
void remarkUnfused(func::FuncOp func) {
  func.walk([&](linalg::GenericOp op) {
    if (op.getNumReductionLoops() != 0 || op->getNumResults() != 1 ||
        op->getLoc() == func->getLoc())
      return;
    llvm::SmallSetVector<Operation *, 4> users(op->getResult(0).getUsers().begin(),
                                               op->getResult(0).getUsers().end());
    auto contraction = [](Operation *user) {
      auto linalgUser = dyn_cast<linalg::LinalgOp>(user);
      return linalgUser && linalg::isaContractionOpInterface(linalgUser);
    }; // (each reader once, however many of its operands it is)
    if (users.size() > 1)
      op->emitRemark() << "elementwise result kept in memory: " << users.size()
                       << " ops read it (fused, it would be computed once for each)";
    else if (users.size() == 1 && contraction(users.front()))
      op->emitRemark("elementwise op kept apart from the contraction that reads it (a "
                     "contraction stays register-blocked)");
  });
}

struct FusionPass : vaec::impl::FusionBase<FusionPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto [kernelsBefore, bytesBefore] = kernelsAndBytes(func);
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      // Not into a contraction (a convolution's, on the im2col gather that
      // feeds it): with the producer in its body it would no longer be one,
      // and would tile as a dot product per output element instead of
      // register blocks.
      auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
      if (consumer && linalg::isaContractionOpInterface(consumer))
        return false;
      return producer && producer->hasOneUse();
    });
    linalg::GenericOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
    auto [kernelsAfter, bytesAfter] = kernelsAndBytes(func);
    if (VDLDialect::remarksWanted(func))
      remarkUnfused(func);
    Builder b(&getContext());
    func->setAttr(VDLDialect::kFusionAttrName,
                  b.getDictionaryAttr({
                      b.getNamedAttr("kernels_before", b.getI64IntegerAttr(kernelsBefore)),
                      b.getNamedAttr("kernels_after", b.getI64IntegerAttr(kernelsAfter)),
                      b.getNamedAttr("bytes_before", b.getI64IntegerAttr(bytesBefore)),
                      b.getNamedAttr("bytes_after", b.getI64IntegerAttr(bytesAfter)),
                  }));
  }
};

} // namespace
