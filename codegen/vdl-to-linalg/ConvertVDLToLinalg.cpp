//===- ConvertVDLToLinalg.cpp - vdl to linalg on tensors ------------------===//
//
// One OpConversionPattern per vdl op. Elementwise ops share a template whose
// scalar body is specialized per op (`scalarBody<Op>`), so each op's formula
// stands on its own a few lines long.
//
//===----------------------------------------------------------------------===//

#include "codegen/vdl-to-linalg/Passes.h"
#include "codegen/common/TargetDescription.h"
#include "ir/VDLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

namespace vaec {
#define GEN_PASS_DEF_CONVERTVDLTOLINALG
#include "codegen/vdl-to-linalg/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using namespace vaec::vdl;

namespace {

//===----------------------------------------------------------------------===//
// Builders shared by the patterns
//===----------------------------------------------------------------------===//

Value f32(OpBuilder &b, Location loc, double value) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(static_cast<float>(value)));
}

Value emptyLike(OpBuilder &b, Location loc, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return b.create<tensor::EmptyOp>(loc, tensor.getShape(), tensor.getElementType());
}

Value zerosLike(OpBuilder &b, Location loc, Type type) {
  return b.create<linalg::FillOp>(loc, f32(b, loc, 0.0), emptyLike(b, loc, type))
      .getResult(0);
}

using ScalarFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// `result[i...] = fn(inputs[i...]...)` over tensors of one shape.
Value elementwise(OpBuilder &b, Location loc, Type resultType,
                  ValueRange inputs, ScalarFn fn) {
  auto type = cast<RankedTensorType>(resultType);
  unsigned rank = type.getRank();
  SmallVector<AffineMap> maps(inputs.size() + 1,
                              b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, type, inputs, emptyLike(b, loc, type), maps, iterators,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, fn(nb, nl, args.drop_back()));
          })
      .getResult(0);
}

/// `result[b] = sum over the other dims of fn(inputs[b, ...]...)`. With
/// `resultType` 0-d, sums over everything.
Value reduceInto(OpBuilder &b, Location loc, Type resultType,
                 ValueRange inputs, ScalarFn fn) {
  auto inputType = cast<RankedTensorType>(inputs.front().getType());
  unsigned rank = inputType.getRank();
  unsigned kept = cast<RankedTensorType>(resultType).getRank();
  SmallVector<AffineMap> maps(inputs.size(), b.getMultiDimIdentityMap(rank));
  SmallVector<AffineExpr> keptDims;
  for (unsigned d = 0; d < kept; ++d)
    keptDims.push_back(b.getAffineDimExpr(d));
  maps.push_back(AffineMap::get(rank, 0, keptDims, b.getContext()));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::reduction);
  for (unsigned d = 0; d < kept; ++d)
    iterators[d] = utils::IteratorType::parallel;
  return b
      .create<linalg::GenericOp>(
          loc, resultType, inputs, zerosLike(b, loc, resultType), maps,
          iterators,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value term = fn(nb, nl, args.drop_back());
            nb.create<linalg::YieldOp>(
                nl, nb.create<arith::AddFOp>(nl, args.back(), term).getResult());
          })
      .getResult(0);
}

/// `max(x, 0) + log1p(exp(-|x|))`: softplus without overflow for large |x|.
Value stableSoftplus(OpBuilder &b, Location loc, Value x) {
  Value zero = f32(b, loc, 0.0);
  Value negAbs = b.create<arith::NegFOp>(loc, b.create<math::AbsFOp>(loc, x));
  Value tail = b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, negAbs));
  return b.create<arith::AddFOp>(loc, b.create<arith::MaximumFOp>(loc, x, zero),
                                 tail);
}

Value select(OpBuilder &b, Location loc, Value positive, Value ifPositive,
             Value otherwise) {
  Value isPositive = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT,
                                             positive, f32(b, loc, 0.0));
  return b.create<arith::SelectOp>(loc, isPositive, ifPositive, otherwise);
}

const double kHalfLog2Pi = 0.5 * std::log(2.0 * M_PI);

//===----------------------------------------------------------------------===//
// Elementwise ops: one scalar body each
//===----------------------------------------------------------------------===//

template <typename Op>
Value scalarBody(OpBuilder &b, Location loc, Op op, ValueRange args);

