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

RankedTensorType tensorTypeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// `[batch, ...] -> [batch]`: the type of a per-example reduction.
RankedTensorType perExampleType(Value value) {
  return f32Tensor(value.getContext(), {tensorTypeOf(value).getDimSize(0)});
}

/// Checks the shared rule of every per-example op: operands of one shape with
/// a batch dimension, result `[batch]`.
LogicalResult verifyPerExample(Operation *op, ValueRange operands, Type result,
                               StringRef what = "result") {
  auto first = tensorTypeOf(operands.front());
  if (first.getRank() < 1)
    return op->emitOpError("expects operands with a batch dimension, got ") << first;
  for (Value operand : operands.drop_front())
    if (operand.getType() != first)
      return op->emitOpError("expects operands of one type, got ")
             << first << " and " << operand.getType();
  auto expected = perExampleType(operands.front());
  if (result != expected)
    return op->emitOpError() << what << " must be " << expected << " (one value per example), got "
                             << result;
  return success();
}

} // namespace

#define GET_OP_CLASSES
#include "ir/VDLOps.cpp.inc"

//===----------------------------------------------------------------------===//
// DenseOp
//===----------------------------------------------------------------------===//

void DenseOp::build(OpBuilder &builder, OperationState &state, Value input, Value weight,
                    Value bias) {
  auto type = f32Tensor(builder.getContext(),
                        {tensorTypeOf(input).getDimSize(0), tensorTypeOf(weight).getDimSize(1)});
  build(builder, state, type, input, weight, bias);
}

//===----------------------------------------------------------------------===//
// Convolutions: NCHW images, square kernels.
//===----------------------------------------------------------------------===//

namespace {

/// The spatial size of a convolution of `size` pixels, and of a transposed one.
int64_t convolvedSize(int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
  return (size + 2 * padding - kernel) / stride + 1;
}
int64_t transposedSize(int64_t size, int64_t kernel, int64_t stride, int64_t padding,
                       int64_t outputPadding) {
  return (size - 1) * stride - 2 * padding + kernel + outputPadding;
}

/// Rank-4 `value` ([batch, channels, height, width] or a filter).
LogicalResult checkRank4(Operation *op, Value value, StringRef what, StringRef layout) {
  auto type = tensorTypeOf(value);
  if (type.getRank() != 4)
    return op->emitOpError() << what << " must be rank 4 " << layout << ", got " << type;
  return success();
}

LogicalResult checkStridePadding(Operation *op, int64_t stride, int64_t padding) {
  if (stride < 1)
    return op->emitOpError("stride must be at least 1, got ") << stride;
  if (padding < 0)
    return op->emitOpError("padding must not be negative, got ") << padding;
  return success();
}

/// The filter is [first, second, k, k]; the bias, if any, [out]; the
/// result [batch, out, height, width].
LogicalResult checkConvolution(Operation *op, Value input, Value filter, Value bias,
                               int64_t inChannelsDim, int64_t outChannelsDim,
                               ArrayRef<int64_t> resultSize, Type result) {
  auto x = tensorTypeOf(input), w = tensorTypeOf(filter);
  if (w.getDimSize(2) != w.getDimSize(3))
    return op->emitOpError("takes square kernels, got a filter of ") << w;
  if (w.getDimSize(inChannelsDim) != x.getDimSize(1))
    return op->emitOpError("channels do not match: the input ")
           << x << " has " << x.getDimSize(1) << ", the filter " << w << " takes "
           << w.getDimSize(inChannelsDim);
  int64_t outChannels = w.getDimSize(outChannelsDim);
  if (bias && tensorTypeOf(bias).getShape() != ArrayRef<int64_t>{outChannels})
    return op->emitOpError("bias must be [") << outChannels << "], got " << bias.getType();
  auto expected =
      f32Tensor(op->getContext(), {x.getDimSize(0), outChannels, resultSize[0], resultSize[1]});
  if (result != expected)
    return op->emitOpError("result must be ") << expected << ", got " << result;
  return success();
}

} // namespace

LogicalResult Conv2DOp::verify() {
  if (failed(checkRank4(*this, getInput(), "input", "[batch, channels, height, width]")) ||
      failed(checkRank4(*this, getFilter(), "filter", "[out, in, k, k]")) ||
      failed(checkStridePadding(*this, getStride(), getPadding())))
    return failure();
  auto x = tensorTypeOf(getInput());
  int64_t kernel = tensorTypeOf(getFilter()).getDimSize(2);
  for (int64_t d : {2, 3})
    if (kernel > x.getDimSize(d) + 2 * getPadding())
      return emitOpError("kernel ") << kernel << " is larger than the padded input " << x
                                    << " (padding " << getPadding() << ")";
  int64_t size[2] = {convolvedSize(x.getDimSize(2), kernel, getStride(), getPadding()),
                     convolvedSize(x.getDimSize(3), kernel, getStride(), getPadding())};
  return checkConvolution(*this, getInput(), getFilter(), getBias(), 1, 0, size, getType());
}

