//===- Convolution.cpp - conv2d, conv2d_transpose, gradients --------------===//
//
// conv2d, conv2d_transpose, the filter gradient and the bias gradient, each
// as a direct convolution or as gathers and GEMMs (the conv-algorithm option;
// the choice per shape is directConvolution's).
//
//===----------------------------------------------------------------------===//

#include "codegen/common/TargetDescription.h"

#include "codegen/vdl-to-linalg/Builders.h"
#include "codegen/vdl-to-linalg/PopulatePatterns.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace vaec::vdl;
using namespace vaec::vdl_to_linalg;

namespace {

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
  auto type =
      RankedTensorType::get({w.channels, taps, batch, w.positions()}, imageType.getElementType());
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
  auto nhwfType = RankedTensorType::get({batch, w.outHeight, w.outWidth, outChannels}, f32Type);
  Value out =
      convNhwcHwcf(b, loc, padded, hwcf, channelsLastInit(b, loc, bias, nhwfType), w.stride);
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
            .create<tensor::ExtractOp>(
                nl, filter, ValueRange{at[2], at[3], row(at[0], py, qy), row(at[1], px, qx)})
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
///
/// auto also keeps kernels wider than kMaxDirectKernel on im2col: the direct
/// filter gradient copies its columns tap by tap and a transposed
/// convolution gathers its sub-filters tap by tap, k² slices that one-shot
/// bufferization's analysis takes quadratic time over (a one-layer model
/// with an 11 x 11 kernel and 16 filters: 9.7 s to compile, 7.3 s of it in
/// bufferization, on a Zen 4; 15 x 15 over two minutes on a Zen 3), where
/// im2col is one gather whatever k.
constexpr int64_t kMaxDirectKernel = 7;

/// Whether a convolution is computed directly, and why (vaec --remarks).
struct ConvChoice {
  bool direct;
  std::string why;
};

ConvChoice chooseConvolution(StringRef algorithm, Operation *op, int64_t inChannels,
                             int64_t outChannels, int64_t kernel) {
  if (algorithm != "auto")
    return {algorithm == "direct", ("--conv=" + algorithm).str()};
  int64_t lanes = vaec::targetOf(op).getLanes();
  if (outChannels < lanes)
    return {false, llvm::formatv("{0} output channels do not fill a vector of {1} lanes",
                                 outChannels, lanes)};
  if (inChannels == 1)
    return {false, "one input channel: a load and a store of the accumulators per 3 FMAs"};
  if (kernel > kMaxDirectKernel)
    return {false, llvm::formatv("a {0} x {0} kernel: wider than {1}, the direct lowering's "
                                 "k² slices would slow bufferization",
                                 kernel, kMaxDirectKernel)};
  return {true, llvm::formatv("{0} output channels fill vectors of {1} lanes", outChannels, lanes)};
}

/// The choice for `op`, said as a remark at its VDL line when asked for.
bool directConvolution(StringRef algorithm, Operation *op, int64_t inChannels, int64_t outChannels,
                       int64_t kernel) {
  ConvChoice choice = chooseConvolution(algorithm, op, inChannels, outChannels, kernel);
  if (VDLDialect::remarksWanted(op)) {
    std::string what =
        isa<Conv2DFilterGradOp>(op)
            ? "the filter gradient of a convolution"
            : llvm::formatv("{0} {1} -> {2} channels, kernel {3}", op->getName().stripDialect(),
                            inChannels, outChannels, kernel)
                  .str();
    op->emitRemark() << what << ": "
                     << (choice.direct ? "direct, on channels-last (NHWC) copies" : "im2col + GEMM")
                     << " (" << choice.why << ")";
  }
  return choice.direct;
}

struct Conv2DLowering : OpConversionPattern<Conv2DOp> {
  Conv2DLowering(MLIRContext *ctx, StringRef algorithm)
      : OpConversionPattern(ctx), algorithm(algorithm.str()) {}

