//===- OutlineKernels.cpp - the vdl-outline-kernels pass ------------------===//
//
// Every loop nest of an entry point becomes a function of its own, and
// entry points that run the same kernel call one copy of it.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

namespace vaec {
#define GEN_PASS_DEF_OUTLINEKERNELS
#include "codegen/cpu/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// Whether `type` can cross a call: a buffer as the bare pointer of
/// func-to-llvm's calling convention (static shape, strides and offset), a
/// vector (an edge tile's accumulators) but not of i1, a scalar, or an LLVM
/// pointer (a reduction's accumulator after scf-to-openmp). (An aggregate of
/// i1 vectors passed or returned makes LLVM 19's x86 backend abort with
/// AVX-512, "Cannot emit physreg copy instruction": a mask stays inline.)
bool passable(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type)) {
    int64_t offset;
    SmallVector<int64_t> strides;
    return memref.hasStaticShape() && succeeded(getStridesAndOffset(memref, strides, offset)) &&
           !ShapedType::isDynamic(offset) && llvm::none_of(strides, ShapedType::isDynamic);
  }
  if (auto vector = dyn_cast<VectorType>(type))
    return !vector.isScalable() && !vector.getElementType().isInteger(1);
  return type.isIntOrIndexOrFloat() || isa<LLVM::LLVMPointerType>(type);
}

/// Operations of an entry point that stay in it when their users move to a
/// kernel (which recomputes them if their layout cannot cross the call):
/// constants, and views of the entry point's arguments.
bool staysOutside(Operation *op, const llvm::DenseSet<Operation *> &outside) {
  if (op->getNumRegions() != 0 || op->getNumResults() != 1)
    return false;
  if (op->hasTrait<OpTrait::ConstantLike>())
    return true;
  return isa<ViewLikeOpInterface>(op) && isMemoryEffectFree(op) &&
         llvm::all_of(op->getOperands(), [&](Value operand) {
           Operation *def = operand.getDefiningOp();
           return !def || outside.contains(def);
         });
}

/// A run of consecutive operations of an entry point to become one function:
/// what it recomputes from the entry point (in order), what it takes as
/// arguments (in order of first use, so that identical kernels get identical
/// signatures) and what it returns to the entry point (in order of
/// definition).
struct Kernel {
  SmallVector<Operation *> ops;
  SmallVector<Operation *> recomputed;
  llvm::SetVector<Value> arguments;
  SmallVector<Value> results;
};

/// Splits the body of `entry` into kernels, one per loop nest: the
/// straight-line operations after a loop nest that use what it computed (an
/// edge tile's write of its accumulators) end its kernel, the ones after
/// them begin the next (the read of its accumulators); what follows the
/// last stays in the entry point.
SmallVector<Kernel> partition(func::FuncOp entry, llvm::DenseSet<Operation *> &outside) {
  SmallVector<Kernel> kernels;
  SmallVector<Operation *> pending;
  // Ends the last kernel with the prefix of `pending` that depends on it.
  auto closeLast = [&] {
    if (kernels.empty())
      return;
    llvm::DenseSet<Operation *> last(kernels.back().ops.begin(), kernels.back().ops.end());
    size_t prefix = 0;
    for (size_t i = 0; i < pending.size(); ++i) {
      bool uses = llvm::any_of(pending[i]->getOperands(), [&](Value operand) {
        return last.contains(operand.getDefiningOp());
      });
      if (uses) {
        for (size_t j = prefix; j <= i; ++j)
          last.insert(pending[j]);
        prefix = i + 1;
      }
    }
    kernels.back().ops.append(pending.begin(), pending.begin() + prefix);
    pending.erase(pending.begin(), pending.begin() + prefix);
  };
  for (Operation &op : entry.getBody().front().without_terminator()) {
    if (staysOutside(&op, outside)) {
      outside.insert(&op);
      continue;
    }
    if (op.getNumRegions() == 0) {
      pending.push_back(&op);
      continue;
    }
    closeLast();
    Kernel &kernel = kernels.emplace_back();
    kernel.ops = std::move(pending);
    pending.clear();
    kernel.ops.push_back(&op);
  }
  closeLast();
  return kernels;
}