template <>
Value scalarBody(OpBuilder &b, Location loc, ReluOp, ValueRange a) {
  return b.create<arith::MaximumFOp>(loc, a[0], f32(b, loc, 0.0));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, TanhOp, ValueRange a) {
  return b.create<math::TanhOp>(loc, a[0]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, SigmoidOp, ValueRange a) {
  // 1 / (1 + exp(-x)); exp overflowing to +inf still gives the right 0.
  Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, a[0]));
  return b.create<arith::DivFOp>(
      loc, f32(b, loc, 1.0), b.create<arith::AddFOp>(loc, f32(b, loc, 1.0), e));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, SoftplusOp, ValueRange a) {
  return stableSoftplus(b, loc, a[0]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, ExpOp, ValueRange a) {
  return b.create<math::ExpOp>(loc, a[0]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, LogOp, ValueRange a) {
  return b.create<math::LogOp>(loc, a[0]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, NegOp, ValueRange a) {
  return b.create<arith::NegFOp>(loc, a[0]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, LeakyReluOp op, ValueRange a) {
  Value alpha = f32(b, loc, op.getAlpha().convertToFloat());
  return select(b, loc, a[0], a[0], b.create<arith::MulFOp>(loc, alpha, a[0]));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, EluOp op, ValueRange a) {
  Value alpha = f32(b, loc, op.getAlpha().convertToFloat());
  Value negative = b.create<arith::MulFOp>(
      loc, alpha, b.create<math::ExpM1Op>(loc, a[0]));
  return select(b, loc, a[0], a[0], negative);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, AddOp, ValueRange a) {
  return b.create<arith::AddFOp>(loc, a[0], a[1]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, SubOp, ValueRange a) {
  return b.create<arith::SubFOp>(loc, a[0], a[1]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, MulOp, ValueRange a) {
  return b.create<arith::MulFOp>(loc, a[0], a[1]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, DivOp, ValueRange a) {
  return b.create<arith::DivFOp>(loc, a[0], a[1]);
}
template <>
Value scalarBody(OpBuilder &b, Location loc, ReparameterizeOp, ValueRange a) {
  // mu + exp(logvar / 2) * eps
  Value std = b.create<math::ExpOp>(
      loc, b.create<arith::MulFOp>(loc, f32(b, loc, 0.5), a[1]));
  return b.create<arith::AddFOp>(loc, a[0],
                                 b.create<arith::MulFOp>(loc, std, a[2]));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, ElboOp, ValueRange a) {
  // beta * kl - log_likelihood
  return b.create<arith::SubFOp>(loc, b.create<arith::MulFOp>(loc, a[2], a[1]),
                                 a[0]);
}

template <>
Value scalarBody(OpBuilder &b, Location loc, ReluGradOp, ValueRange a) {
  return select(b, loc, a[0], a[1], f32(b, loc, 0.0));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, TanhGradOp, ValueRange a) {
  // dy * (1 - y * y)
  Value y2 = b.create<arith::MulFOp>(loc, a[0], a[0]);
  return b.create<arith::MulFOp>(
      loc, a[1], b.create<arith::SubFOp>(loc, f32(b, loc, 1.0), y2));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, SigmoidGradOp, ValueRange a) {
  // dy * y * (1 - y)
  Value oneMinus = b.create<arith::SubFOp>(loc, f32(b, loc, 1.0), a[0]);
  return b.create<arith::MulFOp>(loc, a[1],
                                 b.create<arith::MulFOp>(loc, a[0], oneMinus));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, SoftplusGradOp, ValueRange a) {
  // dy * sigmoid(x)
  return b.create<arith::MulFOp>(loc, a[1], scalarBody(b, loc, SigmoidOp(), a.take_front()));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, LeakyReluGradOp op, ValueRange a) {
  Value alpha = f32(b, loc, op.getAlpha().convertToFloat());
  return select(b, loc, a[0], a[1], b.create<arith::MulFOp>(loc, alpha, a[1]));
}
template <>
Value scalarBody(OpBuilder &b, Location loc, EluGradOp op, ValueRange a) {
  // x > 0 ? dy : alpha * exp(x) * dy
  Value alpha = f32(b, loc, op.getAlpha().convertToFloat());
  Value negative = b.create<arith::MulFOp>(
      loc, b.create<arith::MulFOp>(loc, alpha, b.create<math::ExpOp>(loc, a[0])),
      a[1]);
  return select(b, loc, a[0], a[1], negative);
}

template <typename Op>
struct ElementwiseLowering : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value result = elementwise(
        rewriter, op.getLoc(), op.getType(), adaptor.getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return scalarBody(b, loc, op, args);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Per-example reductions: one term each
//===----------------------------------------------------------------------===//

template <typename Op>
Value reductionTerm(OpBuilder &b, Location loc, Op op, ValueRange args);

template <>
Value reductionTerm(OpBuilder &b, Location loc, KLNormalOp op, ValueRange a) {
  // 0.5 * ((exp(lv) + (mu - m)^2) / s^2 - 1 - lv) + log s
  double m = op.getPriorMean().convertToFloat();
  double s = op.getPriorStd().convertToFloat();
  Value diff = b.create<arith::SubFOp>(loc, a[0], f32(b, loc, m));
  Value sq = b.create<arith::MulFOp>(loc, diff, diff);
  Value var = b.create<math::ExpOp>(loc, a[1]);
  Value scaled = b.create<arith::MulFOp>(
      loc, b.create<arith::AddFOp>(loc, var, sq), f32(b, loc, 1.0 / (s * s)));
  Value inner = b.create<arith::SubFOp>(
      loc, b.create<arith::SubFOp>(loc, scaled, f32(b, loc, 1.0)), a[1]);
  return b.create<arith::AddFOp>(
      loc, b.create<arith::MulFOp>(loc, f32(b, loc, 0.5), inner),
      f32(b, loc, std::log(s)));
}
template <>
Value reductionTerm(OpBuilder &b, Location loc, BernoulliLogProbOp,
                    ValueRange a) {
  // -(max(l, 0) - l * t + log1p(exp(-|l|))) = l * t - softplus(l)
  Value lt = b.create<arith::MulFOp>(loc, a[0], a[1]);
  return b.create<arith::SubFOp>(loc, lt, stableSoftplus(b, loc, a[0]));
}
template <>
Value reductionTerm(OpBuilder &b, Location loc, GaussianLogProbOp,
                    ValueRange a) {
  // -0.5 * (lv + (t - m)^2 * exp(-lv)) - 0.5 log 2 pi
  Value diff = b.create<arith::SubFOp>(loc, a[2], a[0]);
  Value invVar = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, a[1]));
  Value quad = b.create<arith::MulFOp>(
      loc, b.create<arith::MulFOp>(loc, diff, diff), invVar);
  Value half = b.create<arith::MulFOp>(
      loc, f32(b, loc, -0.5), b.create<arith::AddFOp>(loc, a[1], quad));
  return b.create<arith::SubFOp>(loc, half, f32(b, loc, kHalfLog2Pi));
}
template <>
Value reductionTerm(OpBuilder &b, Location loc, GaussianFixedLogProbOp op,
                    ValueRange a) {
  // -0.5 * ((t - m) / sigma)^2 - log sigma - 0.5 log 2 pi
  double sigma = op.getSigma().convertToFloat();
  Value diff = b.create<arith::SubFOp>(loc, a[1], a[0]);
  Value quad = b.create<arith::MulFOp>(loc, diff, diff);
  Value scaled = b.create<arith::MulFOp>(
      loc, quad, f32(b, loc, -0.5 / (sigma * sigma)));
  return b.create<arith::SubFOp>(
      loc, scaled, f32(b, loc, std::log(sigma) + kHalfLog2Pi));
}
template <>
Value reductionTerm(OpBuilder &b, Location loc, ReduceSumOp, ValueRange a) {
  return a[0];
}
template <>
Value reductionTerm(OpBuilder &b, Location loc, ReduceMeanOp op,
                    ValueRange a) {
  // Scale each term rather than the sum: one loop, and no separate divide.
  int64_t count = op.getInput().getType().getNumElements();
  return b.create<arith::MulFOp>(loc, a[0], f32(b, loc, 1.0 / count));
}

template <typename Op>
struct ReductionLowering : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value result = reduceInto(
        rewriter, op.getLoc(), op.getType(), adaptor.getOperands(),
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

using MultiScalarFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

/// `results[b, ...] = fn(inputs[b, ...]..., rowAdjoint[b])` for every result
/// type in `resultTypes` (all of the inputs' shape).
SmallVector<Value> perExampleElementwise(OpBuilder &b, Location loc,
                                         TypeRange resultTypes,
                                         ValueRange inputs, Value rowAdjoint,
                                         MultiScalarFn fn) {
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
        nb.create<linalg::YieldOp>(
            nl, fn(nb, nl, args.take_front(operands.size())));
      });
  return SmallVector<Value>(generic.getResults());
}

/// The per-element adjoints of each per-example gradient op, from
/// (its inputs..., g[b]).
template <typename Op>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc, Op op,
                                       ValueRange a);

template <>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc,
                                       KLNormalGradOp op, ValueRange a) {
  // dmu = g (mu - m) / s^2; dlogvar = g 0.5 (exp(lv) / s^2 - 1)
  double m = op.getPriorMean().convertToFloat();
  double s = op.getPriorStd().convertToFloat();
  Value invVar = f32(b, loc, 1.0 / (s * s));
  Value dmu = b.create<arith::MulFOp>(
      loc, a[2],
      b.create<arith::MulFOp>(
          loc, b.create<arith::SubFOp>(loc, a[0], f32(b, loc, m)), invVar));
  Value ratio = b.create<arith::MulFOp>(loc, b.create<math::ExpOp>(loc, a[1]), invVar);
  Value dlv = b.create<arith::MulFOp>(
      loc, a[2],
      b.create<arith::MulFOp>(loc, f32(b, loc, 0.5),
                              b.create<arith::SubFOp>(loc, ratio, f32(b, loc, 1.0))));
  return {dmu, dlv};
}

template <>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc,
                                       BernoulliLogProbGradOp, ValueRange a) {
  // g (t - sigmoid(l))
  Value p = scalarBody(b, loc, SigmoidOp(), a.take_front());
  return {b.create<arith::MulFOp>(loc, a[2], b.create<arith::SubFOp>(loc, a[1], p))};
}

template <>
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc,
                                       GaussianLogProbGradOp, ValueRange a) {
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
SmallVector<Value> perExampleGradients(OpBuilder &b, Location loc,
                                       GaussianFixedLogProbGradOp op,
                                       ValueRange a) {
  // g (t - m) / sigma^2
  double sigma = op.getSigma().convertToFloat();
  Value diff = b.create<arith::SubFOp>(loc, a[1], a[0]);
  return {b.create<arith::MulFOp>(
      loc, a[2],
      b.create<arith::MulFOp>(loc, diff, f32(b, loc, 1.0 / (sigma * sigma))))};
}

/// Every per-example gradient op: its last operand is the adjoint g[b].
template <typename Op>
struct PerExampleGradLowering : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ValueRange operands = adaptor.getOperands();
    auto results = perExampleElementwise(
        rewriter, op.getLoc(), op->getResultTypes(), operands.drop_back(),
        operands.back(), [&](OpBuilder &b, Location loc, ValueRange a) {
          return perExampleGradients(b, loc, op, a);
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Matmuls, row sums, broadcasts
//===----------------------------------------------------------------------===//

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
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
      matmul = rewriter.create<linalg::MatmulTransposeAOp>(
          loc, TypeRange{op.getType()}, ins, ValueRange{init});
    } else if (op.getTransposeRhs()) {
      // dy·Wᵀ: transpose W once (K·N moves against 2·B·K·N FLOPs) so the
      // product is a plain matmul with unit-stride rows.
      auto rhsType = cast<RankedTensorType>(adaptor.getRhs().getType());
      auto transposedType = RankedTensorType::get(
          {rhsType.getDimSize(1), rhsType.getDimSize(0)}, rhsType.getElementType());
      Value transposed = rewriter
                             .create<linalg::TransposeOp>(
                                 loc, adaptor.getRhs(),
                                 emptyLike(rewriter, loc, transposedType),
                                 ArrayRef<int64_t>{1, 0})
                             .getResult()[0];
      matmul = rewriter.create<linalg::MatmulOp>(
          loc, TypeRange{op.getType()}, ValueRange{adaptor.getLhs(), transposed},
          ValueRange{init});
    } else {
      matmul = rewriter.create<linalg::MatmulOp>(loc, TypeRange{op.getType()},
                                                 ins, ValueRange{init});
    }
    rewriter.replaceOp(op, matmul->getResults());
    return success();
  }
};

struct ReduceRowsLowering : OpConversionPattern<ReduceRowsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReduceRowsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned rank = op.getInput().getType().getRank();
    SmallVector<AffineExpr> kept;
    for (unsigned d = 1; d < rank; ++d)
      kept.push_back(rewriter.getAffineDimExpr(d));
    SmallVector<AffineMap> maps{
        rewriter.getMultiDimIdentityMap(rank),
        AffineMap::get(rank, 0, kept, rewriter.getContext())};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators[0] = utils::IteratorType::reduction;
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, op.getType(), adaptor.getInput(),
        zerosLike(rewriter, loc, op.getType()), maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(
              l, b.create<arith::AddFOp>(l, args[1], args[0]).getResult());
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
  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value value = adaptor.getInput();
    auto input = cast<RankedTensorType>(value.getType());
    RankedTensorType result = op.getType();
    auto flat = RankedTensorType::get({input.getDimSize(0), input.getNumElements() /
                                                                input.getDimSize(0)},
                                      input.getElementType());
    // [[0], [1, ..., rank - 1]]: the batch, and the rest as one.
    auto grouping = [](int64_t rank) {
      ReassociationIndices rest;
      for (int64_t i = 1; i < rank; ++i)
        rest.push_back(i);
      return SmallVector<ReassociationIndices>{{0}, rest};
    };
    if (input.getRank() > 2)
      value = rewriter.create<tensor::CollapseShapeOp>(loc, flat, value,
                                                       grouping(input.getRank()));
    if (result.getRank() > 2)
      value = rewriter.create<tensor::ExpandShapeOp>(loc, result, value,
                                                     grouping(result.getRank()));
    rewriter.replaceOp(op, value);
    return success();
  }
};

