//===- JoinOptimizerState.cpp - the vdl-join-optimizer-state pass ---------===//
//
// The optimizer slots of vae_train_step, separate buffers while bufferizing,
// become views of the ABI's single opt_state argument.
//
//===----------------------------------------------------------------------===//

#include "ir/VDLDialect.h"
#include "passes/Passes.h"

#include "llvm/ADT/BitVector.h"

namespace vaec {
#define GEN_PASS_DEF_JOINOPTIMIZERSTATE
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::vdl::VDLDialect;

namespace {

struct JoinOptimizerStatePass : vaec::impl::JoinOptimizerStateBase<JoinOptimizerStatePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    SmallVector<unsigned> slots; // argument numbers, slot 0 first
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
      auto input = func.getArgAttrOfType<StringAttr>(i, VDLDialect::kInputAttrName);
      if (!input || input.getValue() != "opt_state")
        continue;
      auto type = dyn_cast<MemRefType>(func.getArgument(i).getType());
      auto slot = func.getArgAttrOfType<IntegerAttr>(i, VDLDialect::kStateSlotAttrName);
      if (!type || !type.hasStaticShape() || type.getRank() != 1 ||
          !type.getLayout().isIdentity() || !type.getElementType().isF32() || !slot ||
          slot.getInt() != int64_t(slots.size()) ||
          (!slots.empty() && func.getArgument(slots.front()).getType() != type)) {
        func.emitError("vdl-join-optimizer-state: expected the optimizer "
                       "slots as identity memref<P x f32> arguments with "
                       "vdl.state_slot 0, 1, ... in order");
        return signalPassFailure();
      }
      slots.push_back(i);
    }
    if (slots.empty())
      return;
    OpBuilder b(func.getContext());
    int64_t slotBytes =
        cast<MemRefType>(func.getArgument(slots.front()).getType()).getNumElements() * 4;
    unsigned at = slots.front();
    func.insertArgument(at, MemRefType::get({slotBytes * int64_t(slots.size())}, b.getI8Type()),
                        b.getDictionaryAttr(b.getNamedAttr(VDLDialect::kInputAttrName,
                                                           b.getStringAttr("opt_state"))),
                        func.getLoc());
    Value state = func.getArgument(at);
    b.setInsertionPointToStart(&func.front());
    llvm::BitVector erase(func.getNumArguments());
    for (auto [k, index] : llvm::enumerate(slots)) {
      BlockArgument slot = func.getArgument(index + 1); // shifted by `state`
      Value offset = b.create<arith::ConstantIndexOp>(slot.getLoc(), k * slotBytes);
      Value view =
          b.create<memref::ViewOp>(slot.getLoc(), slot.getType(), state, offset, ValueRange{});
      slot.replaceAllUsesWith(view);
      erase.set(index + 1);
    }
    func.eraseArguments(erase);
  }
};

} // namespace
