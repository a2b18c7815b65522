//===- CountFlops.cpp - the vdl-count-flops pass --------------------------===//
//
// Static FLOP count of a function from the shapes of its vdl ops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "llvm/ADT/TypeSwitch.h"

namespace vaec {
#define GEN_PASS_DEF_COUNTFLOPS
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using namespace vaec::vdl;

namespace {

int64_t elementsOf(Value value) { return cast<RankedTensorType>(value.getType()).getNumElements(); }

/// FLOPs of one op. Transcendentals count as one operation, as in most
/// roofline reports; the numbers are per-op operation counts, not cycles.
int64_t flopsOf(Operation *op) {
  return llvm::TypeSwitch<Operation *, int64_t>(op)
      .Case([](DenseOp dense) {
        auto input = dense.getInput().getType();
        int64_t batch = input.getDimSize(0), in = input.getDimSize(1);
        int64_t out = dense.getWeight().getType().getDimSize(1);
        return 2 * batch * in * out + batch * out;
      })
      .Case([](MatmulOp matmul) {
        auto lhs = matmul.getLhs().getType();
        int64_t k = matmul.getTransposeLhs() ? lhs.getDimSize(0) : lhs.getDimSize(1);
        return 2 * k * matmul.getType().getNumElements();
      })
      // A multiply-add per tap of each window: C k k taps per output pixel
      // of a convolution (and per dy pixel of its filter gradient); a
      // transposed convolution spreads each input pixel over O k k outputs.
      .Case([](Conv2DOp conv) {
        int64_t taps = elementsOf(conv.getFilter()) /
                       cast<RankedTensorType>(conv.getFilter().getType()).getDimSize(0);
        int64_t out = elementsOf(conv.getResult());
        return 2 * out * taps + (conv.getBias() ? out : 0);
      })
      .Case([](Conv2DTransposeOp conv) {
        int64_t spread = elementsOf(conv.getFilter()) /
                         cast<RankedTensorType>(conv.getFilter().getType()).getDimSize(0);
        int64_t out = elementsOf(conv.getResult());
        return 2 * elementsOf(conv.getInput()) * spread + (conv.getBias() ? out : 0);
      })
      .Case([](Conv2DFilterGradOp grad) {
        int64_t taps =
            elementsOf(grad.getResult()) / cast<RankedTensorType>(grad.getType()).getDimSize(0);
        return 2 * elementsOf(grad.getOutputGrad()) * taps;
      })
      .Case<ReduceRowsOp, ChannelSumOp>([](Operation *op) { return elementsOf(op->getOperand(0)); })
      .Case<BroadcastOp, ReluGradOp>([](Operation *op) { return elementsOf(op->getResult(0)); })
      .Case<TanhGradOp, SigmoidGradOp, LeakyReluGradOp>(
          [](Operation *op) { return 3 * elementsOf(op->getResult(0)); })
      .Case<SoftplusGradOp, EluGradOp, BernoulliLogProbGradOp, GaussianFixedLogProbGradOp>(
          [](Operation *op) { return 4 * elementsOf(op->getResult(0)); })
      .Case<KLNormalGradOp, GaussianLogProbGradOp>(
          [](Operation *op) { return 8 * elementsOf(op->getResult(0)); })
      .Case<ReluOp, TanhOp, ExpOp, LogOp, NegOp, AddOp, SubOp, MulOp, DivOp>(
          [](Operation *op) { return elementsOf(op->getResult(0)); })
      // x>0 select plus the scaled branch.
      .Case<LeakyReluOp, SigmoidOp>([](Operation *op) { return 2 * elementsOf(op->getResult(0)); })
      .Case<SoftplusOp, EluOp>([](Operation *op) { return 3 * elementsOf(op->getResult(0)); })
      // 0.5*logvar, exp, *eps, +mu.
      .Case([](ReparameterizeOp op) { return 4 * elementsOf(op.getMu()); })
      // exp, (mu-m)^2, add, scale, -1, -logvar, +log s, sum.
      .Case([](KLNormalOp op) { return 8 * elementsOf(op.getMu()); })
      // max, x*t, |x|, exp, log1p, sub, add, sum.
      .Case([](BernoulliLogProbOp op) { return 8 * elementsOf(op.getLogits()); })
      .Case([](GaussianLogProbOp op) { return 7 * elementsOf(op.getMean()); })
      .Case([](GaussianFixedLogProbOp op) { return 4 * elementsOf(op.getMean()); })
      .Case<ReduceMeanOp, ReduceSumOp>([](Operation *op) { return elementsOf(op->getOperand(0)); })
      .Case([](ElboOp) { return int64_t{2}; })
      // m, v, bias-corrected ratio, sqrt, update: 12 per element, and the
      // decoupled weight decay's multiply.
      .Case([](AdamUpdateOp op) { return 13 * elementsOf(op.getParam()); })
      .Case([](SgdUpdateOp op) { return 4 * elementsOf(op.getParam()); })
      .Default([](Operation *) { return int64_t{0}; });
}

struct CountFlopsPass : vaec::impl::CountFlopsBase<CountFlopsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    int64_t total = 0;
    func.walk([&](Operation *op) { total += flopsOf(op); });
    func->setAttr(VDLDialect::kFlopsAttrName,
                  IntegerAttr::get(IntegerType::get(&getContext(), 64), total));
    markAllAnalysesPreserved();
  }
};

} // namespace
