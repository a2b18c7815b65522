//===- MapToGPU.cpp - the vdl-map-to-gpu pass -----------------------------===//
//
// An entry point on buffers -> host code that only computes views and
// launches kernels: a matmul becomes a launch of thread blocks that stage K
// slices in shared memory and accumulate register tiles; every other linalg
// op a launch of one thread per element of its parallel loops; the serial
// rest (full reductions, 0-d updates, stored scalars) one-thread launches,
// in program order.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vaec {
#define GEN_PASS_DEF_MAPTOGPU
#include "codegen/gpu/Passes.h.inc"
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

//===----------------------------------------------------------------------===//
// Matmuls: thread-block tiles in shared memory, a register tile per thread.
//===----------------------------------------------------------------------===//

/// C (+)= A·B of linalg.matmul and its transposed forms, on static shapes.
struct Matmul {
  Value a, b, c;
  /// A dense layer's bias, broadcast into C just before: C = bias + A·B in
  /// the epilogue, one kernel and one pass over C less (null: C += A·B).
  Value bias;
  Operation *biasBroadcast = nullptr;
  /// The elementwise op right after it that reads C (a ReLU): computed in
  /// the epilogue from the value just stored (null: none).
  linalg::GenericOp epilogue;
  bool aTransposed = false, bTransposed = false; // A is [K, M]; B is [N, K]
  int64_t m = 0, n = 0, k = 0;
};

/// Whether `op` maps buffers of `shape`'s shape element to element into one
/// output: an epilogue the matmul's threads can compute for their elements.
bool isElementwiseOn(linalg::GenericOp op, MemRefType shape) {
  if (op.getNumDpsInits() != 1 || !op.hasPureBufferSemantics() ||
      op.getNumParallelLoops() != op.getNumLoops() ||
      !llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) { return map.isIdentity(); }))
    return false;
  return llvm::all_of(op->getOperands(), [&](Value operand) {
    auto type = dyn_cast<MemRefType>(operand.getType());
    return type && type.getShape() == shape.getShape();
  });
}

/// The buffer `view` lies in and its byte range there: a view of the arena
/// at a constant offset, or (through subviews and reshapes) a whole
/// argument. Nothing where that is not known.
std::optional<std::tuple<Value, int64_t, int64_t>> placeOf(Value view) {
  if (isa<BlockArgument>(view))
    return std::make_tuple(view, int64_t(0), std::numeric_limits<int64_t>::max());
  Operation *def = view.getDefiningOp();
  if (auto arenaView = dyn_cast_or_null<memref::ViewOp>(def)) {
    std::optional<int64_t> shift = getConstantIntValue(arenaView.getByteShift());
    MemRefType type = arenaView.getType();
    if (!shift || !type.hasStaticShape())
      return std::nullopt;
    return std::make_tuple(arenaView.getSource(), *shift,
                           *shift +
                               type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8));
  }
  if (isa_and_nonnull<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp>(def))
    if (auto whole = placeOf(def->getOperand(0)))
      return std::make_tuple(std::get<0>(*whole), int64_t(0), std::numeric_limits<int64_t>::max());
  return std::nullopt;
}

/// Whether two buffers may share memory. The memory plan lets a buffer
/// that is born after an op reuse the memory of that op's inputs: what an
/// epilogue writes must not be A or B, which other blocks still read.
bool mayOverlap(Value x, Value y) {
  auto a = placeOf(x), b = placeOf(y);
  if (!a || !b)
    return true;
  if (std::get<0>(*a) != std::get<0>(*b))
    return false; // distinct arguments of the C ABI, or the arena and one
  return std::get<1>(*a) < std::get<2>(*b) && std::get<1>(*b) < std::get<2>(*a);
}

