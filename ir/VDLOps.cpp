//===- VDLOps.cpp - vdl op verifiers and shape inference ------------------===//
//
// Shape rules of the vdl ops. Builders without a result type call the
// `infer*Type` helpers; verifiers check the same rules on parsed IR and name
// the offending dimension.
//
//===----------------------------------------------------------------------===//

#include "ir/VDLDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace vaec::vdl;

namespace {

RankedTensorType f32Tensor(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, Float32Type::get(ctx));
}

RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// `[batch, ...] -> [batch]`: the type of a per-example reduction.
RankedTensorType perExampleType(Value value) {
  return f32Tensor(value.getContext(), {tensorTypeOf(value).getDimSize(0)});
}

/// Checks the shared rule of every per-example op: operands of one shape with
/// a batch dimension, result `[batch]`.
LogicalResult verifyPerExample(Operation *op, ValueRange operands,
                               Type result, StringRef what = "result") {
  auto first = tensorTypeOf(operands.front());
  if (first.getRank() < 1)
    return op->emitOpError("expects operands with a batch dimension, got ")
           << first;
  for (Value operand : operands.drop_front())
    if (operand.getType() != first)
      return op->emitOpError("expects operands of one type, got ")
             << first << " and " << operand.getType();
  auto expected = perExampleType(operands.front());
  if (result != expected)
    return op->emitOpError() << what << " must be " << expected
                             << " (one value per example), got " << result;
  return success();
}

} // namespace

#define GET_OP_CLASSES
#include "ir/VDLOps.cpp.inc"

//===----------------------------------------------------------------------===//
// DenseOp
//===----------------------------------------------------------------------===//

void DenseOp::build(OpBuilder &builder, OperationState &state, Value input,
                    Value weight, Value bias) {
  auto type = f32Tensor(builder.getContext(),
                        {tensorTypeOf(input).getDimSize(0),
                         tensorTypeOf(weight).getDimSize(1)});
  build(builder, state, type, input, weight, bias);
}

LogicalResult ReshapeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (input.getRank() < 2 || result.getRank() < 2)
    return emitOpError("reshapes batches of examples: operand and result need a batch "
                       "dimension and at least one more, got ")
           << input << " and " << result;
  if (input.getDimSize(0) != result.getDimSize(0))
    return emitOpError("keeps the batch dimension: ")
           << input.getDimSize(0) << " in, " << result.getDimSize(0) << " out";
  if (input.getNumElements() != result.getNumElements())
    return emitOpError("keeps the number of elements: ")
           << input << " has " << input.getNumElements() << ", " << result << " has "
           << result.getNumElements();
  return success();
}

LogicalResult DenseOp::verify() {
  auto input = getInput().getType(), weight = getWeight().getType(),
       bias = getBias().getType(), result = getResult().getType();
  if (input.getRank() != 2)
    return emitOpError("input must be rank 2 [batch, in], got ") << input;
  if (weight.getRank() != 2)
    return emitOpError("weight must be rank 2 [in, out], got ") << weight;
  if (bias.getRank() != 1)
    return emitOpError("bias must be rank 1 [out], got ") << bias;
  if (input.getDimSize(1) != weight.getDimSize(0))
    return emitOpError("input has ")
           << input.getDimSize(1) << " features but weight expects "
           << weight.getDimSize(0);
  if (bias.getDimSize(0) != weight.getDimSize(1))
    return emitOpError("bias has ")
           << bias.getDimSize(0) << " elements but weight has "
           << weight.getDimSize(1) << " outputs";
  auto expected = f32Tensor(getContext(), {input.getDimSize(0),
                                           weight.getDimSize(1)});
  if (cast<RankedTensorType>(result) != expected)
    return emitOpError("result must be ") << expected << ", got " << result;
  return success();
}

//===----------------------------------------------------------------------===//
// Probabilistic ops
//===----------------------------------------------------------------------===//

LogicalResult ReparameterizeOp::verify() {
  if (getMu().getType().getRank() != 2)
    return emitOpError("expects [batch, latent] operands, got ")
           << getMu().getType();
  return success();
}

void KLNormalOp::build(OpBuilder &builder, OperationState &state, Value mu,
                       Value logvar, float priorMean, float priorStd) {
  build(builder, state, perExampleType(mu), mu, logvar,
        builder.getF32FloatAttr(priorMean), builder.getF32FloatAttr(priorStd));
}

LogicalResult KLNormalOp::verify() {
  if (getMu().getType().getRank() != 2)
    return emitOpError("expects [batch, latent] operands, got ")
           << getMu().getType();
  if (!(getPriorStd().convertToFloat() > 0.0f))
    return emitOpError("prior standard deviation must be positive, got ")
           << getPriorStd().convertToFloat();
  return verifyPerExample(*this, {getMu(), getLogvar()}, getType());
}

