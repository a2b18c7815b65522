//===- UpdateInPlace.cpp - the vdl-update-in-place pass -------------------===//
//
// Re-threads the insert_slice chains that write updated parameters back into
// their packed buffers through the update ops themselves, so that One-Shot
// Bufferize sees matching extract/insert pairs and updates in place.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace vaec {
#define GEN_PASS_DEF_UPDATEINPLACE
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// One `insert_slice %collapse(%op#k) into %chain[o][n][1]` whose `%op#k` is
/// tied to the destination `%expand(extract_slice %arg[o][n][1])`.
struct SliceUpdate {
  tensor::InsertSliceOp insert;
  tensor::CollapseShapeOp collapse; // null when the slice is 1-D
  OpOperand *init;                  // the update op's tied destination
  tensor::ExpandShapeOp expand;     // null when the slice is 1-D
  BlockArgument buffer;             // the packed argument the chain starts at
};

/// The static [begin, end) of a unit-stride 1-D slice; nothing otherwise.
std::optional<std::pair<int64_t, int64_t>> staticRange(OffsetSizeAndStrideOpInterface slice) {
  if (slice.getStaticOffsets().size() != 1 || !slice.hasUnitStride() ||
      ShapedType::isDynamic(slice.getStaticOffsets()[0]) ||
      ShapedType::isDynamic(slice.getStaticSizes()[0]))
    return std::nullopt;
  int64_t begin = slice.getStaticOffsets()[0];
  return std::make_pair(begin, begin + slice.getStaticSizes()[0]);
}

/// Matches `insert` against the pattern of `SliceUpdate`.
std::optional<SliceUpdate> matchSliceUpdate(tensor::InsertSliceOp insert, BlockArgument buffer) {
  SliceUpdate update{insert, nullptr, nullptr, nullptr, buffer};
  Value source = insert.getSource();
  if ((update.collapse = source.getDefiningOp<tensor::CollapseShapeOp>()))
    source = update.collapse.getSrc();
  auto result = dyn_cast<OpResult>(source);
  auto op = result ? dyn_cast<DestinationStyleOpInterface>(result.getOwner())
                   : DestinationStyleOpInterface();
  if (!op || !op.hasPureTensorSemantics())
    return std::nullopt;
  update.init = op.getTiedOpOperand(result);
  Value init = update.init->get();
  if ((update.expand = init.getDefiningOp<tensor::ExpandShapeOp>()))
    init = update.expand.getSrc();
  auto extract = init.getDefiningOp<tensor::ExtractSliceOp>();
  if (!extract || extract.getSource() != buffer || bool(update.expand) != bool(update.collapse) ||
      (update.expand &&
       update.expand.getReassociationIndices() != update.collapse.getReassociationIndices()))
    return std::nullopt;
  auto range = staticRange(insert);
  if (!range || range != staticRange(extract))
    return std::nullopt;
  return update;
}

/// The chain of insert_slices ending in `value` (first one first) when it
/// starts at a function argument and every link has no other user.
std::optional<SmallVector<SliceUpdate>> matchChain(Value value) {
  SmallVector<tensor::InsertSliceOp> links;
  while (auto insert = value.getDefiningOp<tensor::InsertSliceOp>()) {
    if (!links.empty() && !insert->hasOneUse())
      return std::nullopt;
    links.push_back(insert);
    value = insert.getDest();
  }
  auto buffer = dyn_cast<BlockArgument>(value);
  if (links.empty() || !buffer)
    return std::nullopt;
  SmallVector<SliceUpdate> chain;
  SmallVector<std::pair<int64_t, int64_t>> ranges;
  for (tensor::InsertSliceOp insert : llvm::reverse(links)) {
    std::optional<SliceUpdate> update = matchSliceUpdate(insert, buffer);
    if (!update)
      return std::nullopt;
    // Re-threading reorders the insertions: only disjoint slices commute.
    auto range = *staticRange(insert);
    for (auto [begin, end] : ranges)
      if (range.first < end && begin < range.second)
        return std::nullopt;
    ranges.push_back(range);
    chain.push_back(*update);
  }
  return chain;
}