std::optional<Matmul> matchMatmul(linalg::LinalgOp op) {
  if (!isa<linalg::MatmulOp, linalg::MatmulTransposeAOp, linalg::MatmulTransposeBOp>(op) ||
      !op.hasPureBufferSemantics())
    return std::nullopt;
  Matmul mm;
  mm.a = op.getDpsInputs()[0];
  mm.b = op.getDpsInputs()[1];
  mm.c = op.getDpsInits()[0];
  mm.aTransposed = isa<linalg::MatmulTransposeAOp>(op);
  mm.bTransposed = isa<linalg::MatmulTransposeBOp>(op);
  auto a = cast<MemRefType>(mm.a.getType()), c = cast<MemRefType>(mm.c.getType());
  if (!a.hasStaticShape() || !c.hasStaticShape() ||
      !cast<MemRefType>(mm.b.getType()).hasStaticShape() || !a.getElementType().isF32())
    return std::nullopt;
  mm.m = c.getDimSize(0);
  mm.n = c.getDimSize(1);
  mm.k = a.getDimSize(mm.aTransposed ? 0 : 1);
  auto broadcast = dyn_cast_or_null<linalg::BroadcastOp>(op->getPrevNode());
  if (broadcast && broadcast.getInit() == mm.c &&
      broadcast.getDimensions() == ArrayRef<int64_t>{0}) {
    mm.bias = broadcast.getInput();
    mm.biasBroadcast = broadcast;
  }
  // The next op that is not a view or a constant (the ReLU's output is a
  // view made between the two); those move before the matmul.
  Operation *next = op->getNextNode();
  SmallVector<Operation *> between;
  while (next && isMemoryEffectFree(next) && next->getNumRegions() == 0 &&
         !isa<linalg::LinalgOp>(next)) {
    between.push_back(next);
    next = next->getNextNode();
  }
  auto elementwise = dyn_cast_or_null<linalg::GenericOp>(next);
  if (elementwise && isElementwiseOn(elementwise, c) &&
      llvm::is_contained(elementwise.getDpsInputs(), mm.c) &&
      !mayOverlap(elementwise.getDpsInits()[0], mm.a) &&
      !mayOverlap(elementwise.getDpsInits()[0], mm.b)) {
    for (Operation *view : between)
      view->moveBefore(op);
    mm.epilogue = elementwise;
  }
  return mm;
}

/// 16 x 16 threads per block; each computes rows ty + 16 r and columns
/// tx + 16 c of the block's tile (neighbouring threads, neighbouring
/// columns: conflict-free shared-memory reads, coalesced stores of C).
constexpr int64_t kThreadSide = 16;
/// The depth of the K slice that is staged in shared memory at a time.
constexpr int64_t kSliceDepth = 16;

/// The side of a block's square tile of C: 64 (4 x 4 per thread) where that
/// still gives a block per SM of a large GPU, else 32 (2 x 2).
int64_t matmulTile(const Matmul &mm) {
  int64_t blocks64 = llvm::divideCeil(mm.m, 64) * llvm::divideCeil(mm.n, 64);
  return blocks64 >= 128 ? 64 : 32;
}

/// The matmul's elementwise epilogue on element (gm, gn) of C, whose value
/// was just stored: C's argument is `value`, every other operand is loaded
/// here; the result goes to the epilogue's output.
void storeEpilogue(IRRewriter &rewriter, Location loc, const Matmul &mm, Value value, Value gm,
                   Value gn) {
  IRMapping mapping;
  linalg::GenericOp epilogue = mm.epilogue;
  Block &body = epilogue.getRegion().front();
  for (OpOperand &operand : epilogue->getOpOperands()) {
    BlockArgument argument = body.getArgument(operand.getOperandNumber());
    if (argument.use_empty())
      continue;
    mapping.map(
        argument,
        operand.get() == mm.c
            ? value
            : rewriter.create<memref::LoadOp>(loc, operand.get(), ValueRange{gm, gn}).getResult());
  }
  for (Operation &inner : body.without_terminator())
    rewriter.clone(inner, mapping);
  Value result = mapping.lookup(cast<linalg::YieldOp>(body.getTerminator()).getOperand(0));
  rewriter.create<memref::StoreOp>(loc, result, epilogue.getDpsInits()[0], ValueRange{gm, gn});
}