void BernoulliLogProbOp::build(OpBuilder &builder, OperationState &state,
                               Value logits, Value target) {
  build(builder, state, perExampleType(logits), logits, target);
}

LogicalResult BernoulliLogProbOp::verify() {
  return verifyPerExample(*this, {getLogits(), getTarget()}, getType());
}

void GaussianLogProbOp::build(OpBuilder &builder, OperationState &state,
                              Value mean, Value logvar, Value target) {
  build(builder, state, perExampleType(mean), mean, logvar, target);
}

LogicalResult GaussianLogProbOp::verify() {
  return verifyPerExample(*this, {getMean(), getLogvar(), getTarget()},
                          getType());
}

void GaussianFixedLogProbOp::build(OpBuilder &builder, OperationState &state,
                                   Value mean, Value target, float sigma) {
  build(builder, state, perExampleType(mean), mean, target,
        builder.getF32FloatAttr(sigma));
}

LogicalResult GaussianFixedLogProbOp::verify() {
  if (!(getSigma().convertToFloat() > 0.0f))
    return emitOpError("sigma must be positive, got ")
           << getSigma().convertToFloat();
  return verifyPerExample(*this, {getMean(), getTarget()}, getType());
}

//===----------------------------------------------------------------------===//
// Reductions and the loss
//===----------------------------------------------------------------------===//

void ReduceMeanOp::build(OpBuilder &builder, OperationState &state,
                         Value input) {
  build(builder, state, f32Tensor(builder.getContext(), {}), input);
}

void ReduceSumOp::build(OpBuilder &builder, OperationState &state,
                        Value input) {
  build(builder, state, f32Tensor(builder.getContext(), {}), input);
}


//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

/// The [rows, cols] of `type`, swapped when `transpose`.
static std::pair<int64_t, int64_t> matrixDims(RankedTensorType type,
                                              bool transpose) {
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  return transpose ? std::make_pair(cols, rows) : std::make_pair(rows, cols);
}

void MatmulOp::build(OpBuilder &builder, OperationState &state, Value lhs,
                     Value rhs, bool transposeLhs, bool transposeRhs) {
  int64_t m = matrixDims(tensorTypeOf(lhs), transposeLhs).first;
  int64_t n = matrixDims(tensorTypeOf(rhs), transposeRhs).second;
  build(builder, state, f32Tensor(builder.getContext(), {m, n}), lhs, rhs,
        transposeLhs, transposeRhs);
}

LogicalResult MatmulOp::verify() {
  auto lhs = getLhs().getType(), rhs = getRhs().getType();
  if (lhs.getRank() != 2 || rhs.getRank() != 2)
    return emitOpError("operands must be rank 2, got ") << lhs << " and " << rhs;
  auto [m, k] = matrixDims(lhs, getTransposeLhs());
  auto [k2, n] = matrixDims(rhs, getTransposeRhs());
  if (k != k2)
    return emitOpError("contracts ") << k << " with " << k2 << " elements";
  auto expected = f32Tensor(getContext(), {m, n});
  if (getType() != expected)
    return emitOpError("result must be ") << expected << ", got " << getType();
  return success();
}

void ReduceRowsOp::build(OpBuilder &builder, OperationState &state,
                         Value input) {
  build(builder, state,
        f32Tensor(builder.getContext(), tensorTypeOf(input).getShape().drop_front()),
        input);
}

LogicalResult ReduceRowsOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() < 1)
    return emitOpError("needs a batch dimension");
  auto expected = f32Tensor(getContext(), input.getShape().drop_front());
  if (getType() != expected)
    return emitOpError("result must be ") << expected << ", got " << getType();
  return success();
}

LogicalResult KLNormalGradOp::verify() {
  return verifyPerExample(*this, {getMu(), getLogvar()}, getAdjoint().getType(), "adjoint");
}

LogicalResult BernoulliLogProbGradOp::verify() {
  return verifyPerExample(*this, {getLogits(), getTarget()},
                          getAdjoint().getType(), "adjoint");
}

LogicalResult GaussianLogProbGradOp::verify() {
  return verifyPerExample(*this, {getMean(), getLogvar(), getTarget()},
                          getAdjoint().getType(), "adjoint");
}

LogicalResult GaussianFixedLogProbGradOp::verify() {
  return verifyPerExample(*this, {getMean(), getTarget()},
                          getAdjoint().getType(), "adjoint");
}