struct UpdateInPlacePass : vaec::impl::UpdateInPlaceBase<UpdateInPlacePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    auto ret = cast<func::ReturnOp>(func.front().getTerminator());
    SmallVector<SliceUpdate> updates;
    SmallVector<std::pair<OpOperand *, Value>> returned; // and its buffer
    for (OpOperand &operand : ret->getOpOperands())
      if (auto chain = matchChain(operand.get())) {
        llvm::append_range(updates, *chain);
        returned.emplace_back(&operand, chain->front().buffer);
      }
    if (updates.empty())
      return;
    // Updates whose op is not in the function's block are left alone.
    for (const SliceUpdate &update : updates)
      if (update.init->getOwner()->getBlock() != &func.front())
        return;
    llvm::stable_sort(updates, [](const SliceUpdate &a, const SliceUpdate &b) {
      return a.init->getOwner()->isBeforeInBlock(b.init->getOwner());
    });

    IRRewriter rewriter(&getContext());
    DenseMap<Value, Value> head; // packed argument -> the chain so far
    for (const SliceUpdate &update : updates)
      head.try_emplace(update.buffer, update.buffer);
    for (auto group = updates.begin(); group != updates.end();) {
      // All results of one op: views of the chains as they are before it,
      // insertions after it.
      Operation *op = group->init->getOwner();
      auto end = std::find_if(group, updates.end(),
                              [&](const SliceUpdate &u) { return u.init->getOwner() != op; });
      rewriter.setInsertionPoint(op);
      for (SliceUpdate &update : llvm::make_range(group, end)) {
        Value slice = rewriter.create<tensor::ExtractSliceOp>(
            update.insert.getLoc(), head[update.buffer], update.insert.getMixedOffsets(),
            update.insert.getMixedSizes(), update.insert.getMixedStrides());
        if (update.expand)
          slice = rewriter.create<tensor::ExpandShapeOp>(update.expand.getLoc(),
                                                         update.expand.getResultType(), slice,
                                                         update.expand.getReassociationIndices());
        Operation *old = update.init->get().getDefiningOp();
        rewriter.modifyOpInPlace(op, [&] { update.init->set(slice); });
        // The old view, unless the forward pass still reads it.
        while (old && old->use_empty() && isa<tensor::ExpandShapeOp, tensor::ExtractSliceOp>(old)) {
          Operation *source = old->getOperand(0).getDefiningOp();
          rewriter.eraseOp(old);
          old = source;
        }
      }
      rewriter.setInsertionPointAfter(op);
      for (SliceUpdate &update : llvm::make_range(group, end)) {
        Value value = cast<DestinationStyleOpInterface>(op).getTiedOpResult(update.init);
        if (update.collapse)
          value = rewriter.create<tensor::CollapseShapeOp>(
              update.collapse.getLoc(), value, update.collapse.getReassociationIndices());
        head[update.buffer] = rewriter.create<tensor::InsertSliceOp>(
            update.insert.getLoc(), value, head[update.buffer], update.insert.getMixedOffsets(),
            update.insert.getMixedSizes(), update.insert.getMixedStrides());
      }
      group = end;
    }
    // Return the new chains; the old ones (and their reshapes) go away.
    for (auto [operand, buffer] : returned) {
      auto old = operand->get().getDefiningOp<tensor::InsertSliceOp>();
      rewriter.modifyOpInPlace(ret, [&] { operand->set(head[buffer]); });
      while (old && old->use_empty()) {
        auto next = old.getDest().getDefiningOp<tensor::InsertSliceOp>();
        auto collapse = old.getSource().getDefiningOp<tensor::CollapseShapeOp>();
        rewriter.eraseOp(old);
        if (collapse && collapse->use_empty())
          rewriter.eraseOp(collapse);
        old = next;
      }
    }
  }
};

} // namespace
