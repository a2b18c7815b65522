//===- VDLGradients.cpp - one reverse-mode rule per vdl op ----------------===//
//
// GradientOpInterface implementations. Each rule reads the forward values it
// needs (operands or the result: nothing is recomputed) and builds only the
// adjoints asked for.
//
//===----------------------------------------------------------------------===//

#include "ir/VDLDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace vaec::vdl;

namespace {

Value splat(OpBuilder &b, Location loc, Type type, double value) {
  return b.create<ConstantOp>(loc, type, b.getF32FloatAttr(float(value)));
}

/// Reports adjoints asked for that the rule does not
/// provide (targets of likelihoods: they are data, never parameters).
LogicalResult unsupported(Operation *op, ArrayRef<bool> needed, ArrayRef<unsigned> noRule) {
  for (unsigned i : noRule)
    if (needed[i])
      return op->emitError() << "no gradient rule for operand #" << i << " of '" << op->getName()
                             << "'";
  return success();
}

/// The rule of a one-operand op: `build()` gives the operand's adjoint.
template <typename Build>
LogicalResult unaryRule(ArrayRef<bool> needed, SmallVectorImpl<Value> &adjoints, Build build) {
  adjoints.assign(1, Value());
  if (needed[0])
    adjoints[0] = build();
  return success();
}

/// A rule whose adjoint is one elementwise op on (forward value, dy).
template <typename GradOp>
LogicalResult activationRule(OpBuilder &b, Operation *op, Value forward, Value dy,
                             ArrayRef<bool> needed, SmallVectorImpl<Value> &adjoints) {
  return unaryRule(needed, adjoints,
                   [&] { return b.create<GradOp>(op->getLoc(), forward, dy).getResult(); });
}

} // namespace

LogicalResult DenseOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &adjoints) {
  Location loc = getLoc();
  adjoints.assign(3, Value());
  if (needed[0]) // dx = dy · Wᵀ
    adjoints[0] = b.create<MatmulOp>(loc, dy, getWeight(), false, true);
  if (needed[1]) // dW = xᵀ · dy
    adjoints[1] = b.create<MatmulOp>(loc, getInput(), dy, true, false);
  if (needed[2]) // db = sum over the batch of dy
    adjoints[2] = b.create<ReduceRowsOp>(loc, dy);
  return success();
}

LogicalResult Conv2DOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                       SmallVectorImpl<Value> &adjoints) {
  Location loc = getLoc();
  adjoints.assign(getBias() ? 3 : 2, Value());
  auto x = cast<RankedTensorType>(getInput().getType());
  auto y = cast<RankedTensorType>(dy.getType());
  int64_t kernel = cast<RankedTensorType>(getFilter().getType()).getDimSize(2);
  int64_t stride = getStride(), padding = getPadding();
  if (needed[0]) {
    // dx: dy through the transposed convolution of the same filter; the
    // rows a strided convolution skipped at the end come back as
    // output_padding. (One value serves both dimensions only when they
    // agree; the verifier of the transposed op checks the result.)
    int64_t outputPadding = (x.getDimSize(2) + 2 * padding - kernel) % stride;
    if ((x.getDimSize(3) + 2 * padding - kernel) % stride != outputPadding)
      return emitOpError("no gradient rule for an input whose height and width leave "
                         "different remainders at stride ")
             << stride;
    adjoints[0] = b.create<Conv2DTransposeOp>(
        loc, x, dy, getFilter(), Value(), b.getI64IntegerAttr(stride), b.getI64IntegerAttr(padding),
        b.getI64IntegerAttr(outputPadding));
  }
  if (needed[1]) // dW: the input correlated with dy
    adjoints[1] = b.create<Conv2DFilterGradOp>(loc, getFilter().getType(), getInput(), dy,
                                               getStrideAttr(), getPaddingAttr());
  if (getBias() && needed[2]) // db: dy summed per channel
    adjoints[2] = b.create<ChannelSumOp>(
        loc, RankedTensorType::get({y.getDimSize(1)}, y.getElementType()), dy);
  return success();
}

LogicalResult Conv2DTransposeOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                                SmallVectorImpl<Value> &adjoints) {
  Location loc = getLoc();
  adjoints.assign(getBias() ? 3 : 2, Value());
  auto y = cast<RankedTensorType>(dy.getType());
  if (needed[0]) // dx: dy through the convolution this one is the adjoint of
    adjoints[0] = b.create<Conv2DOp>(loc, getInput().getType(), dy, getFilter(), Value(),
                                     getStrideAttr(), getPaddingAttr());
  if (needed[1]) // dW[c, o]: dy (the convolution's input) correlated with x
    adjoints[1] = b.create<Conv2DFilterGradOp>(loc, getFilter().getType(), dy, getInput(),
                                               getStrideAttr(), getPaddingAttr());
  if (getBias() && needed[2])
    adjoints[2] = b.create<ChannelSumOp>(
        loc, RankedTensorType::get({y.getDimSize(1)}, y.getElementType()), dy);
  return success();
}

