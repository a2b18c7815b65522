//===- PackPanels.cpp - the vdl-pack-panels pass --------------------------===//
//
// Copies a matmul's K x nb panel of B into a contiguous stack buffer once per
// column block, before the row blocks that all read it.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/TargetDescription.h"
#include "codegen/cpu/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace vaec {
#define GEN_PASS_DEF_PACKPANELS
#include "codegen/cpu/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// Whether every use of `value` reads vectors from it (a transfer_read or
/// load), which take a view of any layout.
bool onlyVectorReads(Value value) {
  return llvm::all_of(value.getUsers(), [](Operation *user) {
    return isa<vector::TransferReadOp, vector::LoadOp>(user);
  });
}

/// Whether `op` sits in at least two loops inside `outer` (a loop over row
/// blocks and the k loop): the panel is read once per row block.
bool readRepeatedly(Operation *op, Operation *outer) {
  int loops = 0;
  for (Operation *parent = op->getParentOp(); parent && parent != outer;
       parent = parent->getParentOp())
    loops += isa<scf::ForOp>(parent);
  return loops >= 2;
}

/// The bytes of a buffer a view covers: its root (a function argument or an
/// allocation) and, where a memref.view at a constant offset says so, the
/// byte range in it; [0, max) when unknown.
struct Extent {
  Value root;
  int64_t begin = 0, end = std::numeric_limits<int64_t>::max();
  bool overlaps(const Extent &other) const {
    return root == other.root && begin < other.end && other.begin < end;
  }
};

Extent extentOf(Value buffer) {
  Extent extent;
  while (Operation *def = buffer.getDefiningOp()) {
    if (auto view = dyn_cast<memref::ViewOp>(def)) {
      auto type = view.getType();
      APInt offset;
      if (type.hasStaticShape() && matchPattern(view.getByteShift(), m_ConstantInt(&offset))) {
        extent.begin = offset.getSExtValue();
        extent.end = extent.begin + type.getNumElements() * (type.getElementTypeBitWidth() / 8);
      } else {
        extent.begin = 0;
        extent.end = std::numeric_limits<int64_t>::max();
      }
      buffer = view.getSource();
      continue;
    }
    auto viewLike = dyn_cast<ViewLikeOpInterface>(def);
    if (!viewLike)
      break;
    buffer = viewLike.getViewSource();
  }
  extent.root = buffer;
  return extent;
}

/// Whether anything in `loop` writes the bytes of `buffer`.
bool writtenIn(Operation *loop, Value buffer) {
  Extent read = extentOf(buffer);
  WalkResult walk = loop->getRegion(0).walk([&](Operation *op) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    // Effects unknown (not declared, nor those of the ops nested in it):
    // it may write B.
    if (!effects)
      return op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ? WalkResult::advance()
                                                                : WalkResult::interrupt();
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &effect : instances)
      if (isa<MemoryEffects::Write>(effect.getEffect()) &&
          (!effect.getValue() || extentOf(effect.getValue()).overlaps(read)))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return walk.wasInterrupted();
}

/// A K x nb panel of B that the row blocks of a column block all read: the
/// buffer, its column offset, and the k loop's row views of it.
struct Panel {
  Value buffer;
  OpFoldResult column;
  int64_t width;
  SmallVector<memref::SubViewOp> rows;
};

/// The panels worth packing in `loop`'s body: the row views `B[k, j] [1, nb]`
/// of a 2-D buffer B with strided rows, made inside two or more loops of
/// `loop` (row blocks and the k loop) from a column j fixed for `loop`'s
/// iteration, read only as vectors, of a B that nothing in `loop` writes and
/// whose K x nb panel fits a quarter of L2 beside the other operands
/// (panelDepth; vdl-tile-and-vectorize cut a deeper K into blocks that do).
SmallVector<Panel> panelsIn(Operation *loop, Block *body, Value iv, vaec::vdl::TargetAttr target) {
  SmallVector<Panel> panels;
  body->walk([&](memref::SubViewOp row) {
    if (row.getType().getRank() != 2 || !row.hasUnitStride())
      return;
    ArrayRef<int64_t> sizes = row.getStaticSizes();
    int64_t width = sizes[1];
    if (sizes[0] != 1 || ShapedType::isDynamic(width) || width < 4 || !llvm::isPowerOf2_64(width))
      return;
    Value buffer = row.getSource();
    OpFoldResult column = row.getMixedOffsets()[1];
    // A view of the whole panel made in the loop's body (`B[0, j] [K, nb]`,
    // as tiling leaves it when an epilogue is fused): its source is B.
    if (auto whole = buffer.getDefiningOp<memref::SubViewOp>();
        whole && whole->getBlock() == body && whole.hasUnitStride() &&
        isConstantIntValue(column, 0) && isConstantIntValue(whole.getMixedOffsets()[0], 0) &&
        whole.getSourceType().getRank() == 2 &&
        whole.getStaticSizes()[0] == whole.getSourceType().getDimSize(0)) {
      buffer = whole.getSource();
      column = whole.getMixedOffsets()[1];
    }
    auto source = cast<MemRefType>(buffer.getType());
    int64_t offset;
    SmallVector<int64_t> strides;
    if (!source.hasStaticShape() || !source.getElementType().isF32() ||
        failed(getStridesAndOffset(source, strides, offset)) || strides[1] != 1 ||
        strides[0] == width || source.getDimSize(0) < 2 ||
        source.getDimSize(0) > vaec::panelDepth(target, width))
      return;
    // B and j from outside the loop's body, or j its induction variable.
    auto fixed = [&](Value value) {
      return value == iv || !loop->isAncestor(value.getParentRegion()->getParentOp());
    };
    if (!fixed(buffer))
      return;
    if (auto value = dyn_cast<Value>(column); value && !fixed(value))
      return;
    if (!onlyVectorReads(row) || !readRepeatedly(row, loop))
      return;
    for (Panel &panel : panels)
      if (panel.buffer == buffer && panel.column == column && panel.width == width) {
        panel.rows.push_back(row);
        return;
      }
    panels.push_back({buffer, column, width, {row}});
  });
  llvm::erase_if(panels, [&](const Panel &panel) { return writtenIn(loop, panel.buffer); });
  return panels;
}