LogicalResult Conv2DTransposeOp::verify() {
  if (failed(checkRank4(*this, getInput(), "input", "[batch, channels, height, width]")) ||
      failed(checkRank4(*this, getFilter(), "filter", "[in, out, k, k]")) ||
      failed(checkStridePadding(*this, getStride(), getPadding())))
    return failure();
  if (getOutputPadding() < 0 || getOutputPadding() >= getStride())
    return emitOpError("output_padding must be in [0, stride = ")
           << getStride() << "), got " << getOutputPadding();
  auto x = tensorTypeOf(getInput());
  int64_t kernel = tensorTypeOf(getFilter()).getDimSize(2);
  int64_t size[2];
  for (int d = 0; d < 2; ++d) {
    size[d] =
        transposedSize(x.getDimSize(2 + d), kernel, getStride(), getPadding(), getOutputPadding());
    if (size[d] < 1)
      return emitOpError("makes an empty image: ") << x << " to size " << size[d];
  }
  return checkConvolution(*this, getInput(), getFilter(), getBias(), 0, 1, size, getType());
}

LogicalResult Conv2DFilterGradOp::verify() {
  if (failed(checkRank4(*this, getInput(), "input", "[batch, channels, height, width]")) ||
      failed(
          checkRank4(*this, getOutputGrad(), "output_grad", "[batch, channels, height, width]")) ||
      failed(checkRank4(*this, getResult(), "result", "[out, in, k, k]")) ||
      failed(checkStridePadding(*this, getStride(), getPadding())))
    return failure();
  auto x = tensorTypeOf(getInput()), dy = tensorTypeOf(getOutputGrad());
  auto w = getType();
  int64_t kernel = w.getDimSize(2);
  if (w.getDimSize(3) != kernel || w.getDimSize(0) != dy.getDimSize(1) ||
      w.getDimSize(1) != x.getDimSize(1) || x.getDimSize(0) != dy.getDimSize(0))
    return emitOpError("result must be [output_grad channels, input channels, k, k] = [")
           << dy.getDimSize(1) << ", " << x.getDimSize(1) << ", k, k], got " << w;
  for (int64_t d : {2, 3})
    if (kernel > x.getDimSize(d) + 2 * getPadding() ||
        convolvedSize(x.getDimSize(d), kernel, getStride(), getPadding()) != dy.getDimSize(d))
      return emitOpError("output_grad ")
             << dy << " is not the size of a convolution of " << x << " with kernel " << kernel
             << ", stride " << getStride() << ", padding " << getPadding();
  return success();
}

LogicalResult ChannelSumOp::verify() {
  if (failed(checkRank4(*this, getInput(), "input", "[batch, channels, height, width]")))
    return failure();
  int64_t channels = tensorTypeOf(getInput()).getDimSize(1);
  if (getType().getShape() != ArrayRef<int64_t>{channels})
    return emitOpError("result must be [") << channels << "], got " << getType();
  return success();
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
  auto input = getInput().getType(), weight = getWeight().getType(), bias = getBias().getType(),
       result = getResult().getType();
  if (input.getRank() != 2)
    return emitOpError("input must be rank 2 [batch, in], got ") << input;
  if (weight.getRank() != 2)
    return emitOpError("weight must be rank 2 [in, out], got ") << weight;
  if (bias.getRank() != 1)
    return emitOpError("bias must be rank 1 [out], got ") << bias;
  if (input.getDimSize(1) != weight.getDimSize(0))
    return emitOpError("input has ")
           << input.getDimSize(1) << " features but weight expects " << weight.getDimSize(0);
  if (bias.getDimSize(0) != weight.getDimSize(1))
    return emitOpError("bias has ") << bias.getDimSize(0) << " elements but weight has "
                                    << weight.getDimSize(1) << " outputs";
  auto expected = f32Tensor(getContext(), {input.getDimSize(0), weight.getDimSize(1)});
  if (cast<RankedTensorType>(result) != expected)
    return emitOpError("result must be ") << expected << ", got " << result;
  return success();
}

//===----------------------------------------------------------------------===//
// Probabilistic ops
//===----------------------------------------------------------------------===//

LogicalResult ReparameterizeOp::verify() {
  if (getMu().getType().getRank() != 2)
    return emitOpError("expects [batch, latent] operands, got ") << getMu().getType();
  return success();
}

void KLNormalOp::build(OpBuilder &builder, OperationState &state, Value mu, Value logvar,
                       float priorMean, float priorStd) {
  build(builder, state, perExampleType(mu), mu, logvar, builder.getF32FloatAttr(priorMean),
        builder.getF32FloatAttr(priorStd));
}

