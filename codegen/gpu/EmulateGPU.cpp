//===- EmulateGPU.cpp - the vdl-emulate-gpu pass --------------------------===//
//
// gpu.launch -> serial loops over its blocks and threads, so that the GPU
// mapping runs (and is tested against the float64 reference) on a machine
// without a GPU: vaec --target=nvptx-emulated.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace vaec {
#define GEN_PASS_DEF_EMULATEGPU
#include "codegen/gpu/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// Marks the loops over the threads of a block.
constexpr llvm::StringLiteral kThreadLoopAttr = "vdl.emulated_threads";

bool containsBarrier(Operation *op) {
  return op->walk([](gpu::BarrierOp) { return WalkResult::interrupt(); }).wasInterrupted();
}

scf::ForOp enclosingThreadLoop(Operation *op) {
  for (auto loop = op->getParentOfType<scf::ForOp>(); loop;
       loop = loop->getParentOfType<scf::ForOp>())
    if (loop->hasAttr(kThreadLoopAttr))
      return loop;
  return nullptr;
}

/// One launch's body, inlined into the loop over its blocks.
class BlockEmulation {
public:
  BlockEmulation(IRRewriter &rewriter, Value thread, int64_t threads)
      : rewriter(rewriter), thread(thread), threads(threads) {}

  /// Splits `block` at its barriers: each stretch between two runs as a loop
  /// over the threads, one thread after another; what does not depend on
  /// the thread (sizes, offsets, loops around barriers) stays outside.
  void split(Block &block) {
    SmallVector<Operation *> ops;
    for (Operation &op : block.without_terminator())
      ops.push_back(&op);
    scf::ForOp current;
    for (Operation *op : ops) {
      if (isa<gpu::BarrierOp>(op)) {
        current = nullptr;
        rewriter.eraseOp(op);
        continue;
      }
      if (containsBarrier(op)) { // a loop over K slices: the same for every thread
        current = nullptr;
        for (Region &region : op->getRegions())
          for (Block &nested : region)
            split(nested);
        continue;
      }
      if (isa<memref::AllocaOp>(op)) { // a thread's registers: one copy per thread
        privateArrays.push_back(cast<memref::AllocaOp>(op));
        continue;
      }
      if (isThreadInvariant(op)) {
        if (current)
          op->moveBefore(current);
        continue;
      }
      if (!current) {
        rewriter.setInsertionPoint(op);
        Value zero = rewriter.create<arith::ConstantIndexOp>(op->getLoc(), 0);
        Value one = rewriter.create<arith::ConstantIndexOp>(op->getLoc(), 1);
        Value count = rewriter.create<arith::ConstantIndexOp>(op->getLoc(), threads);
        current = rewriter.create<scf::ForOp>(op->getLoc(), zero, count, one);
        current->setAttr(kThreadLoopAttr, rewriter.getUnitAttr());
        threadLoops.push_back(current);
      }
      op->moveBefore(current.getBody()->getTerminator());
    }
  }