LogicalResult ReshapeOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &adjoints) {
  return unaryRule(needed, adjoints, [&] {
    return b.create<ReshapeOp>(getLoc(), getInput().getType(), dy).getResult();
  });
}

LogicalResult ReluOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &adjoints) {
  return activationRule<ReluGradOp>(b, *this, getInput(), dy, needed, adjoints);
}

LogicalResult TanhOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &adjoints) {
  return activationRule<TanhGradOp>(b, *this, getResult(), dy, needed, adjoints);
}

LogicalResult SigmoidOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &adjoints) {
  return activationRule<SigmoidGradOp>(b, *this, getResult(), dy, needed, adjoints);
}

LogicalResult SoftplusOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                         SmallVectorImpl<Value> &adjoints) {
  return activationRule<SoftplusGradOp>(b, *this, getInput(), dy, needed, adjoints);
}

LogicalResult ExpOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  return unaryRule(needed, adjoints, [&] {
    return b.create<MulOp>(getLoc(), dy, getResult()).getResult(); // exp(x) dx
  });
}

LogicalResult LogOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  return unaryRule(needed, adjoints,
                   [&] { return b.create<DivOp>(getLoc(), dy, getInput()).getResult(); });
}

LogicalResult NegOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  return unaryRule(needed, adjoints, [&] { return b.create<NegOp>(getLoc(), dy).getResult(); });
}

LogicalResult LeakyReluOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                          SmallVectorImpl<Value> &adjoints) {
  return unaryRule(needed, adjoints, [&] {
    return b.create<LeakyReluGradOp>(getLoc(), getInput(), dy, getAlphaAttr()).getResult();
  });
}

LogicalResult EluOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  return unaryRule(needed, adjoints, [&] {
    return b.create<EluGradOp>(getLoc(), getInput(), dy, getAlphaAttr()).getResult();
  });
}

LogicalResult AddOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  adjoints.assign(2, Value());
  if (needed[0])
    adjoints[0] = dy;
  if (needed[1])
    adjoints[1] = dy;
  return success();
}

LogicalResult SubOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  adjoints.assign(2, Value());
  if (needed[0])
    adjoints[0] = dy;
  if (needed[1])
    adjoints[1] = b.create<NegOp>(getLoc(), dy);
  return success();
}

/// min and max: the lhs's adjoint where the lhs is taken (`select_grad` of
/// `taken` over `other`: a tie goes to the lhs), the rhs's elsewhere
/// (`dy - dlhs`).
static void minMaxRule(OpBuilder &b, Location loc, Value taken, Value other, Value dy,
                       ArrayRef<bool> needed, SmallVectorImpl<Value> &adjoints) {
  adjoints.assign(2, Value());
  Value toLhs = b.create<SelectGradOp>(loc, taken, other, dy);
  if (needed[0])
    adjoints[0] = toLhs;
  if (needed[1])
    adjoints[1] = b.create<SubOp>(loc, dy, toLhs);
}

LogicalResult MaxOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  minMaxRule(b, getLoc(), getLhs(), getRhs(), dy, needed, adjoints); // lhs >= rhs
  return success();
}

LogicalResult MinOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  minMaxRule(b, getLoc(), getRhs(), getLhs(), dy, needed, adjoints); // rhs >= lhs
  return success();
}

LogicalResult MulOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  adjoints.assign(2, Value());
  if (needed[0])
    adjoints[0] = b.create<MulOp>(getLoc(), dy, getRhs());
  if (needed[1])
    adjoints[1] = b.create<MulOp>(getLoc(), dy, getLhs());
  return success();
}

LogicalResult DivOp::buildGradients(OpBuilder &b, Value dy, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &adjoints) {
  Location loc = getLoc();
  adjoints.assign(2, Value());
  if (needed[0]) // d(a/b)/da = 1/b
    adjoints[0] = b.create<DivOp>(loc, dy, getRhs());
  if (needed[1]) // d(a/b)/db = -(a/b)/b
    adjoints[1] =
        b.create<NegOp>(loc, b.create<DivOp>(loc, b.create<MulOp>(loc, dy, getResult()), getRhs()));
  return success();
}

LogicalResult ConstantOp::buildGradients(OpBuilder &, Value, ArrayRef<bool>,
                                         SmallVectorImpl<Value> &adjoints) {
  adjoints.clear();
  return success();
}

LogicalResult ReparameterizeOp::buildGradients(OpBuilder &b, Value dz, ArrayRef<bool> needed,
                                               SmallVectorImpl<Value> &adjoints) {
  Location loc = getLoc();
  Type type = getType();
  adjoints.assign(3, Value());
  if (needed[0]) // z = mu + sigma * eps
    adjoints[0] = dz;
  if (needed[1]) // dz/dlogvar = 0.5 * sigma * eps = 0.5 * (z - mu)
    adjoints[1] =
        b.create<MulOp>(loc, b.create<MulOp>(loc, dz, b.create<SubOp>(loc, getResult(), getMu())),
                        splat(b, loc, type, 0.5));
  if (needed[2]) // dz/deps = sigma = exp(0.5 * logvar)
    adjoints[2] = b.create<MulOp>(
        loc, dz, b.create<ExpOp>(loc, b.create<MulOp>(loc, getLogvar(), splat(b, loc, type, 0.5))));
  return success();
}