LogicalResult KLNormalOp::verify() {
  if (getMu().getType().getRank() != 2)
    return emitOpError("expects [batch, latent] operands, got ") << getMu().getType();
  if (!(getPriorStd().convertToFloat() > 0.0f))
    return emitOpError("prior standard deviation must be positive, got ")
           << getPriorStd().convertToFloat();
  return verifyPerExample(*this, {getMu(), getLogvar()}, getType());
}

void BernoulliLogProbOp::build(OpBuilder &builder, OperationState &state, Value logits,
                               Value target) {
  build(builder, state, perExampleType(logits), logits, target);
}

LogicalResult BernoulliLogProbOp::verify() {
  return verifyPerExample(*this, {getLogits(), getTarget()}, getType());
}

void GaussianLogProbOp::build(OpBuilder &builder, OperationState &state, Value mean, Value logvar,
                              Value target) {
  build(builder, state, perExampleType(mean), mean, logvar, target);
}

LogicalResult GaussianLogProbOp::verify() {
  return verifyPerExample(*this, {getMean(), getLogvar(), getTarget()}, getType());
}

void GaussianFixedLogProbOp::build(OpBuilder &builder, OperationState &state, Value mean,
                                   Value target, float sigma) {
  build(builder, state, perExampleType(mean), mean, target, builder.getF32FloatAttr(sigma));
}

LogicalResult GaussianFixedLogProbOp::verify() {
  if (!(getSigma().convertToFloat() > 0.0f))
    return emitOpError("sigma must be positive, got ") << getSigma().convertToFloat();
  return verifyPerExample(*this, {getMean(), getTarget()}, getType());
}

void DiscretizedLogisticLogProbOp::build(OpBuilder &builder, OperationState &state, Value mean,
                                         Value logScale, Value target, int64_t bins) {
  build(builder, state, perExampleType(mean), mean, logScale, target,
        builder.getI64IntegerAttr(bins));
}

/// Bins a discretized likelihood may have: 2 to 256 (runtime symbols are
/// bytes).
static LogicalResult verifyBins(Operation *op, int64_t bins) {
  if (bins < 2 || bins > 256)
    return op->emitOpError("bins must be 2 to 256, got ") << bins;
  return success();
}

LogicalResult DiscretizedLogisticLogProbOp::verify() {
  if (failed(verifyBins(*this, getBins())))
    return failure();
  return verifyPerExample(*this, {getMean(), getLogScale(), getTarget()}, getType());
}

//===----------------------------------------------------------------------===//
// Reductions and the loss
//===----------------------------------------------------------------------===//

void ReduceMeanOp::build(OpBuilder &builder, OperationState &state, Value input) {
  build(builder, state, f32Tensor(builder.getContext(), {}), input);
}

void ReduceSumOp::build(OpBuilder &builder, OperationState &state, Value input) {
  build(builder, state, f32Tensor(builder.getContext(), {}), input);
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

/// The [rows, cols] of `type`, swapped when `transpose`.
static std::pair<int64_t, int64_t> matrixDims(RankedTensorType type, bool transpose) {
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  return transpose ? std::make_pair(cols, rows) : std::make_pair(rows, cols);
}

void MatmulOp::build(OpBuilder &builder, OperationState &state, Value lhs, Value rhs,
                     bool transposeLhs, bool transposeRhs) {
  int64_t m = matrixDims(tensorTypeOf(lhs), transposeLhs).first;
  int64_t n = matrixDims(tensorTypeOf(rhs), transposeRhs).second;
  build(builder, state, f32Tensor(builder.getContext(), {m, n}), lhs, rhs, transposeLhs,
        transposeRhs);
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

void ReduceRowsOp::build(OpBuilder &builder, OperationState &state, Value input) {
  build(builder, state,
        f32Tensor(builder.getContext(), tensorTypeOf(input).getShape().drop_front()), input);
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
  return verifyPerExample(*this, {getLogits(), getTarget()}, getAdjoint().getType(), "adjoint");
}

LogicalResult GaussianLogProbGradOp::verify() {
  return verifyPerExample(*this, {getMean(), getLogvar(), getTarget()}, getAdjoint().getType(),
                          "adjoint");
}

LogicalResult DiscretizedLogisticLogProbGradOp::verify() {
  if (failed(verifyBins(*this, getBins())))
    return failure();
  return verifyPerExample(*this, {getMean(), getLogScale(), getTarget()}, getAdjoint().getType(),
                          "adjoint");
}

LogicalResult GaussianFixedLogProbGradOp::verify() {
  return verifyPerExample(*this, {getMean(), getTarget()}, getAdjoint().getType(), "adjoint");
}