  /// The thread id as each loop's induction variable, a private array
  /// indexed by it; fails where a thread's value outlives its stretch.
  LogicalResult finish(Operation *arraysBefore) {
    // What a thread computed from its id before a barrier (its row and
    // column in the tile) is computed again after it.
    for (scf::ForOp loop : threadLoops)
      loop.getBody()->walk([&](Operation *op) {
        for (OpOperand &operand : op->getOpOperands())
          if (Value again = rematerialize(operand.get(), loop))
            operand.set(again);
      });
    for (scf::ForOp loop : threadLoops)
      rewriter.replaceUsesWithIf(thread, loop.getInductionVar(), [&](OpOperand &use) {
        return loop->isProperAncestor(use.getOwner());
      });
    for (memref::AllocaOp array : privateArrays) {
      auto type = array.getType();
      SmallVector<int64_t> shape = {threads};
      llvm::append_range(shape, type.getShape());
      rewriter.setInsertionPoint(arraysBefore);
      Value perThread = rewriter.create<memref::AllocaOp>(
          array.getLoc(), MemRefType::get(shape, type.getElementType()));
      for (OpOperand &use : llvm::make_early_inc_range(array->getUses())) {
        Operation *user = use.getOwner();
        scf::ForOp loop = enclosingThreadLoop(user);
        if (!loop || !isa<memref::LoadOp, memref::StoreOp>(user))
          return user->emitError("cannot emulate this use of a thread's private array");
        SmallVector<Value> indices = {loop.getInductionVar()};
        rewriter.setInsertionPoint(user);
        if (auto load = dyn_cast<memref::LoadOp>(user)) {
          llvm::append_range(indices, load.getIndices());
          rewriter.replaceOpWithNewOp<memref::LoadOp>(load, perThread, indices);
        } else {
          auto store = cast<memref::StoreOp>(user);
          llvm::append_range(indices, store.getIndices());
          rewriter.replaceOpWithNewOp<memref::StoreOp>(store, store.getValue(), perThread, indices);
        }
      }
      rewriter.eraseOp(array);
    }
    for (scf::ForOp loop : threadLoops)
      for (Operation &op : loop.getBody()->without_terminator())
        for (Value result : op.getResults())
          for (Operation *user : result.getUsers())
            if (!loop->isAncestor(user))
              return user->emitError(
                  "cannot emulate: a value of each thread is used after a barrier");
    if (!thread.use_empty())
      return thread.getUses().begin()->getOwner()->emitError(
          "cannot emulate: a thread id outside its stretch");
    for (scf::ForOp loop : threadLoops)
      loop->removeAttr(kThreadLoopAttr);
    return success();
  }

private:
  /// `value` in thread loop `into`: itself where it is defined outside any
  /// thread loop or in `into`, else a copy of the pure ops that computed it
  /// (null where one has effects: an error later).
  Value rematerialize(Value value, scf::ForOp into) {
    Operation *def = value.getDefiningOp();
    scf::ForOp home = def ? enclosingThreadLoop(def) : nullptr;
    if (!home || home == into || into->isAncestor(def))
      return value;
    if (def->getNumRegions() != 0 || !isMemoryEffectFree(def))
      return nullptr;
    auto key = std::make_pair(value, into.getOperation());
    if (auto found = copies.find(key); found != copies.end())
      return found->second;
    IRMapping mapping;
    for (Value operand : def->getOperands()) {
      Value again = rematerialize(operand, into);
      if (!again)
        return nullptr;
      mapping.map(operand, again);
    }
    Operation *&last = lastCopy[into.getOperation()];
    if (last)
      rewriter.setInsertionPointAfter(last);
    else
      rewriter.setInsertionPointToStart(into.getBody());
    last = rewriter.clone(*def, mapping);
    Value copy = last->getResult(cast<OpResult>(value).getResultNumber());
    copies[key] = copy;
    return copy;
  }

  bool isThreadInvariant(Operation *op) {
    if (op->getNumRegions() != 0 || !isMemoryEffectFree(op))
      return false;
    return llvm::none_of(op->getOperands(), [&](Value operand) {
      if (operand == thread)
        return true;
      Operation *owner = operand.getDefiningOp();
      return owner && enclosingThreadLoop(owner);
    });
  }

  IRRewriter &rewriter;
  Value thread;
  int64_t threads;
  SmallVector<scf::ForOp> threadLoops;
  SmallVector<memref::AllocaOp> privateArrays;
  DenseMap<std::pair<Value, Operation *>, Value> copies;
  DenseMap<Operation *, Operation *> lastCopy;
};

struct EmulateGPUPass : vaec::impl::EmulateGPUBase<EmulateGPUPass> {
  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    IRRewriter rewriter(&getContext());
    for (gpu::LaunchOp launch : launches)
      if (failed(emulate(launch, rewriter)))
        return signalPassFailure();
  }

  LogicalResult emulate(gpu::LaunchOp launch, IRRewriter &rewriter) {
    Location loc = launch.getLoc();
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    std::optional<int64_t> threads = getConstantIntValue(block.x);
    if (!threads || !launch.getPrivateAttributions().empty())
      return launch.emitError("cannot emulate a launch of a dynamic block size or with private "
                              "attributions");
    rewriter.setInsertionPoint(launch);
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    // Shared memory: one buffer, reused by block after block.
    SmallVector<Value> shared;
    for (BlockArgument attribution : launch.getWorkgroupAttributions()) {
      auto type = cast<MemRefType>(attribution.getType());
      shared.push_back(rewriter.create<memref::AllocaOp>(
          loc, MemRefType::get(type.getShape(), type.getElementType())));
    }
    // Stands for the thread id until the loops over threads exist.
    Value thread = rewriter.create<arith::ConstantIndexOp>(loc, -1);
    // Every launch of vdl-map-to-gpu is one-dimensional.
    auto blocks = rewriter.create<scf::ForOp>(loc, zero, grid.x, one);
    SmallVector<Value> arguments = {blocks.getInductionVar(),
                                    zero,
                                    zero,
                                    thread,
                                    zero,
                                    zero,
                                    grid.x,
                                    grid.y,
                                    grid.z,
                                    block.x,
                                    block.y,
                                    block.z};
    llvm::append_range(arguments, shared);
    Block &body = launch.getBody().front();
    rewriter.eraseOp(body.getTerminator());
    rewriter.inlineBlockBefore(&body, blocks.getBody()->getTerminator(), arguments);
    BlockEmulation emulation(rewriter, thread, *threads);
    emulation.split(*blocks.getBody());
    if (failed(emulation.finish(/*arraysBefore=*/blocks)))
      return failure();
    rewriter.eraseOp(thread.getDefiningOp());
    rewriter.eraseOp(launch);
    return success();
  }
};

} // namespace
