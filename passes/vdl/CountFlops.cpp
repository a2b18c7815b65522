//===- CountFlops.cpp - the vdl-count-flops pass --------------------------===//
//
// Static FLOP count of a function from the shapes of its vdl ops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Path.h"

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
      .Case<BroadcastOp, ReluGradOp, SelectGradOp>(
          [](Operation *op) { return elementsOf(op->getResult(0)); })
      .Case<TanhGradOp, SigmoidGradOp, LeakyReluGradOp>(
          [](Operation *op) { return 3 * elementsOf(op->getResult(0)); })
      .Case<SoftplusGradOp, EluGradOp, BernoulliLogProbGradOp, GaussianFixedLogProbGradOp>(
          [](Operation *op) { return 4 * elementsOf(op->getResult(0)); })
      .Case<KLNormalGradOp, GaussianLogProbGradOp>(
          [](Operation *op) { return 8 * elementsOf(op->getResult(0)); })
      .Case([](DiscretizedLogisticLogProbGradOp op) { return 20 * elementsOf(op.getMean()); })
      .Case<ReluOp, TanhOp, ExpOp, LogOp, NegOp, AddOp, SubOp, MulOp, DivOp, MinOp, MaxOp>(
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
      .Case([](DiscretizedLogisticLogProbOp op) { return 20 * elementsOf(op.getMean()); })
      .Case<ReduceMeanOp, ReduceSumOp>([](Operation *op) { return elementsOf(op->getOperand(0)); })
      .Case([](ElboOp) { return int64_t{2}; })
      // m, v, bias-corrected ratio, sqrt, update: 12 per element, and the
      // decoupled weight decay's multiply.
      .Case([](AdamUpdateOp op) { return 13 * elementsOf(op.getParam()); })
      .Case([](SgdUpdateOp op) { return 4 * elementsOf(op.getParam()); })
      .Default([](Operation *) { return int64_t{0}; });
}

/// "FILE:LINE" of the first file location in `loc` (a gradient op keeps its
/// forward op's location, fused or not), or "" where there is none.
std::string sourceLineOf(Location loc) {
  std::string line;
  loc->walk([&](Location inner) {
    if (auto file = dyn_cast<FileLineColLoc>(inner)) {
      line = (llvm::sys::path::filename(file.getFilename().getValue()) + ":" +
              llvm::Twine(file.getLine()))
                 .str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return line;
}

struct CountFlopsPass : vaec::impl::CountFlopsBase<CountFlopsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto i64 = IntegerType::get(&getContext(), 64);
    int64_t total = 0;
    llvm::StringMap<int64_t> byLine;
    func.walk([&](Operation *op) {
      int64_t flops = flopsOf(op);
      total += flops;
      std::string line = sourceLineOf(op->getLoc());
      if (flops && !line.empty())
        byLine[line] += flops;
    });
    func->setAttr(VDLDialect::kFlopsAttrName, IntegerAttr::get(i64, total));
    SmallVector<NamedAttribute> lines;
    for (auto &entry : byLine)
      lines.emplace_back(StringAttr::get(&getContext(), entry.getKey()),
                         IntegerAttr::get(i64, entry.getValue()));
    if (!lines.empty())
      func->setAttr(VDLDialect::kFlopsByLineAttrName, DictionaryAttr::get(&getContext(), lines));
    markAllAnalysesPreserved();
  }
};

} // namespace
