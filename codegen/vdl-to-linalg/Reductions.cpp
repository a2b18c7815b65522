//===- Reductions.cpp - KL, log-likelihoods, sums and their gradients -----===//
//
// Ops that reduce each example to a number (the KL term, the log-likelihoods,
// sums and means) as reducing linalg.generic ops, and their gradients per
// example.
//
//===----------------------------------------------------------------------===//

#include "codegen/vdl-to-linalg/Builders.h"
#include "codegen/vdl-to-linalg/PopulatePatterns.h"

using namespace mlir;
using namespace vaec::vdl;
using namespace vaec::vdl_to_linalg;

namespace {

//===----------------------------------------------------------------------===//
// Per-example reductions: one term each
//===----------------------------------------------------------------------===//

template <typename Op> Value reductionTerm(OpBuilder &b, Location loc, Op op, ValueRange args);

template <> Value reductionTerm(OpBuilder &b, Location loc, KLNormalOp op, ValueRange a) {
  // 0.5 * ((exp(lv) + (mu - m)^2) / s^2 - 1 - lv) + log s
  double m = op.getPriorMean().convertToFloat();
  double s = op.getPriorStd().convertToFloat();
  Value diff = b.create<arith::SubFOp>(loc, a[0], f32(b, loc, m));
  Value sq = b.create<arith::MulFOp>(loc, diff, diff);
  Value var = b.create<math::ExpOp>(loc, a[1]);
  Value scaled = b.create<arith::MulFOp>(loc, b.create<arith::AddFOp>(loc, var, sq),
                                         f32(b, loc, 1.0 / (s * s)));
  Value inner =
      b.create<arith::SubFOp>(loc, b.create<arith::SubFOp>(loc, scaled, f32(b, loc, 1.0)), a[1]);
  return b.create<arith::AddFOp>(loc, b.create<arith::MulFOp>(loc, f32(b, loc, 0.5), inner),
                                 f32(b, loc, std::log(s)));
}
template <> Value reductionTerm(OpBuilder &b, Location loc, BernoulliLogProbOp, ValueRange a) {
  // -(max(l, 0) - l * t + log1p(exp(-|l|))) = l * t - softplus(l)
  Value lt = b.create<arith::MulFOp>(loc, a[0], a[1]);
  return b.create<arith::SubFOp>(loc, lt, stableSoftplus(b, loc, a[0]));
}
template <> Value reductionTerm(OpBuilder &b, Location loc, GaussianLogProbOp, ValueRange a) {
  // -0.5 * (lv + (t - m)^2 * exp(-lv)) - 0.5 log 2 pi
  Value diff = b.create<arith::SubFOp>(loc, a[2], a[0]);
  Value invVar = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, a[1]));
  Value quad = b.create<arith::MulFOp>(loc, b.create<arith::MulFOp>(loc, diff, diff), invVar);
  Value half =
      b.create<arith::MulFOp>(loc, f32(b, loc, -0.5), b.create<arith::AddFOp>(loc, a[1], quad));
  return b.create<arith::SubFOp>(loc, half, f32(b, loc, kHalfLog2Pi));
}
template <>
Value reductionTerm(OpBuilder &b, Location loc, GaussianFixedLogProbOp op, ValueRange a) {
  // -0.5 * ((t - m) / sigma)^2 - log sigma - 0.5 log 2 pi
  double sigma = op.getSigma().convertToFloat();
  Value diff = b.create<arith::SubFOp>(loc, a[1], a[0]);
  Value quad = b.create<arith::MulFOp>(loc, diff, diff);
  Value scaled = b.create<arith::MulFOp>(loc, quad, f32(b, loc, -0.5 / (sigma * sigma)));
  return b.create<arith::SubFOp>(loc, scaled, f32(b, loc, std::log(sigma) + kHalfLog2Pi));
}
/// What the discretized logistic's term and gradient share, per element, from
/// (mean, log_scale, target): see vdl.discretized_logistic_log_prob.
struct DiscretizedLogistic {
  Value u, a, b, w;
  Value hasUpper, hasLower; // i1: t < bins - 1, t > 0 (the bins' finite edges)
  DiscretizedLogistic(OpBuilder &ob, Location loc, int64_t bins, ValueRange args) {
    double h = 1.0 / double(bins - 1);
    Value c = ob.create<arith::SubFOp>(
        loc, ob.create<arith::MulFOp>(loc, args[2], f32(ob, loc, 2.0 * h)), f32(ob, loc, 1.0));
    Value d = ob.create<arith::SubFOp>(loc, c, args[0]);
    u = ob.create<math::ExpOp>(loc, ob.create<arith::NegFOp>(loc, args[1]));
    a = ob.create<arith::MulFOp>(loc, u, ob.create<arith::AddFOp>(loc, d, f32(ob, loc, h)));
    b = ob.create<arith::MulFOp>(loc, u, ob.create<arith::SubFOp>(loc, d, f32(ob, loc, h)));
    w = ob.create<arith::MulFOp>(loc, u, f32(ob, loc, 2.0 * h));
    // (Targets are integers: compare half-way between them.)
    hasUpper = ob.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, args[2],
                                        f32(ob, loc, double(bins) - 1.5));
    hasLower =
        ob.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, args[2], f32(ob, loc, 0.5));
  }
  /// `value` where `condition` holds, else 0 (a select, so that a term of
  /// the other case cannot turn 0 into NaN).
  static Value where(OpBuilder &ob, Location loc, Value condition, Value value) {
    return ob.create<arith::SelectOp>(loc, condition, value, f32(ob, loc, 0.0));
  }
};