/// Fills in what `kernel` needs from its entry point and gives back to it,
/// or fails where a value can be neither passed nor recomputed.
LogicalResult collectCaptures(Kernel &kernel, const llvm::DenseSet<Operation *> &outside) {
  llvm::DenseSet<Operation *> members(kernel.ops.begin(), kernel.ops.end());
  Block *block = kernel.ops.front()->getBlock();
  auto inside = [&](Operation *op) {
    Operation *top = block->findAncestorOpInBlock(*op);
    return top && members.contains(top);
  };
  llvm::SetVector<Operation *> recomputed;
  std::function<LogicalResult(Value)> capture = [&](Value value) -> LogicalResult {
    Operation *def = value.getDefiningOp();
    if (def ? inside(def) : inside(cast<BlockArgument>(value).getOwner()->getParentOp()))
      return success();
    if (recomputed.contains(def) || kernel.arguments.contains(value))
      return success();
    if (def && outside.contains(def) &&
        !(isa<ViewLikeOpInterface>(def) && passable(value.getType()))) {
      for (Value operand : def->getOperands())
        if (failed(capture(operand)))
          return failure();
      recomputed.insert(def);
      return success();
    }
    if (!passable(value.getType()))
      return failure();
    kernel.arguments.insert(value);
    return success();
  };
  for (Operation *op : kernel.ops) {
    WalkResult walk = op->walk([&](Operation *nested) {
      for (Value operand : nested->getOperands())
        if (failed(capture(operand)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    // A buffer made inside (an alloca) cannot outlive the kernel's frame.
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) { return !inside(user); })) {
        if (isa<MemRefType>(result.getType()) || !passable(result.getType()))
          return failure();
        kernel.results.push_back(result);
      }
  }
  kernel.recomputed.assign(recomputed.begin(), recomputed.end());
  return success();
}

/// The text of `kernel` without its name: two kernels with the same text are
/// the same function.
std::string fingerprint(func::FuncOp kernel) {
  StringAttr name = kernel.getSymNameAttr();
  kernel.setSymName("kernel");
  std::string text;
  llvm::raw_string_ostream os(text);
  kernel->print(os, OpPrintingFlags().useLocalScope());
  kernel.setSymNameAttr(name);
  return text;
}

struct OutlineKernelsPass : vaec::impl::OutlineKernelsBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && func.isPublic())
        entries.push_back(func);
    llvm::StringMap<func::FuncOp> byText;
    for (func::FuncOp entry : entries) {
      llvm::DenseSet<Operation *> outside;
      unsigned index = 0;
      for (Kernel &kernel : partition(entry, outside)) {
        if (failed(collectCaptures(kernel, outside)))
          continue;
        func::FuncOp outlined = outline(entry, kernel, index);
        auto [it, added] = byText.try_emplace(fingerprint(outlined), outlined);
        // At the last operation: views and constants between its operations
        // stay in the entry point and may be arguments.
        OpBuilder b(kernel.ops.back());
        auto call = b.create<func::CallOp>(kernel.ops.front()->getLoc(), it->second,
                                           kernel.arguments.getArrayRef());
        for (auto [value, result] : llvm::zip(kernel.results, call.getResults()))
          value.replaceAllUsesWith(result);
        for (Operation *op : llvm::reverse(kernel.ops))
          op->erase();
        if (added)
          ++index;
        else
          outlined.erase();
      }
      // Views and constants that only the kernels used.
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(entry.getBody().front())))
        if (outside.contains(&op) && op.use_empty())
          op.erase();
    }
  }

  /// `kernel` as the private function `<entry>_kernel<index>`, placed after
  /// `entry`.
  func::FuncOp outline(func::FuncOp entry, const Kernel &kernel, unsigned index) {
    MLIRContext *ctx = &getContext();
    SmallVector<Type> types, resultTypes;
    for (Value value : kernel.arguments)
      types.push_back(value.getType());
    for (Value value : kernel.results)
      resultTypes.push_back(value.getType());
    Location loc = kernel.ops.front()->getLoc();
    OpBuilder b(ctx);
    b.setInsertionPointAfter(entry);
    auto func = b.create<func::FuncOp>(loc, (entry.getSymName() + "_kernel" + Twine(index)).str(),
                                       FunctionType::get(ctx, types, resultTypes));
    func.setPrivate();
    // Not inlined back into the entry points by LLVM: one copy is the point.
    func->setAttr("llvm.linkage", LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
    func->setAttr("passthrough", b.getArrayAttr({b.getStringAttr("noinline")}));
    Block *body = func.addEntryBlock();
    IRMapping mapping;
    for (auto [value, arg] : llvm::zip(kernel.arguments, body->getArguments()))
      mapping.map(value, arg);
    b.setInsertionPointToStart(body);
    for (Operation *op : kernel.recomputed)
      b.clone(*op, mapping);
    for (Operation *op : kernel.ops)
      b.clone(*op, mapping);
    SmallVector<Value> results;
    for (Value value : kernel.results)
      results.push_back(mapping.lookup(value));
    b.create<func::ReturnOp>(loc, results);
    return func;
  }
};

} // namespace