  LogicalResult matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto filterType = cast<RankedTensorType>(op.getFilter().getType());
    Window w(cast<RankedTensorType>(op.getInput().getType()), filterType.getDimSize(2),
             op.getStride(), op.getPadding());
    RankedTensorType result = op.getType();
    if (directConvolution(algorithm, op, w.channels, result.getDimSize(1), w.kernel)) {
      rewriter.replaceOp(op, directConv2D(rewriter, loc, adaptor.getInput(), adaptor.getFilter(),
                                          adaptor.getBias(), w, result));
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
Value directFilterGrad(OpBuilder &b, Location loc, Value input, Value outputGrad, const Window &w,
                       RankedTensorType result) {
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
          loc, pixels, cols, getAsIndexOpFoldResult(ctx, {0, 0, 0, i * w.kernel + j, 0}), tapSizes,
          SmallVector<OpFoldResult>(5, b.getIndexAttr(1)));
    }
  Value colsMatrix = b.create<tensor::CollapseShapeOp>(
      loc, cols, SmallVector<ReassociationIndices>{{0, 1, 2}, {3, 4}});
  Value dy = channelsLast(b, loc, outputGrad); // [B OH OW, O]
  auto gemmType = RankedTensorType::get({outChannels, taps * w.channels}, f32Type);
  Value dw = gemm(b, loc, dy, colsMatrix, zerosLike(b, loc, gemmType), /*transposeLhs=*/true);
  auto ohwcType = RankedTensorType::get({outChannels, w.kernel, w.kernel, w.channels}, f32Type);
  Value ohwc = b.create<tensor::ExpandShapeOp>(loc, ohwcType, dw,
                                               SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
  return b
      .create<linalg::TransposeOp>(loc, ohwc, emptyLike(b, loc, result),
                                   ArrayRef<int64_t>{0, 3, 1, 2})
      ->getResult(0);
}

struct Conv2DFilterGradLowering : OpConversionPattern<Conv2DFilterGradOp> {
  Conv2DFilterGradLowering(MLIRContext *ctx, StringRef algorithm)
      : OpConversionPattern(ctx), algorithm(algorithm.str()) {}

