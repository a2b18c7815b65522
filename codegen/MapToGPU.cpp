//===- MapToGPU.cpp - the vdl-map-to-gpu pass -----------------------------===//
//
// An entry point on buffers -> host code that only computes views and
// launches kernels: every linalg op becomes a gpu.launch of one thread per
// element of its parallel loops; the serial rest (full reductions, 0-d
// updates, stored scalars) runs in one-thread launches, in program order.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vaec {
#define GEN_PASS_DEF_MAPTOGPU
#include "codegen/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// Threads per block of an elementwise launch: a multiple of the warp, and
/// enough blocks for every SM from 128x20 elements on.
constexpr int64_t kThreadsPerBlock = 256;

/// The entry point that stays on the host: vae_init_params writes host
/// memory in every library (the runtime uploads the parameters).
constexpr llvm::StringLiteral kHostEntryPoint = "vae_init_params";

/// memref.copy lowers to a host memcpy or memrefCopy call, which cannot
/// touch device memory: as linalg.copy it becomes a kernel like the rest.
void copiesToLinalg(func::FuncOp func, IRRewriter &rewriter) {
  SmallVector<memref::CopyOp> copies;
  func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
  for (memref::CopyOp copy : copies) {
    rewriter.setInsertionPoint(copy);
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(), copy.getTarget());
  }
}

/// The parallel dimensions of `op` first (a bias gradient sums over the
/// batch, its outer dimension): lowered, the op is then a parallel loop nest
/// with the reduction inside, a kernel, rather than a serial loop around it.
linalg::LinalgOp parallelDimensionsFirst(linalg::LinalgOp op, IRRewriter &rewriter) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> order;
  for (unsigned dim = 0; dim < iterators.size(); ++dim)
    if (iterators[dim] == utils::IteratorType::parallel)
      order.push_back(dim);
  for (unsigned dim = 0; dim < iterators.size(); ++dim)
    if (iterators[dim] != utils::IteratorType::parallel)
      order.push_back(dim);
  if (llvm::equal(order, llvm::seq<unsigned>(0, iterators.size())))
    return op;
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    FailureOr<linalg::GenericOp> generalized = linalg::generalizeNamedOp(rewriter, op);
    if (failed(generalized))
      return op;
    generic = *generalized;
  }
  FailureOr<linalg::GenericOp> interchanged = linalg::interchangeGenericOp(rewriter, generic, order);
  return succeeded(interchanged) ? linalg::LinalgOp(*interchanged) : linalg::LinalgOp(generic);
}

LogicalResult linalgToParallelLoops(func::FuncOp func, IRRewriter &rewriter) {
  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  for (linalg::LinalgOp op : ops) {
    rewriter.setInsertionPoint(op);
    op = parallelDimensionsFirst(op, rewriter);
    if (failed(linalg::linalgOpToParallelLoops(rewriter, op)))
      return op->emitError("cannot lower to loops for the GPU");
    rewriter.eraseOp(op);
  }
  return success();
}

/// Whether `value` is defined outside `loop`.
bool isInvariant(Value value, scf::ForOp loop) {
  return !loop->isAncestor(value.getParentRegion()->getParentOp());
}

