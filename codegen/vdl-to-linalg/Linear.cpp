//===- Linear.cpp - dense layers, matmuls, reshapes -----------------------===//
//
// Dense layers and the matmuls of their gradients as linalg.matmul (the bias
// its initial accumulator), row sums, broadcasts, reshapes and constants.
//
//===----------------------------------------------------------------------===//

#include "codegen/vdl-to-linalg/Builders.h"
#include "codegen/vdl-to-linalg/PopulatePatterns.h"

using namespace mlir;
using namespace vaec::vdl;
using namespace vaec::vdl_to_linalg;

namespace {

//===----------------------------------------------------------------------===//
// Matmuls, row sums, broadcasts
//===----------------------------------------------------------------------===//

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (op.getTransposeLhs() && op.getTransposeRhs())
      return rewriter.notifyMatchFailure(op, "both operands transposed");
    Location loc = op.getLoc();
    Value init = zerosLike(rewriter, loc, op.getType());
    SmallVector<Value> ins{adaptor.getLhs(), adaptor.getRhs()};
    Operation *matmul;
    if (op.getTransposeLhs()) {
      // xᵀ·dy: reading x[b, k:k+16] per step is contiguous, so it tiles like
      // a plain matmul.
      matmul = rewriter.create<linalg::MatmulTransposeAOp>(loc, TypeRange{op.getType()}, ins,
                                                           ValueRange{init});
    } else if (op.getTransposeRhs()) {
      // dy·Wᵀ: transpose W once (K·N moves against 2·B·K·N FLOPs) so the
      // product is a plain matmul with unit-stride rows.
      auto rhsType = cast<RankedTensorType>(adaptor.getRhs().getType());
      auto transposedType = RankedTensorType::get({rhsType.getDimSize(1), rhsType.getDimSize(0)},
                                                  rhsType.getElementType());
      Value transposed = rewriter
                             .create<linalg::TransposeOp>(loc, adaptor.getRhs(),
                                                          emptyLike(rewriter, loc, transposedType),
                                                          ArrayRef<int64_t>{1, 0})
                             .getResult()[0];
      matmul = rewriter.create<linalg::MatmulOp>(
          loc, TypeRange{op.getType()}, ValueRange{adaptor.getLhs(), transposed}, ValueRange{init});
    } else {
      matmul =
          rewriter.create<linalg::MatmulOp>(loc, TypeRange{op.getType()}, ins, ValueRange{init});
    }
    rewriter.replaceOp(op, matmul->getResults());
    return success();
  }
};

struct ReduceRowsLowering : OpConversionPattern<ReduceRowsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ReduceRowsOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned rank = op.getInput().getType().getRank();
    SmallVector<AffineExpr> kept;
    for (unsigned d = 1; d < rank; ++d)
      kept.push_back(rewriter.getAffineDimExpr(d));
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank),
                                AffineMap::get(rank, 0, kept, rewriter.getContext())};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators[0] = utils::IteratorType::reduction;
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, op.getType(), adaptor.getInput(), zerosLike(rewriter, loc, op.getType()), maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(l, b.create<arith::AddFOp>(l, args[1], args[0]).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// Each example's elements as [batch, N] (a collapse of every non-batch
/// dimension), then in the result's shape (an expand): both views, for
/// any two shapes of one size.
struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value value = adaptor.getInput();
    auto input = cast<RankedTensorType>(value.getType());
    RankedTensorType result = op.getType();
    auto flat =
        RankedTensorType::get({input.getDimSize(0), input.getNumElements() / input.getDimSize(0)},
                              input.getElementType());
    // [[0], [1, ..., rank - 1]]: the batch, and the rest as one.
    auto grouping = [](int64_t rank) {
      ReassociationIndices rest;
      for (int64_t i = 1; i < rank; ++i)
        rest.push_back(i);
      return SmallVector<ReassociationIndices>{{0}, rest};
    };
    if (input.getRank() > 2)
      value = rewriter.create<tensor::CollapseShapeOp>(loc, flat, value, grouping(input.getRank()));
    if (result.getRank() > 2)
      value =
          rewriter.create<tensor::ExpandShapeOp>(loc, result, value, grouping(result.getRank()));
    rewriter.replaceOp(op, value);
    return success();
  }
};

struct BroadcastLowering : OpConversionPattern<BroadcastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(BroadcastOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned rank = op.getType().getRank();
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, {}, rewriter.getContext()),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    double scale = op.getScale().convertToFloat();
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, op.getType(), adaptor.getInput(), emptyLike(rewriter, loc, op.getType()), maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(
              l, b.create<arith::MulFOp>(l, args[0], f32(b, l, scale)).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Dense and constants
//===----------------------------------------------------------------------===//

struct DenseLowering : OpConversionPattern<DenseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(DenseOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    // The bias is the matmul's initial accumulator: no separate add loop.
    Value init = emptyLike(rewriter, loc, op.getType());
    Value bias =
        rewriter.create<linalg::BroadcastOp>(loc, adaptor.getBias(), init, ArrayRef<int64_t>{0})
            .getResult()[0];
    rewriter.replaceOpWithNewOp<linalg::MatmulOp>(
        op, TypeRange{op.getType()}, ValueRange{adaptor.getInput(), adaptor.getWeight()},
        ValueRange{bias});
    return success();
  }
};

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConstantOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value value = rewriter.create<arith::ConstantOp>(loc, op.getValueAttr());
    rewriter.replaceOpWithNewOp<linalg::FillOp>(op, value, emptyLike(rewriter, loc, op.getType()));
    return success();
  }
};

} // namespace

void vaec::vdl_to_linalg::populateLinearPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<DenseLowering, ConstantLowering, MatmulLowering, ReduceRowsLowering,
               BroadcastLowering, ReshapeLowering>(ctx);
}