  LogicalResult matchAndRewrite(Conv2DFilterGradOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType result = op.getType(); // [O, C, k, k]
    Window w(cast<RankedTensorType>(op.getInput().getType()), result.getDimSize(2), op.getStride(),
             op.getPadding());
    if (directConvolution(algorithm, op, /*inChannels=*/0, result.getDimSize(0), w.kernel)) {
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

/// `phased` [B, O, s s, OH/s OW/s], a transposed convolution's output
/// phase by phase, as [B, O, OH OW] (with one phase, only a reshape).
Value interleavePhases(OpBuilder &b, Location loc, Value phased, int64_t s, int64_t phaseHeight,
                       int64_t phaseWidth) {
  auto phasedType = cast<RankedTensorType>(phased.getType());
  if (phasedType.getDimSize(2) == 1)
    return b.create<tensor::CollapseShapeOp>(loc, phased,
                                             SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  int64_t batch = phasedType.getDimSize(0), channels = phasedType.getDimSize(1);
  Type f32Type = phasedType.getElementType();
  // [B, O, s, s, OH/s, OW/s] -> [B, O, OH/s, s, OW/s, s] = [B, O, OH, OW].
  Value split = b.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get({batch, channels, s, s, phaseHeight, phaseWidth}, f32Type), phased,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}});
  auto interleavedType =
      RankedTensorType::get({batch, channels, phaseHeight, s, phaseWidth, s}, f32Type);
  Value interleaved = b.create<linalg::TransposeOp>(loc, split, emptyLike(b, loc, interleavedType),
                                                    ArrayRef<int64_t>{0, 1, 4, 2, 5, 3})
                          ->getResult(0);
  return b.create<tensor::CollapseShapeOp>(
      loc, interleaved, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3, 4, 5}});
}

/// Transposed convolutions with more landing taps per output than this sum
/// them in a reduction loop; fewer are unrolled in the gather's body (each
/// output vector then sums its taps in registers). Unrolled, a 30 x 30
/// kernel at stride 1 put 900 gathers in one body, which LLVM took most of
/// 9 s to compile.
constexpr int64_t kMaxUnrolledTaps = 16;

/// col2im's gather: phased[b, o, phase, pos] = bias[o] + the sum over the
/// `maxTaps` slots of the table rows of `phase` (-1: nothing lands) of
/// flatCols[o * channelStride + b * imagePixels + table entry].
Value gatherLandingTaps(OpBuilder &b, Location loc, Value flatCols, Value table, Value bias,
                        RankedTensorType phasedType, int64_t maxTaps, int64_t channelStride,
                        int64_t imagePixels) {
  bool unrolled = maxTaps <= kMaxUnrolledTaps;
  // Loops (b, o, phase, pos), or (b, o, phase, slot, pos): the slot a
  // reduction between the phase and the positions, which stay innermost for
  // contiguous table reads.
  unsigned loops = unrolled ? 4 : 5;
  SmallVector<unsigned> outDims =
      unrolled ? SmallVector<unsigned>{0, 1, 2, 3} : SmallVector<unsigned>{0, 1, 2, 4};
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(mapOf(b, loops, {1}));
  }
  if (!unrolled) { // the table as [phase, slot, pos], read by the loops
    auto tableType = cast<RankedTensorType>(table.getType());
    int64_t phases = tableType.getDimSize(0) / maxTaps;
    inputs.push_back(b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({phases, maxTaps, tableType.getDimSize(1)}, b.getI32Type()),
        table, SmallVector<ReassociationIndices>{{0, 1}, {2}}));
    maps.push_back(mapOf(b, loops, {2, 3, 4}));
  }
  maps.push_back(mapOf(b, loops, outDims));
  SmallVector<utils::IteratorType> iterators(loops, utils::IteratorType::parallel);
  if (!unrolled)
    iterators[3] = utils::IteratorType::reduction;
  Value init = unrolled ? emptyLike(b, loc, phasedType) : zerosLike(b, loc, phasedType);
  auto body = [&](OpBuilder &nb, Location l, ValueRange args) {
    IndexMath m{nb, l};
    Value n = nb.create<linalg::IndexOp>(l, 0), o = nb.create<linalg::IndexOp>(l, 1);
    Value phase = nb.create<linalg::IndexOp>(l, 2);
    Value pos = nb.create<linalg::IndexOp>(l, outDims[3]);
    Value base =
        nb.create<arith::AddIOp>(l, m.mul(o, channelStride), m.mul(n, imagePixels)).getResult();
    auto landed = [&](std::pair<Value, Value> offset) {
      auto [at, lands] = offset;
      Value term = nb.create<tensor::ExtractOp>(l, flatCols, ValueRange{at});
      return nb.create<arith::SelectOp>(l, lands, term, f32(nb, l, 0.0)).getResult();
    };
    Value sum;
    if (unrolled) {
      sum = bias ? args[0] : f32(nb, l, 0.0);
      for (int64_t slot = 0; slot < maxTaps; ++slot)
        sum = nb.create<arith::AddFOp>(
            l, sum,
            landed(tableOffset(nb, l, table, m.add(m.mul(phase, maxTaps), slot), pos, base)));
    } else {
      Value slot = nb.create<linalg::IndexOp>(l, 3);
      sum = nb.create<arith::AddFOp>(l, args.back(),
                                     landed(entryOffset(nb, l, args[bias ? 1 : 0], base)));
      if (bias) { // added once, with the first slot
        Value first = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, slot, m.constant(0));
        sum = nb.create<arith::AddFOp>(
            l, sum, nb.create<arith::SelectOp>(l, first, args[0], f32(nb, l, 0.0)));
      }
    }
    nb.create<linalg::YieldOp>(l, sum);
  };
  return b.create<linalg::GenericOp>(loc, phasedType, inputs, init, maps, iterators, body)
      .getResult(0);
}

struct Conv2DTransposeLowering : OpConversionPattern<Conv2DTransposeOp> {
  Conv2DTransposeLowering(MLIRContext *ctx, StringRef algorithm)
      : OpConversionPattern(ctx), algorithm(algorithm.str()) {}

