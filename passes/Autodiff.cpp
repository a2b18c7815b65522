//===- Autodiff.cpp - the vdl-autodiff pass -------------------------------===//
//
// Reverse mode over one straight-line function: the vdl dialect has no
// control flow, so the tape is the op list itself.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "llvm/ADT/DenseSet.h"

namespace vaec {
#define GEN_PASS_DEF_AUTODIFF
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using namespace vaec::vdl;

namespace {

/// Builds the backward pass of `func` in place, before its return, and
/// returns d(result 0)/d(argument) for every parameter argument.
FailureOr<SmallVector<Value>> differentiate(func::FuncOp func) {
  Block &body = func.front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  OpBuilder b(ret);

  // Values that depend on a parameter: only their adjoints are built.
  llvm::DenseSet<Value> active;
  SmallVector<BlockArgument> params;
  for (BlockArgument arg : body.getArguments())
    if (func.getArgAttr(arg.getArgNumber(), VDLDialect::kParamAttrName)) {
      active.insert(arg);
      params.push_back(arg);
    }
  SmallVector<Operation *> tape;
  for (Operation &op : body.without_terminator()) {
    tape.push_back(&op);
    if (llvm::any_of(op.getOperands(), [&](Value v) { return active.contains(v); }))
      active.insert(op.result_begin(), op.result_end());
  }

  DenseMap<Value, Value> adjoint;
  auto accumulate = [&](Value value, Value contribution, Location loc) {
    Value &slot = adjoint[value];
    slot = slot ? b.create<AddOp>(loc, slot, contribution).getResult()
                : contribution;
  };
  Value loss = ret.getOperand(0);
  adjoint[loss] = b.create<ConstantOp>(loss.getLoc(), loss.getType(),
                                       b.getF32FloatAttr(1.0f));

  for (Operation *op : llvm::reverse(tape)) {
    if (op->getNumResults() != 1 || !adjoint.count(op->getResult(0)) ||
        !active.contains(op->getResult(0)))
      continue;
    auto rule = dyn_cast<GradientOpInterface>(op);
    if (!rule) {
      op->emitError() << "no gradient rule for '" << op->getName()
                      << "': cannot differentiate the loss through it";
      return failure();
    }
    SmallVector<bool> needed;
    for (Value operand : op->getOperands())
      needed.push_back(active.contains(operand));
    SmallVector<Value> operandAdjoints;
    if (failed(rule.buildGradients(b, adjoint[op->getResult(0)], needed,
                                   operandAdjoints)))
      return failure();
    for (auto [operand, contribution] :
         llvm::zip(op->getOperands(), operandAdjoints))
      if (contribution)
        accumulate(operand, contribution, op->getLoc());
  }

  SmallVector<Value> gradients;
  for (BlockArgument param : params) {
    Value g = adjoint.lookup(param);
    // A parameter the loss does not use has a zero gradient.
    if (!g)
      g = b.create<ConstantOp>(param.getLoc(), param.getType(),
                               b.getF32FloatAttr(0.0f));
    gradients.push_back(g);
  }
  return gradients;
}

struct AutodiffPass : vaec::impl::AutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto loss = module.lookupSymbol<func::FuncOp>("loss");
    if (!loss) {
      module.emitError("vdl-autodiff: no @loss function to differentiate");
      return signalPassFailure();
    }
    if (module.lookupSymbol("grad_step"))
      return; // already differentiated
    auto grad = loss.clone();
    grad.setSymName("grad_step");
    module.getBody()->getOperations().insertAfter(Block::iterator(loss), grad);

    FailureOr<SmallVector<Value>> gradients = differentiate(grad);
    if (failed(gradients))
      return signalPassFailure();

    auto ret = cast<func::ReturnOp>(grad.front().getTerminator());
    SmallVector<Value> results(ret.getOperands());
    results.append(gradients->begin(), gradients->end());
    OpBuilder(ret).create<func::ReturnOp>(ret.getLoc(), results);
    ret.erase();

    unsigned forwardResults = loss.getNumResults();
    grad.setType(FunctionType::get(&getContext(), grad.getArgumentTypes(),
                                   ValueRange(results).getTypes()));
    SmallVector<DictionaryAttr> resultAttrs(results.size());
    Builder builder(&getContext());
    unsigned index = forwardResults;
    for (unsigned i = 0, e = grad.getNumArguments(); i < e; ++i)
      if (auto name = grad.getArgAttr(i, VDLDialect::kParamAttrName))
        resultAttrs[index++] = builder.getDictionaryAttr(
            builder.getNamedAttr(VDLDialect::kGradOfAttrName, name));
    for (unsigned i = 0; i < results.size(); ++i)
      grad.setResultAttrs(i, resultAttrs[i] ? resultAttrs[i]
                                            : builder.getDictionaryAttr({}));
  }
};

} // namespace
