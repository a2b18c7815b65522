//===- ArenaAllocate.cpp - the vdl-arena-allocate pass --------------------===//
//
// The generated code must not allocate: every buffer bufferization created
// becomes a view of one caller-provided arena at a static offset.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "ir/VDLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

namespace vaec {
#define GEN_PASS_DEF_ARENAALLOCATE
#include "codegen/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::vdl::VDLDialect;

namespace {

constexpr int64_t kAlignBytes = 64;

struct ArenaAllocatePass : vaec::impl::ArenaAllocateBase<ArenaAllocatePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(&getContext());
    int64_t maxBytes = 0;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!func.getSymName().starts_with("vae_") || func.isExternal() ||
          func.getSymName() == "vae_init_params")
        continue;
      SmallVector<memref::AllocOp> allocs;
      func.walk([&](memref::AllocOp alloc) { allocs.push_back(alloc); });
      // First pass: sizes and offsets, so the arena's type is known.
      SmallVector<int64_t> offsets;
      int64_t bytes = 0;
      for (memref::AllocOp alloc : allocs) {
        MemRefType type = alloc.getType();
        if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
            !type.getElementType().isIntOrFloat()) {
          alloc.emitError("vdl-arena-allocate: only static, identity-layout "
                          "buffers can live in the arena, got ")
              << type;
          return signalPassFailure();
        }
        offsets.push_back(bytes);
        int64_t size = type.getNumElements() *
                       llvm::divideCeil(type.getElementTypeBitWidth(), 8);
        bytes += llvm::alignTo(size, kAlignBytes);
      }
      bytes = std::max<int64_t>(bytes, kAlignBytes);
      auto arenaType = MemRefType::get({bytes}, b.getI8Type());
      // After the buffers the caller keeps across calls (params, opt_state),
      // as abi.h orders them.
      unsigned position = 0;
      while (position < func.getNumArguments()) {
        auto input = func.getArgAttrOfType<StringAttr>(position, VDLDialect::kInputAttrName);
        if (!input || (input.getValue() != "params" && input.getValue() != "opt_state"))
          break;
        ++position;
      }
      func.insertArgument(position, arenaType,
                          b.getDictionaryAttr(b.getNamedAttr(
                              VDLDialect::kInputAttrName, b.getStringAttr("arena"))),
                          func.getLoc());
      Value arena = func.getArgument(position);
      for (auto [alloc, offset] : llvm::zip(allocs, offsets)) {
        OpBuilder ob(alloc);
        Value at = ob.create<arith::ConstantIndexOp>(alloc.getLoc(), offset);
        Value view = ob.create<memref::ViewOp>(alloc.getLoc(), alloc.getType(),
                                               arena, at, ValueRange{});
        alloc.replaceAllUsesWith(view);
        alloc.erase();
      }
      // Nothing to free any more.
      func.walk([](memref::DeallocOp dealloc) { dealloc.erase(); });
      func->setAttr(VDLDialect::kArenaBytesAttrName, b.getI64IntegerAttr(bytes));
      maxBytes = std::max(maxBytes, bytes);
    }
    module->setAttr(VDLDialect::kArenaBytesAttrName,
                    b.getI64IntegerAttr(maxBytes));
  }
};

} // namespace