LogicalResult KLNormalOp::buildGradients(OpBuilder &b, Value g, ArrayRef<bool> needed,
                                         SmallVectorImpl<Value> &adjoints) {
  adjoints.assign(2, Value());
  if (!needed[0] && !needed[1])
    return success();
  auto grad = b.create<KLNormalGradOp>(getLoc(), getMu().getType(), getMu().getType(), getMu(),
                                       getLogvar(), g, getPriorMeanAttr(), getPriorStdAttr());
  if (needed[0])
    adjoints[0] = grad.getMuAdjoint();
  if (needed[1])
    adjoints[1] = grad.getLogvarAdjoint();
  return success();
}

LogicalResult BernoulliLogProbOp::buildGradients(OpBuilder &b, Value g, ArrayRef<bool> needed,
                                                 SmallVectorImpl<Value> &adjoints) {
  if (failed(unsupported(*this, needed, {1})))
    return failure();
  adjoints.assign(2, Value());
  if (needed[0])
    adjoints[0] = b.create<BernoulliLogProbGradOp>(getLoc(), getLogits().getType(), getLogits(),
                                                   getTarget(), g);
  return success();
}

/// The adjoints of a likelihood's two parameters (operands 0 and 1; the
/// target, operand 2, has none) from its gradient op, built with `attrs`
/// after (params..., target, g).
template <typename GradOp, typename... Attrs>
LogicalResult twoParameterLikelihood(Operation *op, OpBuilder &b, Value g, ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &adjoints, Attrs... attrs) {
  if (failed(unsupported(op, needed, {2})))
    return failure();
  adjoints.assign(3, Value());
  if (!needed[0] && !needed[1])
    return success();
  Type type = op->getOperand(0).getType();
  auto grad = b.create<GradOp>(op->getLoc(), type, type, op->getOperand(0), op->getOperand(1),
                               op->getOperand(2), g, attrs...);
  for (unsigned i = 0; i < 2; ++i)
    if (needed[i])
      adjoints[i] = grad->getResult(i);
  return success();
}

LogicalResult GaussianLogProbOp::buildGradients(OpBuilder &b, Value g, ArrayRef<bool> needed,
                                                SmallVectorImpl<Value> &adjoints) {
  return twoParameterLikelihood<GaussianLogProbGradOp>(*this, b, g, needed, adjoints);
}

LogicalResult DiscretizedLogisticLogProbOp::buildGradients(OpBuilder &b, Value g,
                                                           ArrayRef<bool> needed,
                                                           SmallVectorImpl<Value> &adjoints) {
  return twoParameterLikelihood<DiscretizedLogisticLogProbGradOp>(*this, b, g, needed, adjoints,
                                                                  getBinsAttr());
}

LogicalResult GaussianFixedLogProbOp::buildGradients(OpBuilder &b, Value g, ArrayRef<bool> needed,
                                                     SmallVectorImpl<Value> &adjoints) {
  if (failed(unsupported(*this, needed, {1})))
    return failure();
  adjoints.assign(2, Value());
  if (needed[0])
    adjoints[0] = b.create<GaussianFixedLogProbGradOp>(getLoc(), getMean().getType(), getMean(),
                                                       getTarget(), g, getSigmaAttr());
  return success();
}

LogicalResult ReduceMeanOp::buildGradients(OpBuilder &b, Value ds, ArrayRef<bool> needed,
                                           SmallVectorImpl<Value> &adjoints) {
  adjoints.assign(1, Value());
  if (needed[0]) {
    auto type = getInput().getType();
    adjoints[0] = b.create<BroadcastOp>(getLoc(), type, ds,
                                        b.getF32FloatAttr(1.0f / float(type.getNumElements())));
  }
  return success();
}

LogicalResult ReduceSumOp::buildGradients(OpBuilder &b, Value ds, ArrayRef<bool> needed,
                                          SmallVectorImpl<Value> &adjoints) {
  adjoints.assign(1, Value());
  if (needed[0])
    adjoints[0] =
        b.create<BroadcastOp>(getLoc(), getInput().getType(), ds, b.getF32FloatAttr(1.0f));
  return success();
}

LogicalResult ElboOp::buildGradients(OpBuilder &b, Value dl, ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &adjoints) {
  // loss = beta * kl - log_likelihood
  Location loc = getLoc();
  adjoints.assign(3, Value());
  if (needed[0])
    adjoints[0] = b.create<NegOp>(loc, dl);
  if (needed[1])
    adjoints[1] = b.create<MulOp>(loc, dl, getBeta());
  if (needed[2])
    adjoints[2] = b.create<MulOp>(loc, dl, getKl());
  return success();
}
