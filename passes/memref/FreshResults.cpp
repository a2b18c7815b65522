//===- FreshResults.cpp - the vdl-fresh-results pass ----------------------===//
//
// Every output of an entry point gets a buffer of its own before the results
// become out-parameters: a returned argument or a buffer returned twice is
// copied into a new one.
//
//===----------------------------------------------------------------------===//

#include "ir/VDLDialect.h"
#include "passes/Passes.h"

#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace vaec {
#define GEN_PASS_DEF_FRESHRESULTS
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::vdl::VDLDialect;

namespace {

/// The buffer `value` is a view of (itself when it is no view).
Value rootBuffer(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

/// Whether result `index` is an argument updated in place: its `vdl.input`
/// names one of the function's arguments (vae_train_step's `params`).
bool updatesArgument(func::FuncOp func, unsigned index) {
  auto name = func.getResultAttrOfType<StringAttr>(index, VDLDialect::kInputAttrName);
  if (!name)
    return false;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (func.getArgAttrOfType<StringAttr>(i, VDLDialect::kInputAttrName) == name)
      return true;
  return false;
}

struct FreshResultsPass : vaec::impl::FreshResultsBase<FreshResultsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    auto ret = cast<func::ReturnOp>(func.front().getTerminator());
    OpBuilder b(ret);
    llvm::SmallPtrSet<Value, 8> returned;
    for (OpOperand &operand : ret->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type || updatesArgument(func, operand.getOperandNumber()))
        continue;
      Value root = rootBuffer(operand.get());
      bool fresh = !isa<BlockArgument>(root) && returned.insert(root).second;
      if (fresh)
        continue;
      if (!type.hasStaticShape() || !type.getLayout().isIdentity()) {
        ret.emitError("vdl-fresh-results: a returned argument or repeated result of type ")
            << type << " cannot be copied into a static, identity-layout buffer";
        return signalPassFailure();
      }
      auto copy = b.create<memref::AllocOp>(ret.getLoc(), type, b.getI64IntegerAttr(64));
      b.create<memref::CopyOp>(ret.getLoc(), operand.get(), copy);
      operand.set(copy);
    }
  }
};

} // namespace
