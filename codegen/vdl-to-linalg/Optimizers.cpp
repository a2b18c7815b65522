//===- Optimizers.cpp - Adam, SGD, gradient clipping ----------------------===//
//
// Optimizer updates: one loop per parameter updates it and its state
// together, in place; the global-norm clipping coefficient.
//
//===----------------------------------------------------------------------===//

#include "codegen/vdl-to-linalg/Builders.h"
#include "codegen/vdl-to-linalg/PopulatePatterns.h"

using namespace mlir;
using namespace vaec::vdl;
using namespace vaec::vdl_to_linalg;

namespace {

//===----------------------------------------------------------------------===//
// Optimizers: one loop per parameter updates it and its state together
//===----------------------------------------------------------------------===//

/// Updates `state` (tensors of one shape) in place, elementwise, reading
/// `inputs` of the same shape and 0-d `scalars`: the generic's outs are the
/// state itself, so bufferization writes into the buffers it came from.
/// `fn` gets (inputs..., scalars..., state...) and yields the new state.
SmallVector<Value> updateInPlace(OpBuilder &b, Location loc, ValueRange state, ValueRange inputs,
                                 ValueRange scalars, MultiScalarFn fn) {
  unsigned rank = cast<RankedTensorType>(state.front().getType()).getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps(inputs.size(), identity);
  maps.append(scalars.size(), AffineMap::get(rank, 0, {}, b.getContext()));
  maps.append(state.size(), identity);
  SmallVector<Value> operands(inputs);
  operands.append(scalars.begin(), scalars.end());
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic =
      b.create<linalg::GenericOp>(loc, state.getTypes(), operands, state, maps, iterators,
                                  [&](OpBuilder &nb, Location nl, ValueRange args) {
                                    nb.create<linalg::YieldOp>(nl, fn(nb, nl, args));
                                  });
  return SmallVector<Value>(generic.getResults());
}

/// The clipping factor of a gradient: `max > 0 ? min(1, max / (sqrt(n) +
/// 1e-6)) : 1` on 0-d tensors.
struct ClipCoefficientLowering : OpConversionPattern<ClipCoefficientOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ClipCoefficientOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    AffineMap scalar = AffineMap::get(0, 0, {}, rewriter.getContext());
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, op.getType(), ValueRange{adaptor.getNormSq(), adaptor.getMaxNorm()},
        emptyLike(rewriter, loc, op.getType()), SmallVector<AffineMap>(3, scalar),
        SmallVector<utils::IteratorType>{}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value norm =
              b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, args[0]), f32(b, l, 1e-6));
          Value clipped = b.create<arith::MinimumFOp>(l, f32(b, l, 1.0),
                                                      b.create<arith::DivFOp>(l, args[1], norm));
          Value enabled =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, args[1], f32(b, l, 0.0));
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, enabled, clipped, f32(b, l, 1.0)).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct AdamUpdateLowering : OpConversionPattern<AdamUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AdamUpdateOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> scalars = {
        adaptor.getBiasCorrection1(), adaptor.getBiasCorrection2(), adaptor.getLr(),
        adaptor.getBeta1(),           adaptor.getBeta2(),           adaptor.getEps(),
        adaptor.getWeightDecay()};
    Value gradScale = adaptor.getGradScale();
    if (gradScale)
      scalars.push_back(gradScale);
    auto results = updateInPlace(
        rewriter, op.getLoc(), {adaptor.getParam(), adaptor.getM(), adaptor.getV()},
        {adaptor.getGrad()}, scalars,
        [&](OpBuilder &b, Location loc, ValueRange a) -> SmallVector<Value> {
          // a = (g, bc1, bc2, lr, beta1, beta2, eps, wd[, grad_scale], p, m, v)
          // m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2
          // p' = p (1 - lr wd) - lr (m' / bc1) / (sqrt(v' / bc2) + eps)
          Value g = a[0], bc1 = a[1], bc2 = a[2], lr = a[3], beta1 = a[4], beta2 = a[5];
          Value eps = a[6], wd = a[7];
          ValueRange state = a.drop_front(gradScale ? 9 : 8);
          Value p = state[0];
          Value one = f32(b, loc, 1.0);
          auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); };
          auto sub = [&](Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); };
          if (gradScale)
            g = mul(g, a[8]);
          Value m = b.create<arith::AddFOp>(loc, mul(beta1, state[1]), mul(sub(one, beta1), g));
          Value v =
              b.create<arith::AddFOp>(loc, mul(beta2, state[2]), mul(sub(one, beta2), mul(g, g)));
          Value mHat = b.create<arith::DivFOp>(loc, m, bc1);
          Value denom = b.create<arith::AddFOp>(
              loc, b.create<math::SqrtOp>(loc, b.create<arith::DivFOp>(loc, v, bc2)), eps);
          Value step = mul(lr, b.create<arith::DivFOp>(loc, mHat, denom));
          Value decayed = mul(p, sub(one, mul(lr, wd)));
          return {sub(decayed, step), m, v};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct SgdUpdateLowering : OpConversionPattern<SgdUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SgdUpdateOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> scalars = {adaptor.getLr(), adaptor.getMomentum()};
    Value gradScale = adaptor.getGradScale();
    if (gradScale)
      scalars.push_back(gradScale);
    auto results = updateInPlace(
        rewriter, op.getLoc(), {adaptor.getParam(), adaptor.getVelocity()}, {adaptor.getGrad()},
        scalars, [&](OpBuilder &b, Location loc, ValueRange a) -> SmallVector<Value> {
          // a = (g, lr, momentum[, grad_scale], p, v);  v' = momentum v + g;
          // p' = p - lr v'
          Value g = gradScale ? b.create<arith::MulFOp>(loc, a[0], a[3]) : a[0];
          ValueRange state = a.drop_front(gradScale ? 4 : 3);
          Value v = b.create<arith::AddFOp>(loc, b.create<arith::MulFOp>(loc, a[2], state[1]), g);
          return {b.create<arith::SubFOp>(loc, state[0], b.create<arith::MulFOp>(loc, a[1], v)), v};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void vaec::vdl_to_linalg::populateOptimizerPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ClipCoefficientLowering, AdamUpdateLowering, SgdUpdateLowering>(ctx);
}