/// A reduction loop (a matmul's k, a row sum's columns) reads and writes
/// one element per iteration: the accumulator becomes an iter_arg, loaded
/// before the loop and stored after it, so that it stays in a register.
/// The memory plan never overlaps buffers that are live together, so no
/// other access in the loop can alias it.
void keepAccumulatorInRegister(scf::ForOp loop, IRRewriter &rewriter) {
  if (loop.getNumRegionIterArgs() != 0)
    return;
  memref::StoreOp store;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (auto candidate = dyn_cast<memref::StoreOp>(op)) {
      if (store)
        return; // one accumulator per loop
      store = candidate;
    } else if (op.getNumRegions() != 0) {
      return;
    }
  }
  if (!store || !llvm::all_of(store.getIndices(), [&](Value index) { return isInvariant(index, loop); }) ||
      !isInvariant(store.getMemRef(), loop))
    return;
  memref::LoadOp load;
  for (Operation &op : loop.getBody()->without_terminator()) {
    auto candidate = dyn_cast<memref::LoadOp>(op);
    if (!candidate || candidate.getMemRef() != store.getMemRef())
      continue;
    if (load || candidate.getIndices() != store.getIndices())
      return; // another element of the accumulator's buffer
    load = candidate;
  }
  if (!load || !load->isBeforeInBlock(store))
    return;

  rewriter.setInsertionPoint(loop);
  Value initial = rewriter.create<memref::LoadOp>(load.getLoc(), store.getMemRef(), store.getIndices());
  auto accumulating = rewriter.create<scf::ForOp>(loop.getLoc(), loop.getLowerBound(),
                                                  loop.getUpperBound(), loop.getStep(),
                                                  ValueRange{initial});
  Block *body = accumulating.getBody();
  if (!body->empty()) // the builder adds no yield to a loop that carries values
    rewriter.eraseOp(body->getTerminator());
  rewriter.mergeBlocks(loop.getBody(), body, {body->getArgument(0)});
  rewriter.replaceAllUsesWith(load.getResult(), body->getArgument(1));
  rewriter.eraseOp(load);
  rewriter.setInsertionPoint(body->getTerminator());
  rewriter.replaceOpWithNewOp<scf::YieldOp>(body->getTerminator(), store.getValue());
  rewriter.setInsertionPointAfter(accumulating);
  rewriter.create<memref::StoreOp>(store.getLoc(), accumulating.getResult(0), store.getMemRef(),
                                   store.getIndices());
  rewriter.eraseOp(store);
  rewriter.eraseOp(loop);
}

/// A launch of `blocks` x `threads` threads whose body the caller fills
/// before the returned builder's insertion point (the gpu.terminator).
gpu::LaunchOp createLaunch(Location loc, Value blocks, Value threads, IRRewriter &rewriter) {
  Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
  auto launch = rewriter.create<gpu::LaunchOp>(loc, blocks, one, one, threads, one, one);
  Block &body = launch.getBody().front();
  rewriter.setInsertionPointToEnd(&body);
  auto terminator = rewriter.create<gpu::TerminatorOp>(loc);
  rewriter.setInsertionPoint(terminator);
  return launch;
}

/// scf.parallel (i, j) = (0, 0) to (M, N) -> a launch of ceil(M*N/256)
/// blocks of 256 threads; thread t of block b takes element b*256+t, with j
/// the fastest index so that neighbouring threads touch neighbouring
/// addresses (row-major buffers: coalesced loads and stores).
void launchParallelLoop(scf::ParallelOp loop, IRRewriter &rewriter) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> tripCounts;
  Value total = rewriter.create<arith::ConstantIndexOp>(loc, 1);
  for (auto [lower, upper, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    // Folded to constants where the shapes are static: outlining then
    // sinks them into the kernel, which divides by constants.
    Value span = rewriter.createOrFold<arith::SubIOp>(loc, upper, lower);
    Value count = rewriter.createOrFold<arith::CeilDivSIOp>(loc, span, step);
    tripCounts.push_back(count);
    total = rewriter.createOrFold<arith::MulIOp>(loc, total, count);
  }
  Value threads = rewriter.create<arith::ConstantIndexOp>(loc, kThreadsPerBlock);
  Value blocks = rewriter.createOrFold<arith::CeilDivSIOp>(loc, total, threads);
  gpu::LaunchOp launch = createLaunch(loc, blocks, threads, rewriter);

  Value offset = rewriter.create<arith::MulIOp>(loc, launch.getBlockIds().x, threads);
  Value linear = rewriter.create<arith::AddIOp>(loc, offset, launch.getThreadIds().x);
  Value inside = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, linear, total);
  auto guard = rewriter.create<scf::IfOp>(loc, inside, /*withElseRegion=*/false);
  rewriter.setInsertionPoint(guard.thenBlock()->getTerminator());
  SmallVector<Value> inductionValues(tripCounts.size());
  Value rest = linear;
  for (int64_t dim = tripCounts.size() - 1; dim >= 0; --dim) {
    Value position = dim == 0 ? rest : rewriter.create<arith::RemUIOp>(loc, rest, tripCounts[dim]);
    if (dim != 0)
      rest = rewriter.create<arith::DivUIOp>(loc, rest, tripCounts[dim]);
    Value scaled = rewriter.createOrFold<arith::MulIOp>(loc, position, loop.getStep()[dim]);
    inductionValues[dim] = rewriter.createOrFold<arith::AddIOp>(loc, scaled, loop.getLowerBound()[dim]);
  }
  IRMapping mapping;
  mapping.map(loop.getInductionVars(), inductionValues);
  for (Operation &op : loop.getBody()->without_terminator())
    rewriter.clone(op, mapping);
  rewriter.eraseOp(loop);
}

