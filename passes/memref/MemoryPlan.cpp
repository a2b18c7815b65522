//===- MemoryPlan.cpp - the vdl-memory-plan pass --------------------------===//
//
// The generated code must not allocate: every buffer bufferization created
// becomes a view of one caller-provided arena at a static offset. Buffers
// whose live intervals do not intersect share memory (MemoryPlanner.h).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/memref/MemoryPlanner.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace vaec {
#define GEN_PASS_DEF_MEMORYPLAN
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::vdl::VDLDialect;

namespace {

constexpr int64_t kAlignBytes = 64;

/// The first and last top-level op of `body` that touch `alloc`, through
/// any chain of views (subview, cast, reshape...) of it.
vaec::BufferInterval liveInterval(memref::AllocOp alloc, Block &body,
                                  const DenseMap<Operation *, int64_t> &position) {
  vaec::BufferInterval interval;
  MemRefType type = alloc.getType();
  interval.bytes =
      type.getNumElements() * int64_t(llvm::divideCeil(type.getElementTypeBitWidth(), 8));
  interval.first = interval.last = position.lookup(body.findAncestorOpInBlock(*alloc));
  bool used = false;
  SmallVector<Value> worklist{alloc.getResult()};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::DeallocOp>(user))
        continue;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == value) {
          worklist.append(user->result_begin(), user->result_end());
          continue;
        }
      int64_t at = position.lookup(body.findAncestorOpInBlock(*user));
      interval.first = used ? std::min(interval.first, at) : at;
      interval.last = used ? std::max(interval.last, at) : at;
      used = true;
    }
  }
  return interval;
}

struct MemoryPlanPass : vaec::impl::MemoryPlanBase<MemoryPlanPass> {
  using MemoryPlanBase::MemoryPlanBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(&getContext());
    int64_t maxBytes = 0;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!func.getSymName().starts_with("vae_") || func.isExternal() ||
          func.getSymName() == "vae_init_params")
        continue;
      Block &body = func.front();
      DenseMap<Operation *, int64_t> position;
      for (auto [index, op] : llvm::enumerate(body))
        position[&op] = int64_t(index);
      SmallVector<memref::AllocOp> allocs;
      std::vector<vaec::BufferInterval> intervals;
      WalkResult walk = func.walk([&](memref::AllocOp alloc) {
        MemRefType type = alloc.getType();
        if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
            !type.getElementType().isIntOrFloat()) {
          alloc.emitError("vdl-memory-plan: only static, identity-layout "
                          "buffers can live in the arena, got ")
              << type;
          return WalkResult::interrupt();
        }
        allocs.push_back(alloc);
        intervals.push_back(liveInterval(alloc, body, position));
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        return signalPassFailure();
      vaec::ArenaPlan plan = vaec::planArena(intervals, kAlignBytes, reuse);
      int64_t bytes = std::max<int64_t>(plan.arenaBytes, kAlignBytes);
      auto arenaType = MemRefType::get({bytes}, b.getI8Type());
      // After the buffers the caller keeps across calls (params, opt_state),
      // as abi.h orders them.
      unsigned at = 0;
      while (at < func.getNumArguments()) {
        auto input = func.getArgAttrOfType<StringAttr>(at, VDLDialect::kInputAttrName);
        if (!input || (input.getValue() != "params" && input.getValue() != "opt_state"))
          break;
        ++at;
      }
      func.insertArgument(
          at, arenaType,
          b.getDictionaryAttr(b.getNamedAttr(VDLDialect::kInputAttrName, b.getStringAttr("arena"))),
          func.getLoc());
      Value arena = func.getArgument(at);
      for (auto [alloc, offset] : llvm::zip(allocs, plan.offsets)) {
        OpBuilder ob(alloc);
        Value where = ob.create<arith::ConstantIndexOp>(alloc.getLoc(), offset);
        Value view =
            ob.create<memref::ViewOp>(alloc.getLoc(), alloc.getType(), arena, where, ValueRange{});
        alloc.replaceAllUsesWith(view);
        alloc.erase();
      }
      // Nothing to free any more.
      func.walk([](memref::DeallocOp dealloc) { dealloc.erase(); });
      func->setAttr(VDLDialect::kArenaBytesAttrName, b.getI64IntegerAttr(bytes));
      func->setAttr(VDLDialect::kMemoryPlanAttrName,
                    b.getDictionaryAttr({
                        b.getNamedAttr("arena_bytes", b.getI64IntegerAttr(bytes)),
                        b.getNamedAttr("lower_bound_bytes", b.getI64IntegerAttr(plan.lowerBound)),
                        b.getNamedAttr("no_reuse_bytes", b.getI64IntegerAttr(plan.noReuseBytes)),
                    }));
      maxBytes = std::max(maxBytes, bytes);
    }
    module->setAttr(VDLDialect::kArenaBytesAttrName, b.getI64IntegerAttr(maxBytes));
  }
};

} // namespace