struct BroadcastLowering : OpConversionPattern<BroadcastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BroadcastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned rank = op.getType().getRank();
    SmallVector<AffineMap> maps{
        AffineMap::get(rank, 0, {}, rewriter.getContext()),
        rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    double scale = op.getScale().convertToFloat();
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, op.getType(), adaptor.getInput(),
        emptyLike(rewriter, loc, op.getType()), maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(
              l, b.create<arith::MulFOp>(l, args[0], f32(b, l, scale)).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Convolutions: direct kernels, or gathers (im2col, col2im) and GEMMs
//===----------------------------------------------------------------------===//
//
// Images stay NCHW, the language's layout, between layers: flatten and
// reshape stay views and nothing is transposed at a model's edges. Each
// convolution is computed one of two ways (conv-algorithm; auto picks by
// shape, see directConvolution):
//
// Direct: linalg.conv_2d_nhwc_hwcf on a channels-last, zero-padded copy of
// the input, its result copied back to NCHW; vdl-tile-and-vectorize tiles it
// into register blocks of output pixels x output channels. A transposed
// convolution is one stride-1 direct convolution per output phase with the
// taps that land there; a filter gradient is dyᵀ·cols with channels-last
// columns copied tap by tap from the padded input.
//
// im2col: a linalg.matmul (or matmul_transpose_a) on the register-blocked
// matmul path of dense, plus gathers whose indexing is in their bodies
// (linalg.index, a constant table of pixel offsets, tensor.extract), so that
// every indexing map stays a projected permutation. The GEMMs' long
// dimension is the batch's output pixels, contiguous in NCHW rows:
//   conv2d:            cols[(c,i,j), (b,y,x)] = in[b, c, y*s+i-p, x*s+j-p]
//                      out[o, (b,y,x)] = bias[o] + sum_q filter[o, q] cols[q, (b,y,x)]
//                      then [O, B, ...] back to [B, O, ...]
//   conv2d_transpose:  cols[(o,i,j), (b,y,x)] = sum_c filter[c, (o,i,j)] in[b, c, y, x]
//                      out[b, o, Y, X] = bias[o] + sum_{i,j} cols[(o,i,j), (b,y,x)]
//                      over the (y, x) with y*s+i-p = Y, x*s+j-p = X (col2im)
//   filter gradient:   dW[o, q] = sum_{(b,y,x)} dy[(b,y,x), o] colsᵀ[(b,y,x), q]
// The windows' zeros (padding) and the strides' holes are selects in the
// gathers' bodies.

/// Index arithmetic in a gather's body (base offsets of a table lookup).
struct IndexMath {
  OpBuilder &b;
  Location loc;
  Value constant(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value a, int64_t v) { return v ? b.create<arith::AddIOp>(loc, a, constant(v)) : a; }
  Value mul(Value a, int64_t v) { return v != 1 ? b.create<arith::MulIOp>(loc, a, constant(v)) : a; }
};

/// `[b, d1, ..., dn]` with the dimensions from `first` on as one.
Value collapseFrom(OpBuilder &b, Location loc, Value value, int64_t first) {
  auto type = cast<RankedTensorType>(value.getType());
  if (first == type.getRank() - 1)
    return value;
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < first; ++d)
    groups.push_back({d});
  ReassociationIndices rest;
  for (int64_t d = first; d < type.getRank(); ++d)
    rest.push_back(d);
  groups.push_back(rest);
  return b.create<tensor::CollapseShapeOp>(loc, value, groups);
}

/// `value` [.., N] (the last dimension flat) in `type`'s shape, which splits it.
Value expandLast(OpBuilder &b, Location loc, Value value, RankedTensorType type) {
  int64_t rank = cast<RankedTensorType>(value.getType()).getRank();
  if (rank == type.getRank())
    return value;
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < rank - 1; ++d)
    groups.push_back({d});
  ReassociationIndices rest;
  for (int64_t d = rank - 1; d < type.getRank(); ++d)
    rest.push_back(d);
  groups.push_back(rest);
  return b.create<tensor::ExpandShapeOp>(loc, type, value, groups);
}

/// The geometry of one convolution: `image` [B, C, H, W] read through k x k
/// windows at `stride` with `padding`, giving [OH, OW] window positions.
struct Window {
  int64_t channels, height, width, kernel, stride, padding, outHeight, outWidth;
  Window(RankedTensorType image, int64_t kernel, int64_t stride, int64_t padding)
      : channels(image.getDimSize(1)), height(image.getDimSize(2)), width(image.getDimSize(3)),
        kernel(kernel), stride(stride), padding(padding),
        outHeight((height + 2 * padding - kernel) / stride + 1),
        outWidth((width + 2 * padding - kernel) / stride + 1) {}
  int64_t taps() const { return channels * kernel * kernel; }
  int64_t positions() const { return outHeight * outWidth; }
};

AffineMap mapOf(OpBuilder &b, unsigned loops, ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> results;
  for (unsigned d : dims)
    results.push_back(b.getAffineDimExpr(d));
  return AffineMap::get(loops, 0, results, b.getContext());
}

/// A constant [rows, cols] table of i32.
Value i32Table(OpBuilder &b, Location loc, int64_t rows, int64_t cols,
               ArrayRef<int32_t> values) {
  auto type = RankedTensorType::get({rows, cols}, b.getI32Type());
  return b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(type, values));
}

/// `table[t, pos]`, a pixel offset into one channel of an image (-1: no
/// pixel), plus `base`: an index into a flat buffer, and whether there is a
/// pixel. The sum is taken in i32 (every buffer here has fewer than 2^31
/// elements) and sign-extended once, which LLVM's x86 backend turns into
/// gathers of 32-bit indices: 16 lanes an instruction with AVX-512 instead
/// of 8.
std::pair<Value, Value> tableOffset(OpBuilder &b, Location loc, Value table, Value t, Value pos,
                                    Value base) {
  Value offset = b.create<tensor::ExtractOp>(loc, table, ValueRange{t, pos});
  Value zero = b.create<arith::ConstantIntOp>(loc, 0, 32);
  Value present = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, offset, zero);
  Value clamped = b.create<arith::MaxSIOp>(loc, offset, zero);
  Value base32 = b.create<arith::IndexCastOp>(loc, b.getI32Type(), base);
  Value sum = b.create<arith::AddIOp>(loc, base32, clamped);
  return {b.create<arith::IndexCastOp>(loc, b.getIndexType(), sum), present};
}

/// `value` as one dimension.
Value flatten(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  ReassociationIndices all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  return b.create<tensor::CollapseShapeOp>(loc, value, SmallVector<ReassociationIndices>{all});
}