template <>
Value reductionTerm(OpBuilder &b, Location loc, DiscretizedLogisticLogProbOp op, ValueRange a) {
  // [upper] log sigmoid(a) + [lower] log(1 - sigmoid(b)) + [both] log(1 - exp(-w))
  DiscretizedLogistic dl(b, loc, op.getBins(), a);
  Value logCdfUpper = b.create<arith::NegFOp>(
      loc, stableSoftplus(b, loc, b.create<arith::NegFOp>(loc, dl.a)));
  Value logSurvivalLower = b.create<arith::NegFOp>(loc, stableSoftplus(b, loc, dl.b));
  Value logWidth = b.create<math::LogOp>(
      loc, b.create<arith::NegFOp>(
               loc, b.create<math::ExpM1Op>(loc, b.create<arith::NegFOp>(loc, dl.w))));
  Value both = b.create<arith::AndIOp>(loc, dl.hasUpper, dl.hasLower);
  Value sum = b.create<arith::AddFOp>(loc, DiscretizedLogistic::where(b, loc, dl.hasUpper, logCdfUpper),
                                      DiscretizedLogistic::where(b, loc, dl.hasLower, logSurvivalLower));
  return b.create<arith::AddFOp>(loc, sum, DiscretizedLogistic::where(b, loc, both, logWidth));
}
template <> Value reductionTerm(OpBuilder &b, Location loc, ReduceSumOp, ValueRange a) {
  return a[0];
}
template <> Value reductionTerm(OpBuilder &b, Location loc, ReduceMeanOp op, ValueRange a) {
  // Scale each term rather than the sum: one loop, and no separate divide.
  int64_t count = op.getInput().getType().getNumElements();
  return b.create<arith::MulFOp>(loc, a[0], f32(b, loc, 1.0 / count));
}

template <typename Op> struct ReductionLowering : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value result = reduceInto(rewriter, op.getLoc(), op.getType(), adaptor.getOperands(),
                              [&](OpBuilder &b, Location loc, ValueRange args) {
                                return reductionTerm(b, loc, op, args);
                              });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Gradients of per-example reductions: elementwise, with the example's
// adjoint g[b] broadcast over its elements
//===----------------------------------------------------------------------===//

/// `results[b, ...] = fn(inputs[b, ...]..., rowAdjoint[b])` for every result
/// type in `resultTypes` (all of the inputs' shape).
SmallVector<Value> perExampleElementwise(OpBuilder &b, Location loc, TypeRange resultTypes,
                                         ValueRange inputs, Value rowAdjoint, MultiScalarFn fn) {
  unsigned rank = cast<RankedTensorType>(inputs.front().getType()).getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps(inputs.size(), identity);
  maps.push_back(AffineMap::get(rank, 0, b.getAffineDimExpr(0), b.getContext()));
  maps.append(resultTypes.size(), identity);
  SmallVector<Value> operands(inputs);
  operands.push_back(rowAdjoint);
  SmallVector<Value> inits;
  for (Type type : resultTypes)
    inits.push_back(emptyLike(b, loc, type));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, resultTypes, operands, inits, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        nb.create<linalg::YieldOp>(nl, fn(nb, nl, args.take_front(operands.size())));
      });
  return SmallVector<Value>(generic.getResults());
}

/// The per-element adjoints of each per-example gradient op, from
/// (its inputs..., g[b]).
template <typename Op>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc, Op op, ValueRange a);

template <>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc, KLNormalGradOp op,
                                       ValueRange a) {
  // dmu = g (mu - m) / s^2; dlogvar = g 0.5 (exp(lv) / s^2 - 1)
  double m = op.getPriorMean().convertToFloat();
  double s = op.getPriorStd().convertToFloat();
  Value invVar = f32(b, loc, 1.0 / (s * s));
  Value dmu = b.create<arith::MulFOp>(
      loc, a[2],
      b.create<arith::MulFOp>(loc, b.create<arith::SubFOp>(loc, a[0], f32(b, loc, m)), invVar));
  Value ratio = b.create<arith::MulFOp>(loc, b.create<math::ExpOp>(loc, a[1]), invVar);
  Value dlv = b.create<arith::MulFOp>(
      loc, a[2],
      b.create<arith::MulFOp>(loc, f32(b, loc, 0.5),
                              b.create<arith::SubFOp>(loc, ratio, f32(b, loc, 1.0))));
  return {dmu, dlv};
}