  /// Whether this shape is computed as direct convolutions, one per output
  /// phase, rather than a GEMM into columns and col2im: where the stride
  /// divides the output and every phase has a tap.
  bool direct(Conv2DTransposeOp op) const {
    RankedTensorType result = op.getType();
    int64_t s = op.getStride(), k = cast<RankedTensorType>(op.getFilter().getType()).getDimSize(2);
    if (k < s || result.getDimSize(2) % s != 0 || result.getDimSize(3) % s != 0)
      return false;
    return directConvolution(algorithm, op,
                             cast<RankedTensorType>(op.getInput().getType()).getDimSize(1),
                             result.getDimSize(1), k);
  }

  LogicalResult matchAndRewrite(Conv2DTransposeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());   // [B, C, H, W]
    auto filterType = cast<RankedTensorType>(op.getFilter().getType()); // [C, O, k, k]
    RankedTensorType result = op.getType();                             // [B, O, OH, OW]
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
          if (phases == 1 ||
              (((phase / s + p - i) % s + s) % s == 0 && ((phase % s + p - j) % s + s) % s == 0))
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
            bool lands = dy >= 0 && dx >= 0 && dy % s == 0 && dx % s == 0 && dy / s < height &&
                         dx / s < width;
            entries.push_back(lands ? int32_t(t * images + dy / s * width + dx / s) : -1);
          }
    }
    Value table = i32Table(rewriter, loc, phases * maxTaps, phaseHeight * phaseWidth, entries);
    auto phasedType =
        RankedTensorType::get({batch, channels, phases, phaseHeight * phaseWidth}, f32Type);
    Value phased =
        gatherLandingTaps(rewriter, loc, flatten(rewriter, loc, cols), table, adaptor.getBias(),
                          phasedType, maxTaps, taps * images, height * width);
    Value out = interleavePhases(rewriter, loc, phased, s, phaseHeight, phaseWidth);
    rewriter.replaceOp(op, expandLast(rewriter, loc, out, result));
    return success();
  }

  std::string algorithm;
};

/// `result[c] = sum_{b, pos} input[b, c, pos]`, pixels flattened, in two
/// steps: partial[c, pos] = sum_b input[b, c, pos] with the channels as the
/// outer loop (independent: spread over threads) and the pixels innermost
/// (vectors added lane by lane), then result[c] = sum_pos partial[c, pos]
/// over the C x P partial sums. Summed in one loop nest, batch outermost, the
/// bias gradient ran on one thread and reduced every vector across its lanes
/// into a scalar chain: 3 % of conv_vae's training step on a Zen 4, with the
/// other thread idle beside it.
struct ChannelSumLowering : OpConversionPattern<ChannelSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ChannelSumOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = collapseFrom(rewriter, loc, adaptor.getInput(), 2);
    auto inputType = cast<RankedTensorType>(input.getType());
    auto partialType = RankedTensorType::get({inputType.getDimSize(1), inputType.getDimSize(2)},
                                             inputType.getElementType());
    auto add = [](OpBuilder &b, Location l, ValueRange args) {
      b.create<linalg::YieldOp>(l, b.create<arith::AddFOp>(l, args[1], args[0]).getResult());
    };
    using utils::IteratorType;
    // Loops (c, b, pos).
    auto partial = rewriter.create<linalg::GenericOp>(
        loc, partialType, input, zerosLike(rewriter, loc, partialType),
        ArrayRef<AffineMap>{mapOf(rewriter, 3, {1, 0, 2}), mapOf(rewriter, 3, {0, 2})},
        ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::reduction,
                               IteratorType::parallel},
        add);
    auto total = rewriter.create<linalg::GenericOp>(
        loc, op.getType(), partial.getResult(0), zerosLike(rewriter, loc, op.getType()),
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(2), mapOf(rewriter, 2, {0})},
        ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::reduction}, add);
    rewriter.replaceOp(op, total.getResults());
    return success();
  }
};

} // namespace

void vaec::vdl_to_linalg::populateConvolutionPatterns(RewritePatternSet &patterns,
                                                      StringRef convAlgorithm) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<Conv2DLowering, Conv2DTransposeLowering, Conv2DFilterGradLowering>(ctx,
                                                                                  convAlgorithm);
  patterns.add<ChannelSumLowering>(ctx);
}