/// A tensor of `type` whose element at each index is `element(indices)`: a
/// linalg.generic without inputs (what tile-and-vectorize vectorizes, unlike
/// tensor.generate), its indices from linalg.index.
Value generateTensor(OpBuilder &b, Location loc, RankedTensorType type,
                     function_ref<Value(OpBuilder &, Location, ValueRange)> element) {
  unsigned rank = unsigned(type.getRank());
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, type, ValueRange{}, emptyLike(b, loc, type),
          ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)}, iterators,
          [&](OpBuilder &nb, Location nl, ValueRange) {
            SmallVector<Value> indices;
            for (unsigned d = 0; d < rank; ++d)
              indices.push_back(nb.create<linalg::IndexOp>(nl, d));
            nb.create<linalg::YieldOp>(nl, element(nb, nl, indices));
          })
      .getResult(0);
}

/// The im2col matrix of `image` [B, C, H, W] as a GEMM operand, [C k k,
/// B * positions]: row (c, i, j), column (b, y, x) holds image[b, c, y s + i
/// - p, x s + j - p], 0 outside. Which pixel each tap of each window reads is
/// a constant table [k k, positions]: the body is a table load (contiguous
/// along the vectorized positions), an add and a gather, where computing
/// (y, x) from a flat position took a vector division per lane.
Value im2col(OpBuilder &b, Location loc, Value image, const Window &w) {
  auto imageType = cast<RankedTensorType>(image.getType());
  int64_t batch = imageType.getDimSize(0), taps = w.kernel * w.kernel;
  std::vector<int32_t> pixels;
  bool padded = false;
  for (int64_t i = 0; i < w.kernel; ++i)
    for (int64_t j = 0; j < w.kernel; ++j)
      for (int64_t y = 0; y < w.outHeight; ++y)
        for (int64_t x = 0; x < w.outWidth; ++x) {
          int64_t row = y * w.stride + i - w.padding, col = x * w.stride + j - w.padding;
          bool inside = row >= 0 && row < w.height && col >= 0 && col < w.width;
          padded |= !inside;
          pixels.push_back(inside ? int32_t(row * w.width + col) : -1);
        }
  Value table = i32Table(b, loc, taps, w.positions(), pixels);
  Value flat = flatten(b, loc, image);
  auto type = RankedTensorType::get({w.channels, taps, batch, w.positions()},
                                    imageType.getElementType());
  Value cols = generateTensor(b, loc, type, [&](OpBuilder &nb, Location nl, ValueRange at) {
    IndexMath m{nb, nl};
    Value c = at[0], t = at[1], n = at[2], pos = at[3];
    Value image = m.mul(n, w.channels * w.height * w.width);
    Value channel = nb.create<arith::AddIOp>(nl, image, m.mul(c, w.height * w.width));
    auto [index, present] = tableOffset(nb, nl, table, t, pos, channel);
    Value value = nb.create<tensor::ExtractOp>(nl, flat, ValueRange{index});
    return padded ? nb.create<arith::SelectOp>(nl, present, value, f32(nb, nl, 0.0)).getResult()
                  : value;
  });
  return b.create<tensor::CollapseShapeOp>(loc, cols,
                                           SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
}

/// `matrix` [R, C] as [C, R].
Value transpose2d(OpBuilder &b, Location loc, Value matrix) {
  auto type = cast<RankedTensorType>(matrix.getType());
  auto transposedType = RankedTensorType::get({type.getDimSize(1), type.getDimSize(0)},
                                              type.getElementType());
  return b.create<linalg::TransposeOp>(loc, matrix, emptyLike(b, loc, transposedType),
                                       ArrayRef<int64_t>{1, 0})
      ->getResult(0);
}

/// `value` [A, B, ...] as [B, A, ...]: a copy whose rows stay contiguous,
/// as an elementwise linalg.generic (not linalg.transpose), so that
/// vdl-fusion can fuse it with the activation after it.
Value swapOuter(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  std::swap(shape[0], shape[1]);
  auto swappedType = RankedTensorType::get(shape, type.getElementType());
  unsigned rank = unsigned(type.getRank());
  SmallVector<unsigned> swapped{1, 0};
  for (unsigned d = 2; d < rank; ++d)
    swapped.push_back(d);
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, swappedType, value, emptyLike(b, loc, swappedType),
          ArrayRef<AffineMap>{mapOf(b, rank, swapped), b.getMultiDimIdentityMap(rank)},
          iterators,
          [](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, args[0]);
          })
      .getResult(0);
}

/// [B, C, ...pixels] as [C, B * pixels]: the channels become a GEMM
/// operand's rows (a copy of each image's channel rows).
Value channelsFirst(OpBuilder &b, Location loc, Value images) {
  Value transposed = swapOuter(b, loc, collapseFrom(b, loc, images, 2)); // [C, B, P]
  return b.create<tensor::CollapseShapeOp>(loc, transposed,
                                           SmallVector<ReassociationIndices>{{0}, {1, 2}});
}

/// [B, C, ...pixels] as [B * pixels, C]: each pixel's channels a row.
Value channelsLast(OpBuilder &b, Location loc, Value images) {
  Value flat = collapseFrom(b, loc, images, 2); // [B, C, P]
  auto type = cast<RankedTensorType>(flat.getType());
  auto transposedType = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(2), type.getDimSize(1)}, type.getElementType());
  Value transposed = b.create<linalg::TransposeOp>(loc, flat,
                                                   emptyLike(b, loc, transposedType),
                                                   ArrayRef<int64_t>{0, 2, 1})
                         ->getResult(0);
  return b.create<tensor::CollapseShapeOp>(loc, transposed,
                                           SmallVector<ReassociationIndices>{{0, 1}, {2}});
}

/// The inverse of channelsFirst: [C, B * pixels] as `type`, [B, C, ...pixels].
Value batchFirst(OpBuilder &b, Location loc, Value rows, RankedTensorType type) {
  SmallVector<int64_t> shape(type.getShape());
  std::swap(shape[0], shape[1]);
  SmallVector<ReassociationIndices> groups{{0}, {}};
  for (int64_t d = 1; d < type.getRank(); ++d)
    groups[1].push_back(d);
  Value split = b.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get(shape, type.getElementType()), rows, groups);
  return swapOuter(b, loc, split);
}

/// A linalg.matmul of `lhs` [M, K] and `rhs` [K, N] (with `transposeLhs`,
/// matmul_transpose_a of `lhs` [K, M]) into `init` [M, N].
Value gemm(OpBuilder &b, Location loc, Value lhs, Value rhs, Value init, bool transposeLhs) {
  if (transposeLhs)
    return b.create<linalg::MatmulTransposeAOp>(loc, TypeRange{init.getType()},
                                                ValueRange{lhs, rhs}, ValueRange{init})
        ->getResult(0);
  return b.create<linalg::MatmulOp>(loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
                                    ValueRange{init})
      ->getResult(0);
}

/// `value` [A, B, C] as [A, C, B].
Value transposeInner(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  auto transposedType = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(2), type.getDimSize(1)}, type.getElementType());
  return b.create<linalg::TransposeOp>(loc, value, emptyLike(b, loc, transposedType),
                                       ArrayRef<int64_t>{0, 2, 1})
      ->getResult(0);
}

