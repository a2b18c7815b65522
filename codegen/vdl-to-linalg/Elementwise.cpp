//===- Elementwise.cpp - activations, arithmetic, their gradients ---------===//
//
// Elementwise vdl ops (activations, arithmetic, the reparameterization, the
// ELBO's sum and the activations' gradients) as one linalg.generic each. The
// pattern is one template whose scalar body is specialized per op
// (`scalarBody<Op>`), so each op's formula stands on its own a few lines long.
//
//===----------------------------------------------------------------------===//

#include "codegen/vdl-to-linalg/Builders.h"
#include "codegen/vdl-to-linalg/PopulatePatterns.h"

using namespace mlir;
using namespace vaec::vdl;
using namespace vaec::vdl_to_linalg;

namespace {

template <typename Op> Value scalarBody(OpBuilder &b, Location loc, Op op, ValueRange args);

template <> Value scalarBody(OpBuilder &b, Location loc, ReluOp, ValueRange a) {
  return b.create<arith::MaximumFOp>(loc, a[0], f32(b, loc, 0.0));
}
template <> Value scalarBody(OpBuilder &b, Location loc, TanhOp, ValueRange a) {
  return b.create<math::TanhOp>(loc, a[0]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, SigmoidOp, ValueRange a) {
  return sigmoid(b, loc, a[0]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, SoftplusOp, ValueRange a) {
  return stableSoftplus(b, loc, a[0]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, ExpOp, ValueRange a) {
  return b.create<math::ExpOp>(loc, a[0]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, LogOp, ValueRange a) {
  return b.create<math::LogOp>(loc, a[0]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, NegOp, ValueRange a) {
  return b.create<arith::NegFOp>(loc, a[0]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, LeakyReluOp op, ValueRange a) {
  Value alpha = f32(b, loc, op.getAlpha().convertToFloat());
  return select(b, loc, a[0], a[0], b.create<arith::MulFOp>(loc, alpha, a[0]));
}
template <> Value scalarBody(OpBuilder &b, Location loc, EluOp op, ValueRange a) {
  Value alpha = f32(b, loc, op.getAlpha().convertToFloat());
  Value negative = b.create<arith::MulFOp>(loc, alpha, b.create<math::ExpM1Op>(loc, a[0]));
  return select(b, loc, a[0], a[0], negative);
}
template <> Value scalarBody(OpBuilder &b, Location loc, AddOp, ValueRange a) {
  return b.create<arith::AddFOp>(loc, a[0], a[1]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, SubOp, ValueRange a) {
  return b.create<arith::SubFOp>(loc, a[0], a[1]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, MulOp, ValueRange a) {
  return b.create<arith::MulFOp>(loc, a[0], a[1]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, DivOp, ValueRange a) {
  return b.create<arith::DivFOp>(loc, a[0], a[1]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, MinOp, ValueRange a) {
  return b.create<arith::MinimumFOp>(loc, a[0], a[1]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, MaxOp, ValueRange a) {
  return b.create<arith::MaximumFOp>(loc, a[0], a[1]);
}
template <> Value scalarBody(OpBuilder &b, Location loc, ReparameterizeOp, ValueRange a) {
  // mu + exp(logvar / 2) * eps
  Value std = b.create<math::ExpOp>(loc, b.create<arith::MulFOp>(loc, f32(b, loc, 0.5), a[1]));
  return b.create<arith::AddFOp>(loc, a[0], b.create<arith::MulFOp>(loc, std, a[2]));
}
template <> Value scalarBody(OpBuilder &b, Location loc, ElboOp, ValueRange a) {
  // beta * kl - log_likelihood
  return b.create<arith::SubFOp>(loc, b.create<arith::MulFOp>(loc, a[2], a[1]), a[0]);
}

template <> Value scalarBody(OpBuilder &b, Location loc, ReluGradOp, ValueRange a) {
  return select(b, loc, a[0], a[1], f32(b, loc, 0.0));
}
template <> Value scalarBody(OpBuilder &b, Location loc, SelectGradOp, ValueRange a) {
  Value zero = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0.0f));
  Value taken = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGE, a[0], a[1]);
  return b.create<arith::SelectOp>(loc, taken, a[2], zero);
}
template <> Value scalarBody(OpBuilder &b, Location loc, TanhGradOp, ValueRange a) {
  // dy * (1 - y * y)
  Value y2 = b.create<arith::MulFOp>(loc, a[0], a[0]);
  return b.create<arith::MulFOp>(loc, a[1], b.create<arith::SubFOp>(loc, f32(b, loc, 1.0), y2));
}
template <> Value scalarBody(OpBuilder &b, Location loc, SigmoidGradOp, ValueRange a) {
  // dy * y * (1 - y)
  Value oneMinus = b.create<arith::SubFOp>(loc, f32(b, loc, 1.0), a[0]);
  return b.create<arith::MulFOp>(loc, a[1], b.create<arith::MulFOp>(loc, a[0], oneMinus));
}
template <> Value scalarBody(OpBuilder &b, Location loc, SoftplusGradOp, ValueRange a) {
  // dy * sigmoid(x)
  return b.create<arith::MulFOp>(loc, a[1], scalarBody(b, loc, SigmoidOp(), a.take_front()));
}
template <> Value scalarBody(OpBuilder &b, Location loc, LeakyReluGradOp op, ValueRange a) {
  Value alpha = f32(b, loc, op.getAlpha().convertToFloat());
  return select(b, loc, a[0], a[1], b.create<arith::MulFOp>(loc, alpha, a[1]));
}
template <> Value scalarBody(OpBuilder &b, Location loc, EluGradOp op, ValueRange a) {
  // x > 0 ? dy : alpha * exp(x) * dy
  Value alpha = f32(b, loc, op.getAlpha().convertToFloat());
  Value negative = b.create<arith::MulFOp>(
      loc, b.create<arith::MulFOp>(loc, alpha, b.create<math::ExpOp>(loc, a[0])), a[1]);
  return select(b, loc, a[0], a[1], negative);
}

template <typename Op> struct ElementwiseLowering : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value result = elementwise(
        rewriter, op.getLoc(), op.getType(), adaptor.getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) { return scalarBody(b, loc, op, args); });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void vaec::vdl_to_linalg::populateElementwisePatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns
      .add<ElementwiseLowering<ReluOp>, ElementwiseLowering<TanhOp>, ElementwiseLowering<SigmoidOp>,
           ElementwiseLowering<SoftplusOp>, ElementwiseLowering<ExpOp>, ElementwiseLowering<LogOp>,
           ElementwiseLowering<NegOp>, ElementwiseLowering<LeakyReluOp>, ElementwiseLowering<EluOp>,
           ElementwiseLowering<AddOp>, ElementwiseLowering<SubOp>, ElementwiseLowering<MulOp>,
           ElementwiseLowering<DivOp>, ElementwiseLowering<MinOp>, ElementwiseLowering<MaxOp>,
           ElementwiseLowering<ReparameterizeOp>, ElementwiseLowering<ElboOp>>(ctx);
  patterns.add<ElementwiseLowering<ReluGradOp>, ElementwiseLowering<TanhGradOp>,
               ElementwiseLowering<SigmoidGradOp>, ElementwiseLowering<SoftplusGradOp>,
               ElementwiseLowering<LeakyReluGradOp>, ElementwiseLowering<EluGradOp>,
               ElementwiseLowering<SelectGradOp>>(ctx);
}