/// Moves `serial` (ops in program order) into a one-thread launch before
/// `before`.
void launchSerially(ArrayRef<Operation *> serial, Operation *before, IRRewriter &rewriter) {
  if (serial.empty())
    return;
  rewriter.setInsertionPoint(before);
  Location loc = serial.front()->getLoc();
  Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
  createLaunch(loc, one, one, rewriter);
  for (Operation *op : serial)
    rewriter.moveOpBefore(op, rewriter.getInsertionBlock(), rewriter.getInsertionPoint());
}

struct MapToGPUPass : vaec::impl::MapToGPUBase<MapToGPUPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.getSymName() == kHostEntryPoint || func.isExternal())
      return;
    IRRewriter rewriter(&getContext());
    copiesToLinalg(func, rewriter);
    if (failed(linalgToParallelLoops(func, rewriter)))
      return signalPassFailure();
    // The loops index through single-dimension affine.applys, one per
    // access: folded, a loop-invariant index is one value, which
    // keepAccumulatorInRegister recognizes.
    RewritePatternSet patterns(&getContext());
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops) // innermost first
      keepAccumulatorInRegister(loop, rewriter);

    // Top-level code: views and scalar arithmetic stay on the host; a
    // parallel loop nest is a launch of its own; what else touches memory
    // (and whatever computes with what it loaded) runs serially on the
    // device, batched into one launch up to the next parallel loop.
    Block &body = func.getBody().front();
    SmallVector<Operation *> serial;
    llvm::SmallPtrSet<Operation *, 16> onDevice;
    SmallVector<Operation *> topLevel;
    for (Operation &op : body.without_terminator())
      topLevel.push_back(&op);
    for (Operation *op : topLevel) {
      bool readsDeviceValue = llvm::any_of(op->getOperands(), [&](Value operand) {
        Operation *owner = operand.getDefiningOp();
        return owner && onDevice.contains(owner);
      });
      auto parallel = dyn_cast<scf::ParallelOp>(op);
      if (parallel && !readsDeviceValue && parallel.getNumResults() == 0) {
        launchSerially(serial, op, rewriter);
        serial.clear();
        launchParallelLoop(parallel, rewriter);
        continue;
      }
      if (readsDeviceValue || !isMemoryEffectFree(op)) {
        serial.push_back(op);
        onDevice.insert(op);
      }
    }
    launchSerially(serial, body.getTerminator(), rewriter);
    // A host op that uses a value now computed on the device cannot be.
    WalkResult escaped = func.walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return WalkResult::advance();
      for (Value operand : op->getOperands())
        if (Operation *owner = operand.getDefiningOp())
          if (owner->getParentOfType<gpu::LaunchOp>()) {
            op->emitError("uses a value computed on the GPU from host code");
            return WalkResult::interrupt();
          }
      return WalkResult::advance();
    });
    if (escaped.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