/// `images` [B, C, H, W] copied channels-last, [B, H, W, C], inside a zero
/// border of `top`/`bottom` rows and `left`/`right` columns. The transpose
/// is of [B, C, H W] (whole 16 x 16 register blocks where H W allows; the
/// padded slice cannot collapse H and W), then copied into the border
/// (vdl-lower-vectors copies rows of C as vectors).
Value paddedChannelsLast(OpBuilder &b, Location loc, Value images, int64_t top, int64_t bottom,
                         int64_t left, int64_t right) {
  auto type = cast<RankedTensorType>(images.getType());
  int64_t batch = type.getDimSize(0), channels = type.getDimSize(1),
          height = type.getDimSize(2), width = type.getDimSize(3);
  // [B, C, H W] -> [B, H W, C] -> [B, H, W, C].
  Value channelsLast = transposeInner(b, loc, collapseFrom(b, loc, images, 2));
  auto nhwcType = RankedTensorType::get({batch, height, width, channels},
                                        type.getElementType());
  Value nhwc = b.create<tensor::ExpandShapeOp>(
      loc, nhwcType, channelsLast, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
  if (top == 0 && bottom == 0 && left == 0 && right == 0)
    return nhwc;
  auto paddedType = RankedTensorType::get(
      {batch, height + top + bottom, width + left + right, channels}, type.getElementType());
  MLIRContext *ctx = b.getContext();
  return b.create<tensor::InsertSliceOp>(
      loc, nhwc, zerosLike(b, loc, paddedType), getAsIndexOpFoldResult(ctx, {0, top, left, 0}),
      getAsIndexOpFoldResult(ctx, nhwcType.getShape()),
      SmallVector<OpFoldResult>(4, b.getIndexAttr(1)));
}

/// The bias of each output channel broadcast over [B, H, W, O] (zeros
/// without one): a direct convolution's initial accumulator.
Value channelsLastInit(OpBuilder &b, Location loc, Value bias, RankedTensorType type) {
  if (!bias)
    return zerosLike(b, loc, type);
  return b.create<linalg::BroadcastOp>(loc, bias, emptyLike(b, loc, type),
                                       ArrayRef<int64_t>{0, 1, 2})
      .getResult()[0];
}

/// linalg.conv_2d_nhwc_hwcf of `input` [B, H, W, C] and `filter` [kh, kw,
/// C, O] at `stride`, accumulating into `init` [B, OH, OW, O].
Value convNhwcHwcf(OpBuilder &b, Location loc, Value input, Value filter, Value init,
                   int64_t stride) {
  auto pair = [&](int64_t v) {
    return DenseIntElementsAttr::get(RankedTensorType::get({2}, b.getI64Type()),
                                     ArrayRef<int64_t>{v, v});
  };
  return b
      .create<linalg::Conv2DNhwcHwcfOp>(loc, TypeRange{init.getType()}, ValueRange{input, filter},
                                        ValueRange{init}, pair(stride), pair(1))
      ->getResult(0);
}

/// [B, OH, OW, O] as `result` [B, O, OH, OW].
Value channelsFirstImages(OpBuilder &b, Location loc, Value nhwf, RankedTensorType result) {
  Value pixelsFirst = b.create<tensor::CollapseShapeOp>(
      loc, nhwf, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
  return expandLast(b, loc, transposeInner(b, loc, pixelsFirst), result);
}

/// conv2d as linalg.conv_2d_nhwc_hwcf: the input copied channels-last into
/// a zero-padded [B, H + 2p, W + 2p, C], the filter to [k, k, C, O], the
/// result [B, OH, OW, O] back to NCHW. Channels-last because
/// vdl-tile-and-vectorize decomposes each tile into 1-D convolutions whose
/// vectors run along the output channels (contiguous there) in register
/// blocks of output pixels x output channels, each input pixel broadcast:
/// no column matrix k² / s² times the input's size.
Value directConv2D(OpBuilder &b, Location loc, Value input, Value filter, Value bias,
                   const Window &w, RankedTensorType result) {
  Type f32Type = result.getElementType();
  int64_t batch = result.getDimSize(0), outChannels = result.getDimSize(1);
  Value padded = paddedChannelsLast(b, loc, input, w.padding, w.padding, w.padding, w.padding);
  // [O, C, k, k] -> [k, k, C, O].
  auto hwcfType = RankedTensorType::get({w.kernel, w.kernel, w.channels, outChannels}, f32Type);
  Value hwcf = b.create<linalg::TransposeOp>(loc, filter, emptyLike(b, loc, hwcfType),
                                             ArrayRef<int64_t>{2, 3, 1, 0})
                   ->getResult(0);
  auto nhwfType =
      RankedTensorType::get({batch, w.outHeight, w.outWidth, outChannels}, f32Type);
  Value out = convNhwcHwcf(b, loc, padded, hwcf, channelsLastInit(b, loc, bias, nhwfType),
                           w.stride);
  return channelsFirstImages(b, loc, out, result);
}

/// Which taps of a transposed convolution land in one phase (output rows
/// Y = q (mod s)) along one dimension, as a stride-1 correlation: output
/// row y2 of the phase (Y = y2 s + q) sums input rows y2 + first + a, a <
/// taps, each through kernel row q + p - s (first + a).
struct Phase {
  int64_t first = 0, taps = 0;
  Phase(int64_t q, int64_t kernel, int64_t stride, int64_t padding) {
    // Tap i lands from input row (Y + p - i) / s when that divides.
    for (int64_t i = kernel - 1; i >= 0; --i)
      if (((q + padding - i) % stride + stride) % stride == 0) {
        if (taps++ == 0)
          first = (q + padding - i) / stride; // floor: exact here
      }
  }
  int64_t kernelRow(int64_t a, int64_t q, int64_t stride, int64_t padding) const {
    return q + padding - stride * (first + a);
  }
};

/// conv2d_transpose as s² stride-1 direct convolutions, one per output
/// phase (Y mod s, X mod s), each with the ceil(k/s)² taps that land there
/// (sub-pixel convolution): the input is read channels-last, padded once
/// for every phase; each phase's [kh, kw, C, O] sub-filter gathers its taps
/// from the [C, O, k, k] filter; each phase accumulates into a strided
/// slice (stride s) of one channels-last output, which goes back to NCHW.
/// Only where s divides the output: `directTransposeApplies`.
Value directConv2DTranspose(OpBuilder &b, Location loc, Value input, Value filter, Value bias,
                            int64_t stride, int64_t padding, RankedTensorType result) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto filterType = cast<RankedTensorType>(filter.getType());
  Type f32Type = result.getElementType();
  MLIRContext *ctx = b.getContext();
  int64_t batch = inputType.getDimSize(0), channels = inputType.getDimSize(1),
          height = inputType.getDimSize(2), width = inputType.getDimSize(3),
          outChannels = result.getDimSize(1), kernel = filterType.getDimSize(2);
  int64_t phaseHeight = result.getDimSize(2) / stride, phaseWidth = result.getDimSize(3) / stride;
  SmallVector<Phase> phases;
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  for (int64_t q = 0; q < stride; ++q) {
    Phase phase(q, kernel, stride, padding);
    top = std::max(top, -phase.first);
    left = std::max(left, -phase.first);
    bottom = std::max(bottom, phaseHeight - 1 + phase.first + phase.taps - 1 - (height - 1));
    right = std::max(right, phaseWidth - 1 + phase.first + phase.taps - 1 - (width - 1));
    phases.push_back(phase);
  }
  Value padded = paddedChannelsLast(b, loc, input, top, bottom, left, right);
  auto nhwfType = RankedTensorType::get(
      {batch, result.getDimSize(2), result.getDimSize(3), outChannels}, f32Type);
  Value out = channelsLastInit(b, loc, bias, nhwfType);
  for (int64_t qy = 0; qy < stride; ++qy)
    for (int64_t qx = 0; qx < stride; ++qx) {
      const Phase &py = phases[qy], &px = phases[qx];
      // sub[a, d, c, o] = filter[c, o, kernelRow(a), kernelRow(d)].
      auto subType = RankedTensorType::get({py.taps, px.taps, channels, outChannels}, f32Type);
      Value sub = generateTensor(b, loc, subType, [&](OpBuilder &nb, Location nl, ValueRange at) {
        IndexMath m{nb, nl};
        auto row = [&](Value a, const Phase &phase, int64_t q) { // q + p - s first - s a
          return m.add(m.mul(a, -stride), phase.kernelRow(0, q, stride, padding));
        };
        return nb
            .create<tensor::ExtractOp>(nl, filter,
                                       ValueRange{at[2], at[3], row(at[0], py, qy),
                                                  row(at[1], px, qx)})
            .getResult();
      });
      SmallVector<OpFoldResult> inOffsets =
          getAsIndexOpFoldResult(ctx, {0, top + py.first, left + px.first, 0});
      SmallVector<OpFoldResult> inSizes = getAsIndexOpFoldResult(
          ctx, {batch, phaseHeight + py.taps - 1, phaseWidth + px.taps - 1, channels});
      SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
      Value window = b.create<tensor::ExtractSliceOp>(loc, padded, inOffsets, inSizes, ones);
      SmallVector<OpFoldResult> outOffsets = getAsIndexOpFoldResult(ctx, {0, qy, qx, 0});
      SmallVector<OpFoldResult> outSizes =
          getAsIndexOpFoldResult(ctx, {batch, phaseHeight, phaseWidth, outChannels});
      SmallVector<OpFoldResult> outStrides = getAsIndexOpFoldResult(ctx, {1, stride, stride, 1});
      Value init = b.create<tensor::ExtractSliceOp>(loc, out, outOffsets, outSizes, outStrides);
      Value phaseOut = convNhwcHwcf(b, loc, window, sub, init, 1);
      out = b.create<tensor::InsertSliceOp>(loc, phaseOut, out, outOffsets, outSizes, outStrides);
    }
  return channelsFirstImages(b, loc, out, result);
}

/// Whether a convolution of `inChannels` into `outChannels` channels per
/// pixel is computed directly under `algorithm` (see the conv-algorithm
/// option). auto does where the output channels fill a vector register of
/// the target (the direct kernels' vectors run along them) and there is
/// more than one input channel (each accumulator block is loaded and stored
/// once per input channel and kernel row: with one channel that is a load
/// and a store per 3 FMAs). A filter gradient (inChannels 0) only needs the
/// first. Measured on conv_vae's layers, forward and backward together,
/// every layer direct against every layer im2col (Zen 4, AVX-512, one
/// thread, perf samples; bench/layer_profile.py and
/// bench/results/2026-12-03-conv-layers-zen4.md), direct/im2col:
///   conv2d 1 -> 32, 28 -> 14:             0.97 (im2col forward better)
///   conv2d 32 -> 64, 14 -> 7:             0.59
///   conv2d_transpose 32 -> 64, 7 -> 14:   0.43
///   conv2d_transpose 64 -> 32, 14 -> 28:  0.65
///   conv2d_transpose 32 -> 1, 28 x 28:    1.70 (one lane of sixteen)
bool directConvolution(StringRef algorithm, Operation *op, int64_t inChannels,
                       int64_t outChannels) {
  if (algorithm != "auto")
    return algorithm == "direct";
  return outChannels >= vaec::targetOf(op).getLanes() && inChannels != 1;
}

struct Conv2DLowering : OpConversionPattern<Conv2DOp> {
  Conv2DLowering(MLIRContext *ctx, StringRef algorithm)
      : OpConversionPattern(ctx), algorithm(algorithm.str()) {}


  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto filterType = cast<RankedTensorType>(op.getFilter().getType());
    Window w(cast<RankedTensorType>(op.getInput().getType()), filterType.getDimSize(2),
             op.getStride(), op.getPadding());
    RankedTensorType result = op.getType();
    if (directConvolution(algorithm, op, w.channels, result.getDimSize(1))) {
      rewriter.replaceOp(op, directConv2D(rewriter, loc, adaptor.getInput(),
                                          adaptor.getFilter(), adaptor.getBias(), w, result));
      return success();
    }
    // [O, taps] x [taps, B * positions], the bias the initial accumulator.
    Value cols = im2col(rewriter, loc, adaptor.getInput(), w);
    Value filter = collapseFrom(rewriter, loc, adaptor.getFilter(), 1);
    auto gemmType = RankedTensorType::get(
        {result.getDimSize(1), result.getDimSize(0) * w.positions()}, result.getElementType());
    Value init = adaptor.getBias()
                     ? rewriter
                           .create<linalg::BroadcastOp>(loc, adaptor.getBias(),
                                                        emptyLike(rewriter, loc, gemmType),
                                                        ArrayRef<int64_t>{1})
                           .getResult()[0]
                     : zerosLike(rewriter, loc, gemmType);
    Value out = gemm(rewriter, loc, filter, cols, init, /*transposeLhs=*/false);
    rewriter.replaceOp(op, batchFirst(rewriter, loc, out, result));
    return success();
  }

  std::string algorithm;
};