/// C (+)= A·B (or C = bias + A·B) as one launch: block (bm, bn) computes a
/// tile x tile block of C.
/// Per K slice of 16, its 256 threads copy the slice of A (tile x 16) and B
/// (16 x tile) into shared memory, consecutive threads reading consecutive
/// addresses of the operand's rows, then each multiplies its rows and
/// columns of the slice into a register tile (a small private array whose
/// constant indices LLVM promotes to registers); C is read and written once.
void launchTiledMatmul(linalg::LinalgOp op, const Matmul &mm, IRRewriter &rewriter) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  int64_t tile = matmulTile(mm), perThread = tile / kThreadSide;
  int64_t blocksM = llvm::divideCeil(mm.m, tile), blocksN = llvm::divideCeil(mm.n, tile);
  auto constant = [&](int64_t value) -> Value {
    return rewriter.create<arith::ConstantIndexOp>(loc, value);
  };
  Type f32 = rewriter.getF32Type();
  auto workgroup = gpu::AddressSpaceAttr::get(rewriter.getContext(), gpu::AddressSpace::Workgroup);
  // Slices as [k][m] and [k][n]: the inner loop reads a row of each.
  auto sliceType =
      MemRefType::get({kSliceDepth, tile}, f32, MemRefLayoutAttrInterface(), workgroup);
  Value one = constant(1);
  auto launch = rewriter.create<gpu::LaunchOp>(
      loc, constant(blocksM * blocksN), one, one, constant(kThreadSide * kThreadSide), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr, ValueRange{},
      TypeRange{sliceType, sliceType});
  Block &body = launch.getBody().front();
  rewriter.setInsertionPointToEnd(&body);
  auto terminator = rewriter.create<gpu::TerminatorOp>(loc);
  rewriter.setInsertionPoint(terminator);
  Value sliceA = launch.getWorkgroupAttributions()[0],
        sliceB = launch.getWorkgroupAttributions()[1];
  Value thread = launch.getThreadIds().x, block = launch.getBlockIds().x;
  auto add = [&](Value x, Value y) { return rewriter.createOrFold<arith::AddIOp>(loc, x, y); };
  auto mul = [&](Value x, int64_t y) {
    return rewriter.createOrFold<arith::MulIOp>(loc, x, constant(y));
  };
  auto div = [&](Value x, int64_t y) {
    return rewriter.createOrFold<arith::DivUIOp>(loc, x, constant(y));
  };
  auto rem = [&](Value x, int64_t y) {
    return rewriter.createOrFold<arith::RemUIOp>(loc, x, constant(y));
  };
  auto less = [&](Value x, int64_t bound) {
    return rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x, constant(bound));
  };
  Value tx = rem(thread, kThreadSide), ty = div(thread, kThreadSide);
  Value m0 = mul(div(block, blocksN), tile), n0 = mul(rem(block, blocksN), tile);
  Value zero = rewriter.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(0));
  Value accumulators =
      rewriter.create<memref::AllocaOp>(loc, MemRefType::get({perThread, perThread}, f32));
  for (int64_t r = 0; r < perThread; ++r)
    for (int64_t c = 0; c < perThread; ++c)
      rewriter.create<memref::StoreOp>(loc, zero, accumulators,
                                       ValueRange{constant(r), constant(c)});

  // Element `e` of a slice: `outer` x `inner` row-major as the operand is
  // laid out, so that consecutive threads read consecutive addresses.
  auto stage = [&](Value operand, bool kMajor, Value origin, int64_t extent, Value slice,
                   Value k0) {
    int64_t inner = kMajor ? tile : kSliceDepth;
    for (int64_t first = 0; first < tile * kSliceDepth; first += kThreadSide * kThreadSide) {
      Value e = add(thread, constant(first));
      Value outerIndex = div(e, inner), innerIndex = rem(e, inner);
      Value kk = kMajor ? outerIndex : innerIndex, xx = kMajor ? innerIndex : outerIndex;
      Value gk = add(k0, kk), gx = add(origin, xx);
      Value inside = rewriter.create<arith::AndIOp>(loc, less(gk, mm.k), less(gx, extent));
      auto guarded = rewriter.create<scf::IfOp>(
          loc, inside,
          [&](OpBuilder &b, Location l) {
            SmallVector<Value> at =
                kMajor ? SmallVector<Value>{gk, gx} : SmallVector<Value>{gx, gk};
            b.create<scf::YieldOp>(l, ValueRange{b.create<memref::LoadOp>(l, operand, at)});
          },
          [&](OpBuilder &b, Location l) { b.create<scf::YieldOp>(l, ValueRange{zero}); });
      rewriter.create<memref::StoreOp>(loc, guarded.getResult(0), slice, ValueRange{kk, xx});
    }
  };
  auto slices = rewriter.create<scf::ForOp>(
      loc, constant(0), constant(llvm::alignTo(mm.k, kSliceDepth)), constant(kSliceDepth));
  rewriter.setInsertionPointToStart(slices.getBody());
  Value k0 = slices.getInductionVar();
  // A is [M, K] (K inner) or, transposed, [K, M]; B is [K, N] or [N, K].
  stage(mm.a, /*kMajor=*/mm.aTransposed, m0, mm.m, sliceA, k0);
  stage(mm.b, /*kMajor=*/!mm.bTransposed, n0, mm.n, sliceB, k0);
  rewriter.create<gpu::BarrierOp>(loc);
  for (int64_t kk = 0; kk < kSliceDepth; ++kk) {
    SmallVector<Value> as, bs;
    for (int64_t r = 0; r < perThread; ++r)
      as.push_back(rewriter.create<memref::LoadOp>(
          loc, sliceA, ValueRange{constant(kk), add(ty, constant(r * kThreadSide))}));
    for (int64_t c = 0; c < perThread; ++c)
      bs.push_back(rewriter.create<memref::LoadOp>(
          loc, sliceB, ValueRange{constant(kk), add(tx, constant(c * kThreadSide))}));
    for (int64_t r = 0; r < perThread; ++r)
      for (int64_t c = 0; c < perThread; ++c) {
        SmallVector<Value, 2> at = {constant(r), constant(c)};
        Value sum = rewriter.create<memref::LoadOp>(loc, accumulators, at);
        sum = rewriter.create<math::FmaOp>(loc, as[r], bs[c], sum);
        rewriter.create<memref::StoreOp>(loc, sum, accumulators, at);
      }
  }
  rewriter.create<gpu::BarrierOp>(loc); // before the next slice overwrites these
  rewriter.setInsertionPointAfter(slices);
  for (int64_t r = 0; r < perThread; ++r)
    for (int64_t c = 0; c < perThread; ++c) {
      Value gm = add(m0, add(ty, constant(r * kThreadSide)));
      Value gn = add(n0, add(tx, constant(c * kThreadSide)));
      Value inside = rewriter.create<arith::AndIOp>(loc, less(gm, mm.m), less(gn, mm.n));
      auto guard = rewriter.create<scf::IfOp>(loc, inside, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard inGuard(rewriter);
      rewriter.setInsertionPoint(guard.thenBlock()->getTerminator());
      Value sum =
          rewriter.create<memref::LoadOp>(loc, accumulators, ValueRange{constant(r), constant(c)});
      Value before = mm.bias ? rewriter.create<memref::LoadOp>(loc, mm.bias, ValueRange{gn})
                             : rewriter.create<memref::LoadOp>(loc, mm.c, ValueRange{gm, gn});
      Value value = rewriter.create<arith::AddFOp>(loc, before, sum);
      rewriter.create<memref::StoreOp>(loc, value, mm.c, ValueRange{gm, gn});
      if (!mm.epilogue)
        continue;
      storeEpilogue(rewriter, loc, mm, value, gm, gn);
    }
  rewriter.eraseOp(op);
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
  FailureOr<linalg::GenericOp> interchanged =
      linalg::interchangeGenericOp(rewriter, generic, order);
  return succeeded(interchanged) ? linalg::LinalgOp(*interchanged) : linalg::LinalgOp(generic);
}

