//===- ElementwiseOnChannelsLast.cpp - elementwise ops channels-last -----===//
//
// The vdl-elementwise-on-channels-last pass: an elementwise op between two
// channels-last convolutions runs on their channels-last images instead of
// on NCHW copies, removing a transpose each way.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Rewrite/PatternApplicator.h"

namespace vaec {
#define GEN_PASS_DEF_ELEMENTWISEONCHANNELSLAST
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// The copy of an NCHW image to channels-last, `[B, C, H W] -> [B, H W, C]`
/// as `transpose` does it, of an elementwise op whose every operand is a
/// channels-last image copied to NCHW: the elementwise op on the
/// channels-last images instead, with no copy either way. Between two
/// direct convolutions, relu(NCHW copy of conv) copied back to channels-last
/// becomes relu(conv); in the backward pass relu_grad the same. (The NCHW
/// op stays where something else reads it.)
///   %t1 = transpose %x [0, 2, 1]; %e = expand %t1; %g = generic(%e, ...)
///   %c = collapse %g; %t2 = transpose %c [0, 2, 1]
///   -> %t2 = generic(%x, ...)
struct ElementwiseOnChannelsLast : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  /// `value` as the channels-last [B, H W, C] it was copied from: `expand
  /// (transpose [0, 2, 1] x)` to [B, C, H, W], or null.
  static Value channelsLastSource(Value value) {
    auto expand = value.getDefiningOp<tensor::ExpandShapeOp>();
    if (!expand || expand.getResultType().getRank() != 4 ||
        expand.getReassociationIndices() != SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}})
      return nullptr;
    auto transpose = expand.getSrc().getDefiningOp<linalg::TransposeOp>();
    if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 1})
      return nullptr;
    return transpose.getInput();
  }

  LogicalResult matchAndRewrite(linalg::TransposeOp op, PatternRewriter &rewriter) const override {
    if (op.getPermutation() != ArrayRef<int64_t>{0, 2, 1})
      return failure();
    auto collapse = op.getInput().getDefiningOp<tensor::CollapseShapeOp>();
    if (!collapse || collapse.getSrcType().getRank() != 4 ||
        collapse.getReassociationIndices() != SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}})
      return failure();
    auto generic = collapse.getSrc().getDefiningOp<linalg::GenericOp>();
    if (!generic || generic->getNumResults() != 1 || generic.getNumLoops() != 4 ||
        generic.getNumReductionLoops() != 0 ||
        !llvm::all_of(generic.getIndexingMapsArray(),
                      [](AffineMap map) { return map.isIdentity(); }) ||
        llvm::any_of(generic.getBody()->getOperations(),
                     [](Operation &inner) { return isa<linalg::IndexOp>(inner); }) ||
        !generic.getBody()->getArguments().back().use_empty()) // reads its init
      return failure();
    auto resultType = cast<RankedTensorType>(op.getResult()[0].getType());
    SmallVector<Value> sources;
    for (Value input : generic.getDpsInputs()) {
      Value source = channelsLastSource(input);
      if (!source ||
          source.getType() != resultType.clone(cast<ShapedType>(source.getType()).getElementType()))
        return failure();
      sources.push_back(source);
    }
    rewriter.setInsertionPoint(op);
    Location loc = generic.getLoc();
    auto type = RankedTensorType::get(
        resultType.getShape(), cast<ShapedType>(generic.getResult(0).getType()).getElementType());
    SmallVector<AffineMap> maps(sources.size() + 1, rewriter.getMultiDimIdentityMap(3));
    SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
    auto channelsLast = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, sources,
        rewriter.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType()).getResult(),
        maps, iterators);
    rewriter.cloneRegionBefore(generic.getRegion(), channelsLast.getRegion(),
                               channelsLast.getRegion().end());
    rewriter.replaceOp(op, channelsLast.getResults());
    if (vaec::vdl::VDLDialect::remarksWanted(channelsLast))
      channelsLast->emitRemark("elementwise op runs channels-last (NHWC) between direct "
                               "convolutions: no copy to NCHW and back");
    return success();
  }
};

/// Applies the pattern once to each transpose the function had on entry, in
/// order, without the greedy driver: its folding and dead-code removal would
/// also rewrite the rest of the function (the conversion's output), which is
/// the canonicalizer's job after this pass; what this pass leaves dead goes
/// there.
struct ElementwiseOnChannelsLastPass
    : vaec::impl::ElementwiseOnChannelsLastBase<ElementwiseOnChannelsLastPass> {
  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    vaec::populateElementwiseOnChannelsLastPatterns(set);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    SmallVector<linalg::TransposeOp> transposes;
    getOperation().walk([&](linalg::TransposeOp op) { transposes.push_back(op); });
    PatternApplicator applicator(patterns);
    applicator.applyDefaultCostModel();
    PatternRewriter rewriter(&getContext());
    for (linalg::TransposeOp op : transposes) {
      rewriter.setInsertionPoint(op);
      (void)applicator.matchAndRewrite(op, rewriter);
    }
  }

  FrozenRewritePatternSet patterns;
};

} // namespace

void vaec::populateElementwiseOnChannelsLastPatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseOnChannelsLast>(patterns.getContext());
}