/// The filter gradient with channels-last columns: cols[(b, y, x), (i, j,
/// c)] = x[b, y s + i - p, x s + j - p, c], each tap's block a strided view
/// of the channels-last padded input (the forward direct convolution's,
/// shared by CSE) copied row by row (rows of C channels: no gathers, no
/// transpose of the columns), then dW [O, (i, j, c)] = dyᵀ·cols as
/// matmul_transpose_a (both operands' rows contiguous each k step), and a
/// small transpose to [O, C, k, k].
Value directFilterGrad(OpBuilder &b, Location loc, Value input, Value outputGrad,
                       const Window &w, RankedTensorType result) {
  MLIRContext *ctx = b.getContext();
  Type f32Type = result.getElementType();
  int64_t batch = cast<RankedTensorType>(outputGrad.getType()).getDimSize(0),
          outChannels = result.getDimSize(0), taps = w.kernel * w.kernel;
  Value padded = paddedChannelsLast(b, loc, input, w.padding, w.padding, w.padding, w.padding);
  auto colsType =
      RankedTensorType::get({batch, w.outHeight, w.outWidth, taps, w.channels}, f32Type);
  Value cols = emptyLike(b, loc, colsType);
  SmallVector<OpFoldResult> pixelSizes =
      getAsIndexOpFoldResult(ctx, {batch, w.outHeight, w.outWidth, w.channels});
  SmallVector<OpFoldResult> tapSizes =
      getAsIndexOpFoldResult(ctx, {batch, w.outHeight, w.outWidth, 1, w.channels});
  for (int64_t i = 0; i < w.kernel; ++i)
    for (int64_t j = 0; j < w.kernel; ++j) {
      Value pixels = b.create<tensor::ExtractSliceOp>(
          loc, padded, getAsIndexOpFoldResult(ctx, {0, i, j, 0}), pixelSizes,
          getAsIndexOpFoldResult(ctx, {1, w.stride, w.stride, 1}));
      cols = b.create<tensor::InsertSliceOp>(
          loc, pixels, cols, getAsIndexOpFoldResult(ctx, {0, 0, 0, i * w.kernel + j, 0}),
          tapSizes, SmallVector<OpFoldResult>(5, b.getIndexAttr(1)));
    }
  Value colsMatrix = b.create<tensor::CollapseShapeOp>(
      loc, cols, SmallVector<ReassociationIndices>{{0, 1, 2}, {3, 4}});
  Value dy = channelsLast(b, loc, outputGrad); // [B OH OW, O]
  auto gemmType = RankedTensorType::get({outChannels, taps * w.channels}, f32Type);
  Value dw = gemm(b, loc, dy, colsMatrix, zerosLike(b, loc, gemmType), /*transposeLhs=*/true);
  auto ohwcType =
      RankedTensorType::get({outChannels, w.kernel, w.kernel, w.channels}, f32Type);
  Value ohwc = b.create<tensor::ExpandShapeOp>(
      loc, ohwcType, dw, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
  return b.create<linalg::TransposeOp>(loc, ohwc, emptyLike(b, loc, result),
                                       ArrayRef<int64_t>{0, 3, 1, 2})
      ->getResult(0);
}

struct Conv2DFilterGradLowering : OpConversionPattern<Conv2DFilterGradOp> {
  Conv2DFilterGradLowering(MLIRContext *ctx, StringRef algorithm)
      : OpConversionPattern(ctx), algorithm(algorithm.str()) {}

  LogicalResult
  matchAndRewrite(Conv2DFilterGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType(); // [O, C, k, k]
    Window w(cast<RankedTensorType>(op.getInput().getType()), result.getDimSize(2),
             op.getStride(), op.getPadding());
    if (directConvolution(algorithm, op, /*inChannels=*/0, result.getDimSize(0))) {
      rewriter.replaceOp(op, directFilterGrad(rewriter, loc, adaptor.getInput(),
                                              adaptor.getOutputGrad(), w, result));
      return success();
    }
    // dyᵀ [O, B * positions] x colsᵀ [B * positions, taps], as xᵀ·dy of a
    // dense layer: both transposed so that each k step reads a row of each,
    // contiguous. The columns are the forward convolution's (CSE makes them
    // one), transposed in blocks.
    Value cols = transpose2d(rewriter, loc, im2col(rewriter, loc, adaptor.getInput(), w));
    Value dy = channelsLast(rewriter, loc, adaptor.getOutputGrad());
    auto gemmType =
        RankedTensorType::get({result.getDimSize(0), w.taps()}, result.getElementType());
    Value dw = gemm(rewriter, loc, dy, cols, zerosLike(rewriter, loc, gemmType),
                    /*transposeLhs=*/true);
    rewriter.replaceOp(op, expandLast(rewriter, loc, dw, result));
    return success();
  }

  std::string algorithm;
};

struct Conv2DTransposeLowering : OpConversionPattern<Conv2DTransposeOp> {
  Conv2DTransposeLowering(MLIRContext *ctx, StringRef algorithm)
      : OpConversionPattern(ctx), algorithm(algorithm.str()) {}

  /// Whether this shape is computed as direct convolutions, one per output
  /// phase, rather than a GEMM into columns and col2im: where the stride
  /// divides the output and every phase has a tap.
  bool direct(Conv2DTransposeOp op) const {
    RankedTensorType result = op.getType();
    int64_t s = op.getStride(),
            k = cast<RankedTensorType>(op.getFilter().getType()).getDimSize(2);
    if (k < s || result.getDimSize(2) % s != 0 || result.getDimSize(3) % s != 0)
      return false;
    return directConvolution(algorithm, op,
                             cast<RankedTensorType>(op.getInput().getType()).getDimSize(1),
                             result.getDimSize(1));
  }

  LogicalResult
  matchAndRewrite(Conv2DTransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType()); // [B, C, H, W]
    auto filterType = cast<RankedTensorType>(op.getFilter().getType()); // [C, O, k, k]
    RankedTensorType result = op.getType();                            // [B, O, OH, OW]
    if (direct(op)) {
      rewriter.replaceOp(op, directConv2DTranspose(rewriter, loc, adaptor.getInput(),
                                                   adaptor.getFilter(), adaptor.getBias(),
                                                   op.getStride(), op.getPadding(), result));
      return success();
    }
    int64_t batch = inputType.getDimSize(0), height = inputType.getDimSize(2),
            width = inputType.getDimSize(3), channels = result.getDimSize(1),
            k = filterType.getDimSize(2), s = op.getStride(), p = op.getPadding(),
            outWidth = result.getDimSize(3);
    Type f32Type = result.getElementType();
    // cols[(o,i,j), (b,y,x)] = sum_c filter[c, (o,i,j)] in[b, c, y, x]:
    // filterᵀ [O k k, C] x [C, B * H * W].
    Value filter = collapseFrom(rewriter, loc, adaptor.getFilter(), 1);
    Value input = channelsFirst(rewriter, loc, adaptor.getInput());
    auto colsType = RankedTensorType::get({channels * k * k, batch * height * width}, f32Type);
    Value cols = gemm(rewriter, loc, filter, input, zerosLike(rewriter, loc, colsType),
                      /*transposeLhs=*/true);
    // out[b, o, Y, X] = bias[o] + the column entries that land on (Y, X): tap
    // (i, j) of input pixel (y, x) lands on (y s + i - p, x s + j - p). With
    // a stride s that divides the output, the output is taken phase by phase
    // (Y mod s, X mod s): in a phase, only the taps i = Y + p (mod s) land,
    // ceil(k / s)^2 of k^2, so each output reads those instead of all k^2
    // (masked): 4 gathers instead of 9 for k = 3, s = 2. A constant table
    // [phases x taps, positions of a phase] holds where each reads in the
    // columns of its output channel (-1: nothing lands); a transpose then
    // interleaves the phases.
    int64_t outHeight = result.getDimSize(2), taps = k * k;
    int64_t images = batch * height * width; // a row of cols
    if (int64_t(channels) * taps * images >= (int64_t(1) << 31))
      return rewriter.notifyMatchFailure(op, "columns over 2^31 elements");
    int64_t phaseStride = outHeight % s == 0 && outWidth % s == 0 ? s : 1;
    int64_t phases = phaseStride * phaseStride;
    int64_t phaseHeight = outHeight / phaseStride, phaseWidth = outWidth / phaseStride;
    auto landing = [&](int64_t phase) { // the taps (i, j) that land in a phase
      SmallVector<int64_t> found;
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j)
          if (phases == 1 || (((phase / s + p - i) % s + s) % s == 0 &&
                              ((phase % s + p - j) % s + s) % s == 0))
            found.push_back(i * k + j);
      return found;
    };
    int64_t maxTaps = 0;
    for (int64_t phase = 0; phase < phases; ++phase)
      maxTaps = std::max<int64_t>(maxTaps, landing(phase).size());
    std::vector<int32_t> entries;
    for (int64_t phase = 0; phase < phases; ++phase) {
      SmallVector<int64_t> tapsHere = landing(phase);
      for (int64_t slot = 0; slot < maxTaps; ++slot)
        for (int64_t y2 = 0; y2 < phaseHeight; ++y2)
          for (int64_t x2 = 0; x2 < phaseWidth; ++x2) {
            if (slot >= int64_t(tapsHere.size())) {
              entries.push_back(-1);
              continue;
            }
            int64_t t = tapsHere[slot], i = t / k, j = t % k;
            int64_t bigY = y2 * phaseStride + phase / phaseStride;
            int64_t bigX = x2 * phaseStride + phase % phaseStride;
            int64_t dy = bigY + p - i, dx = bigX + p - j;
            bool lands = dy >= 0 && dx >= 0 && dy % s == 0 && dx % s == 0 &&
                         dy / s < height && dx / s < width;
            entries.push_back(lands ? int32_t(t * images + dy / s * width + dx / s) : -1);
          }
    }
    Value table = i32Table(rewriter, loc, phases * maxTaps, phaseHeight * phaseWidth, entries);
    Value flatCols = flatten(rewriter, loc, cols);
    auto phasedType =
        RankedTensorType::get({batch, channels, phases, phaseHeight * phaseWidth}, f32Type);
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    if (adaptor.getBias()) {
      inputs.push_back(adaptor.getBias());
      maps.push_back(mapOf(rewriter, 4, {1}));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(4));
    SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
    Value phased =
        rewriter
            .create<linalg::GenericOp>(
                loc, phasedType, inputs, emptyLike(rewriter, loc, phasedType), maps, iterators,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  IndexMath m{b, l};
                  Value n = b.create<linalg::IndexOp>(l, 0), o = b.create<linalg::IndexOp>(l, 1);
                  Value phase = b.create<linalg::IndexOp>(l, 2);
                  Value pos = b.create<linalg::IndexOp>(l, 3);
                  // cols[o k k + t, b H W + pixel], flat.
                  Value base = b.create<arith::AddIOp>(l, m.mul(o, taps * images),
                                                       m.mul(n, height * width));
                  Value sum = adaptor.getBias() ? args[0] : f32(b, l, 0.0);
                  for (int64_t slot = 0; slot < maxTaps; ++slot) {
                    Value row = m.add(m.mul(phase, maxTaps), slot);
                    auto [at, lands] = tableOffset(b, l, table, row, pos, base);
                    Value term = b.create<tensor::ExtractOp>(l, flatCols, ValueRange{at});
                    term = b.create<arith::SelectOp>(l, lands, term, f32(b, l, 0.0));
                    sum = b.create<arith::AddFOp>(l, sum, term);
                  }
                  b.create<linalg::YieldOp>(l, sum);
                })
            .getResult(0);
    Value out;
    if (phases == 1) {
      out = rewriter.create<tensor::CollapseShapeOp>(
          loc, phased, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    } else {
      // [B, O, s, s, OH/s, OW/s] -> [B, O, OH/s, s, OW/s, s] = [B, O, OH, OW].
      Value split = rewriter.create<tensor::ExpandShapeOp>(
          loc,
          RankedTensorType::get({batch, channels, s, s, phaseHeight, phaseWidth}, f32Type),
          phased, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}});
      auto interleavedType =
          RankedTensorType::get({batch, channels, phaseHeight, s, phaseWidth, s}, f32Type);
      Value interleaved = rewriter
                              .create<linalg::TransposeOp>(
                                  loc, split, emptyLike(rewriter, loc, interleavedType),
                                  ArrayRef<int64_t>{0, 1, 4, 2, 5, 3})
                              ->getResult(0);
      out = rewriter.create<tensor::CollapseShapeOp>(
          loc, interleaved, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3, 4, 5}});
    }
    rewriter.replaceOp(op, expandLast(rewriter, loc, out, result));
    return success();
  }

  std::string algorithm;
};