LogicalResult linalgToParallelLoops(func::FuncOp func, IRRewriter &rewriter) {
  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  // Matmuls first: one whose bias broadcast precedes it takes the broadcast.
  for (linalg::LinalgOp &op : ops)
    if (std::optional<Matmul> mm = op ? matchMatmul(op) : std::nullopt) {
      auto forget = [&](Operation *fused) {
        *llvm::find_if(ops, [&](linalg::LinalgOp other) { return other == fused; }) = nullptr;
      };
      Operation *broadcast = mm->biasBroadcast;
      if (broadcast)
        forget(broadcast);
      if (mm->epilogue)
        forget(mm->epilogue);
      launchTiledMatmul(op, *mm, rewriter);
      if (broadcast)
        rewriter.eraseOp(broadcast);
      if (mm->epilogue)
        rewriter.eraseOp(mm->epilogue);
      op = nullptr;
    }
  for (linalg::LinalgOp op : ops) {
    if (!op)
      continue;
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
  if (!store ||
      !llvm::all_of(store.getIndices(), [&](Value index) { return isInvariant(index, loop); }) ||
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
  Value initial =
      rewriter.create<memref::LoadOp>(load.getLoc(), store.getMemRef(), store.getIndices());
  auto accumulating =
      rewriter.create<scf::ForOp>(loop.getLoc(), loop.getLowerBound(), loop.getUpperBound(),
                                  loop.getStep(), ValueRange{initial});
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
    inductionValues[dim] =
        rewriter.createOrFold<arith::AddIOp>(loc, scaled, loop.getLowerBound()[dim]);
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
      if (isa<gpu::LaunchOp>(op)) { // a tiled matmul
        launchSerially(serial, op, rewriter);
        serial.clear();
        continue;
      }
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