template <>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc, BernoulliLogProbGradOp,
                                       ValueRange a) {
  // g (t - sigmoid(l))
  Value p = sigmoid(b, loc, a[0]);
  return {b.create<arith::MulFOp>(loc, a[2], b.create<arith::SubFOp>(loc, a[1], p))};
}

template <>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc, GaussianLogProbGradOp,
                                       ValueRange a) {
  // dmean = g (t - m) exp(-lv); dlogvar = g 0.5 ((t - m)^2 exp(-lv) - 1)
  Value diff = b.create<arith::SubFOp>(loc, a[2], a[0]);
  Value invVar = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, a[1]));
  Value scaled = b.create<arith::MulFOp>(loc, diff, invVar);
  Value dmean = b.create<arith::MulFOp>(loc, a[3], scaled);
  Value quad = b.create<arith::MulFOp>(loc, scaled, diff);
  Value dlv = b.create<arith::MulFOp>(
      loc, a[3],
      b.create<arith::MulFOp>(loc, f32(b, loc, 0.5),
                              b.create<arith::SubFOp>(loc, quad, f32(b, loc, 1.0))));
  return {dmean, dlv};
}

template <>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc, GaussianFixedLogProbGradOp op,
                                       ValueRange a) {
  // g (t - m) / sigma^2
  double sigma = op.getSigma().convertToFloat();
  Value diff = b.create<arith::SubFOp>(loc, a[1], a[0]);
  return {b.create<arith::MulFOp>(
      loc, a[2], b.create<arith::MulFOp>(loc, diff, f32(b, loc, 1.0 / (sigma * sigma))))};
}

template <>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc,
                                       DiscretizedLogisticLogProbGradOp op, ValueRange a) {
  // dmean = -g u ([upper] sigmoid(-a) - [lower] sigmoid(b));
  // dlog_scale = g (-[upper] a sigmoid(-a) + [lower] b sigmoid(b) - [both] w / expm1(w))
  DiscretizedLogistic dl(b, loc, op.getBins(), a);
  auto where = [&](Value condition, Value value) {
    return DiscretizedLogistic::where(b, loc, condition, value);
  };
  Value upper = where(dl.hasUpper, sigmoid(b, loc, b.create<arith::NegFOp>(loc, dl.a)));
  Value lower = where(dl.hasLower, sigmoid(b, loc, dl.b));
  Value g = a[3];
  Value dmean = b.create<arith::MulFOp>(
      loc, b.create<arith::NegFOp>(loc, b.create<arith::MulFOp>(loc, g, dl.u)),
      b.create<arith::SubFOp>(loc, upper, lower));
  Value both = b.create<arith::AndIOp>(loc, dl.hasUpper, dl.hasLower);
  Value widthTerm =
      where(both, b.create<arith::DivFOp>(loc, dl.w, b.create<math::ExpM1Op>(loc, dl.w)));
  Value edges = b.create<arith::SubFOp>(loc, b.create<arith::MulFOp>(loc, dl.b, lower),
                                        b.create<arith::MulFOp>(loc, dl.a, upper));
  Value dlogScale =
      b.create<arith::MulFOp>(loc, g, b.create<arith::SubFOp>(loc, edges, widthTerm));
  return {dmean, dlogScale};
}

/// Every per-example gradient op: its last operand is the adjoint g[b].
template <typename Op> struct PerExampleGradLowering : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  LogicalResult matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    ValueRange operands = adaptor.getOperands();
    auto results =
        perExampleElementwise(rewriter, op.getLoc(), op->getResultTypes(), operands.drop_back(),
                              operands.back(), [&](OpBuilder &b, Location loc, ValueRange a) {
                                return perExampleGradients(b, loc, op, a);
                              });
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void vaec::vdl_to_linalg::populateReductionPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ReductionLowering<KLNormalOp>, ReductionLowering<BernoulliLogProbOp>,
               ReductionLowering<GaussianLogProbOp>, ReductionLowering<GaussianFixedLogProbOp>,
               ReductionLowering<DiscretizedLogisticLogProbOp>,
               ReductionLowering<ReduceSumOp>, ReductionLowering<ReduceMeanOp>>(ctx);
  patterns
      .add<PerExampleGradLowering<KLNormalGradOp>, PerExampleGradLowering<BernoulliLogProbGradOp>,
           PerExampleGradLowering<GaussianLogProbGradOp>,
           PerExampleGradLowering<GaussianFixedLogProbGradOp>,
           PerExampleGradLowering<DiscretizedLogisticLogProbGradOp>>(ctx);
}