/// `result[c] = sum_{b, pos} input[b, c, pos]`, pixels flattened.
struct ChannelSumLowering : OpConversionPattern<ChannelSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ChannelSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = collapseFrom(rewriter, loc, adaptor.getInput(), 2);
    SmallVector<utils::IteratorType> iterators{utils::IteratorType::reduction,
                                               utils::IteratorType::parallel,
                                               utils::IteratorType::reduction};
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, op.getType(), input, zerosLike(rewriter, loc, op.getType()),
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(3), mapOf(rewriter, 3, {1})},
        iterators, [](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(l, b.create<arith::AddFOp>(l, args[1], args[0]).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Optimizers: one loop per parameter updates it and its state together
//===----------------------------------------------------------------------===//

/// Updates `state` (tensors of one shape) in place, elementwise, reading
/// `inputs` of the same shape and 0-d `scalars`: the generic's outs are the
/// state itself, so bufferization writes into the buffers it came from.
/// `fn` gets (inputs..., scalars..., state...) and yields the new state.
SmallVector<Value> updateInPlace(OpBuilder &b, Location loc, ValueRange state,
                                 ValueRange inputs, ValueRange scalars,
                                 MultiScalarFn fn) {
  unsigned rank = cast<RankedTensorType>(state.front().getType()).getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps(inputs.size(), identity);
  maps.append(scalars.size(), AffineMap::get(rank, 0, {}, b.getContext()));
  maps.append(state.size(), identity);
  SmallVector<Value> operands(inputs);
  operands.append(scalars.begin(), scalars.end());
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, state.getTypes(), operands, state, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        nb.create<linalg::YieldOp>(nl, fn(nb, nl, args));
      });
  return SmallVector<Value>(generic.getResults());
}