/// Packs `panel` into an aligned stack buffer at the start of `body` and
/// points its row views at the copy. The buffer is allocated once per thread:
/// at the start of the innermost scf.parallel's body around (the OpenMP
/// lowering's alloca_scope hoists it into the thread's parallel region), or
/// else in the function's body right before the loop nest, so that
/// vdl-outline-kernels takes it into that nest's kernel.
void pack(Operation *loop, Block *body, Panel &panel) {
  Location loc = panel.rows.front().getLoc();
  auto source = cast<MemRefType>(panel.buffer.getType());
  int64_t rows = source.getDimSize(0);
  OpBuilder b(loop->getContext());
  if (auto parallel = isa<scf::ParallelOp>(loop) ? cast<scf::ParallelOp>(loop)
                                                 : loop->getParentOfType<scf::ParallelOp>())
    b.setInsertionPointToStart(parallel.getBody());
  else
    b.setInsertionPoint(
        loop->getParentOfType<func::FuncOp>().getBody().front().findAncestorOpInBlock(*loop));
  auto packed = b.create<memref::AllocaOp>(
      loc, MemRefType::get({rows, panel.width}, source.getElementType()), b.getI64IntegerAttr(64));
  if (packed->getBlock() == body)
    b.setInsertionPointAfter(packed);
  else
    b.setInsertionPointToStart(body);
  OpFoldResult zeroAttr = b.getIndexAttr(0), oneAttr = b.getIndexAttr(1);
  Value view = b.create<memref::SubViewOp>(
      loc, panel.buffer, ArrayRef<OpFoldResult>{zeroAttr, panel.column},
      ArrayRef<OpFoldResult>{b.getIndexAttr(rows), b.getIndexAttr(panel.width)},
      ArrayRef<OpFoldResult>{oneAttr, oneAttr});
  auto vectorType = VectorType::get({panel.width}, source.getElementType());
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  Value end = b.create<arith::ConstantIndexOp>(loc, rows);
  b.create<scf::ForOp>(
      loc, zero, end, one, ValueRange{}, [&](OpBuilder &inner, Location loc, Value k, ValueRange) {
        Value row = inner.create<vector::LoadOp>(loc, vectorType, view, ValueRange{k, zero});
        inner.create<vector::StoreOp>(loc, row, packed, ValueRange{k, zero});
        inner.create<scf::YieldOp>(loc);
      });
  for (memref::SubViewOp rowView : panel.rows) {
    OpBuilder at(rowView);
    auto row =
        at.create<memref::SubViewOp>(rowView.getLoc(), packed.getResult(),
                                     ArrayRef<OpFoldResult>{rowView.getMixedOffsets()[0], zeroAttr},
                                     rowView.getMixedSizes(), rowView.getMixedStrides());
    rowView.replaceAllUsesWith(row.getResult());
    rowView.erase();
  }
}

struct PackPanelsPass : vaec::impl::PackPanelsBase<PackPanelsPass> {
  void runOnOperation() override {
    vaec::vdl::TargetAttr target = vaec::targetOf(getOperation());
    // Outer loops first: a panel goes to the outermost loop that fixes its
    // column.
    SmallVector<Operation *> loops;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (auto loop = dyn_cast<scf::ForOp>(op); loop && loop.getNumResults() == 0)
        loops.push_back(loop);
      if (auto loop = dyn_cast<scf::ParallelOp>(op);
          loop && loop.getNumLoops() == 1 && loop.getNumResults() == 0)
        loops.push_back(loop);
    });
    for (Operation *loop : loops) {
      Block *body = &loop->getRegion(0).front();
      Value iv = body->getArgument(0);
      for (Panel &panel : panelsIn(loop, body, iv, target))
        pack(loop, body, panel);
    }
  }
};

} // namespace