/// The clipping factor of a gradient: `max > 0 ? min(1, max / (sqrt(n) +
/// 1e-6)) : 1` on 0-d tensors.
struct ClipCoefficientLowering : OpConversionPattern<ClipCoefficientOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ClipCoefficientOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    AffineMap scalar = AffineMap::get(0, 0, {}, rewriter.getContext());
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, op.getType(), ValueRange{adaptor.getNormSq(), adaptor.getMaxNorm()},
        emptyLike(rewriter, loc, op.getType()), SmallVector<AffineMap>(3, scalar),
        SmallVector<utils::IteratorType>{},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value norm = b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, args[0]),
                                               f32(b, l, 1e-6));
          Value clipped = b.create<arith::MinimumFOp>(
              l, f32(b, l, 1.0), b.create<arith::DivFOp>(l, args[1], norm));
          Value enabled = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, args[1],
                                                  f32(b, l, 0.0));
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, enabled, clipped, f32(b, l, 1.0)).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct AdamUpdateLowering : OpConversionPattern<AdamUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AdamUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> scalars = {adaptor.getBiasCorrection1(), adaptor.getBiasCorrection2(),
                                  adaptor.getLr(),    adaptor.getBeta1(),
                                  adaptor.getBeta2(), adaptor.getEps(),
                                  adaptor.getWeightDecay()};
    Value gradScale = adaptor.getGradScale();
    if (gradScale)
      scalars.push_back(gradScale);
    auto results = updateInPlace(
        rewriter, op.getLoc(),
        {adaptor.getParam(), adaptor.getM(), adaptor.getV()}, {adaptor.getGrad()}, scalars,
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
          Value v = b.create<arith::AddFOp>(loc, mul(beta2, state[2]),
                                            mul(sub(one, beta2), mul(g, g)));
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
  LogicalResult
  matchAndRewrite(SgdUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> scalars = {adaptor.getLr(), adaptor.getMomentum()};
    Value gradScale = adaptor.getGradScale();
    if (gradScale)
      scalars.push_back(gradScale);
    auto results = updateInPlace(
        rewriter, op.getLoc(), {adaptor.getParam(), adaptor.getVelocity()},
        {adaptor.getGrad()}, scalars,
        [&](OpBuilder &b, Location loc, ValueRange a) -> SmallVector<Value> {
          // a = (g, lr, momentum[, grad_scale], p, v);  v' = momentum v + g;
          // p' = p - lr v'
          Value g = gradScale ? b.create<arith::MulFOp>(loc, a[0], a[3]) : a[0];
          ValueRange state = a.drop_front(gradScale ? 4 : 3);
          Value v = b.create<arith::AddFOp>(
              loc, b.create<arith::MulFOp>(loc, a[2], state[1]), g);
          return {b.create<arith::SubFOp>(
                      loc, state[0], b.create<arith::MulFOp>(loc, a[1], v)),
                  v};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Dense and constants
//===----------------------------------------------------------------------===//

struct DenseLowering : OpConversionPattern<DenseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DenseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    // The bias is the matmul's initial accumulator: no separate add loop.
    Value init = emptyLike(rewriter, loc, op.getType());
    Value bias = rewriter
                     .create<linalg::BroadcastOp>(loc, adaptor.getBias(), init,
                                                  ArrayRef<int64_t>{0})
                     .getResult()[0];
    rewriter.replaceOpWithNewOp<linalg::MatmulOp>(
        op, TypeRange{op.getType()},
        ValueRange{adaptor.getInput(), adaptor.getWeight()}, ValueRange{bias});
    return success();
  }
};

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value value = rewriter.create<arith::ConstantOp>(loc, op.getValueAttr());
    rewriter.replaceOpWithNewOp<linalg::FillOp>(
        op, value, emptyLike(rewriter, loc, op.getType()));
    return success();
  }
};

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
/// (Applied op by op rather than by the greedy driver, whose folding would
/// also rewrite the rest of the lowering's output; what is left dead goes
/// in the canonicalization after this pass.)
struct ElementwiseOnChannelsLast {
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

  static LogicalResult rewrite(linalg::TransposeOp op, RewriterBase &rewriter) {
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
      if (!source || source.getType() != resultType.clone(
                                              cast<ShapedType>(source.getType()).getElementType()))
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
        loc, TypeRange{type}, sources, emptyLike(rewriter, loc, type), maps, iterators);
    rewriter.cloneRegionBefore(generic.getRegion(), channelsLast.getRegion(),
                               channelsLast.getRegion().end());
    rewriter.replaceOp(op, channelsLast.getResults());
    return success();
  }
};

struct ConvertVDLToLinalgPass
    : vaec::impl::ConvertVDLToLinalgBase<ConvertVDLToLinalgPass> {
  using ConvertVDLToLinalgBase::ConvertVDLToLinalgBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<VDLDialect>();
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           func::FuncDialect>();
    // The step number becomes a 0-d tensor before any vdl op sees it.
    target.addLegalOp<tensor::FromElementsOp>();
    RewritePatternSet patterns(ctx);
    patterns.add<DenseLowering, ConstantLowering>(ctx);
    patterns.add<ElementwiseLowering<ReluOp>, ElementwiseLowering<TanhOp>,
                 ElementwiseLowering<SigmoidOp>, ElementwiseLowering<SoftplusOp>,
                 ElementwiseLowering<ExpOp>, ElementwiseLowering<LogOp>,
                 ElementwiseLowering<NegOp>, ElementwiseLowering<LeakyReluOp>,
                 ElementwiseLowering<EluOp>, ElementwiseLowering<AddOp>,
                 ElementwiseLowering<SubOp>, ElementwiseLowering<MulOp>,
                 ElementwiseLowering<DivOp>,
                 ElementwiseLowering<ReparameterizeOp>,
                 ElementwiseLowering<ElboOp>>(ctx);
    patterns.add<ElementwiseLowering<ReluGradOp>, ElementwiseLowering<TanhGradOp>,
                 ElementwiseLowering<SigmoidGradOp>,
                 ElementwiseLowering<SoftplusGradOp>,
                 ElementwiseLowering<LeakyReluGradOp>,
                 ElementwiseLowering<EluGradOp>,
                 PerExampleGradLowering<KLNormalGradOp>,
                 PerExampleGradLowering<BernoulliLogProbGradOp>,
                 PerExampleGradLowering<GaussianLogProbGradOp>,
                 PerExampleGradLowering<GaussianFixedLogProbGradOp>, MatmulLowering,
                 ReduceRowsLowering, BroadcastLowering, ReshapeLowering, ClipCoefficientLowering,
                 ChannelSumLowering,
                 AdamUpdateLowering, SgdUpdateLowering>(ctx);
    patterns.add<ReductionLowering<KLNormalOp>,
                 ReductionLowering<BernoulliLogProbOp>,
                 ReductionLowering<GaussianLogProbOp>,
                 ReductionLowering<GaussianFixedLogProbOp>,
                 ReductionLowering<ReduceSumOp>,
                 ReductionLowering<ReduceMeanOp>>(ctx);
    patterns.add<Conv2DLowering, Conv2DTransposeLowering, Conv2DFilterGradLowering>(
        ctx, convAlgorithm);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();
    SmallVector<linalg::TransposeOp> transposes;
    getOperation().walk([&](linalg::TransposeOp op) { transposes.push_back(op); });
    IRRewriter rewriter(ctx);
    for (linalg::TransposeOp op : transposes)
      (void)ElementwiseOnChannelsLast::rewrite(op, rewriter);
  }
};

} // namespace
