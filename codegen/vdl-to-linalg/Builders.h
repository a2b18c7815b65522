//===- Builders.h - IR builders of the vdl to linalg patterns ---*- C++ -*-===//
//
// The builders the op families' patterns share: constants, elementwise and
// reducing linalg.generic ops, and for convolutions the index arithmetic,
// window geometry, layout copies and GEMMs. Declared here, defined in
// Builders.cpp and ImageBuilders.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_CODEGEN_VDLTOLINALG_BUILDERS_H
#define VAEC_CODEGEN_VDLTOLINALG_BUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <utility>

namespace vaec::vdl_to_linalg {

using namespace mlir;

//===----------------------------------------------------------------------===//
// Scalars, elementwise ops and reductions
//===----------------------------------------------------------------------===//

Value f32(OpBuilder &b, Location loc, double value);

Value emptyLike(OpBuilder &b, Location loc, Type type);

Value zerosLike(OpBuilder &b, Location loc, Type type);

/// The body of an elementwise loop: its arguments' scalars to the result's.
using ScalarFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;
/// The body of a loop with several results.
using MultiScalarFn = function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

/// `result[i...] = fn(inputs[i...]...)` over tensors of one shape.
Value elementwise(OpBuilder &b, Location loc, Type resultType, ValueRange inputs, ScalarFn fn);

/// `result[b] = sum over the other dims of fn(inputs[b, ...]...)`. With
/// `resultType` 0-d, sums over everything.
Value reduceInto(OpBuilder &b, Location loc, Type resultType, ValueRange inputs, ScalarFn fn);

/// `max(x, 0) + log1p(exp(-|x|))`: softplus without overflow for large |x|.
Value stableSoftplus(OpBuilder &b, Location loc, Value x);

/// `1 / (1 + exp(-x))`.
Value sigmoid(OpBuilder &b, Location loc, Value x);

Value select(OpBuilder &b, Location loc, Value positive, Value ifPositive, Value otherwise);

inline const double kHalfLog2Pi = 0.5 * std::log(2.0 * M_PI);

//===----------------------------------------------------------------------===//
// Images and convolutions
//===----------------------------------------------------------------------===//

/// Index arithmetic in a gather's body (base offsets of a table lookup).
struct IndexMath {
  OpBuilder &b;
  Location loc;
  Value constant(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value a, int64_t v) { return v ? b.create<arith::AddIOp>(loc, a, constant(v)) : a; }
  Value mul(Value a, int64_t v) {
    return v != 1 ? b.create<arith::MulIOp>(loc, a, constant(v)) : a;
  }
};

/// `[b, d1, ..., dn]` with the dimensions from `first` on as one.
Value collapseFrom(OpBuilder &b, Location loc, Value value, int64_t first);

/// `value` [.., N] (the last dimension flat) in `type`'s shape, which splits it.
Value expandLast(OpBuilder &b, Location loc, Value value, RankedTensorType type);

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

AffineMap mapOf(OpBuilder &b, unsigned loops, ArrayRef<unsigned> dims);

/// A constant [rows, cols] table of i32.
Value i32Table(OpBuilder &b, Location loc, int64_t rows, int64_t cols, ArrayRef<int32_t> values);

/// `table[t, pos]`, a pixel offset into one channel of an image (-1: no
/// pixel), plus `base`: an index into a flat buffer, and whether there is a
/// pixel. The sum is taken in i32 (every buffer here has fewer than 2^31
/// elements) and sign-extended once, which LLVM's x86 backend turns into
/// gathers of 32-bit indices: 16 lanes an instruction with AVX-512 instead
/// of 8.
std::pair<Value, Value> tableOffset(OpBuilder &b, Location loc, Value table, Value t, Value pos,
                                    Value base);

/// The same for a table `entry` already read (an operand of the gather).
std::pair<Value, Value> entryOffset(OpBuilder &b, Location loc, Value entry, Value base);

/// `value` as one dimension.
Value flatten(OpBuilder &b, Location loc, Value value);

/// A tensor of `type` whose element at each index is `element(indices)`: a
/// linalg.generic without inputs (what tile-and-vectorize vectorizes, unlike
/// tensor.generate), its indices from linalg.index.
Value generateTensor(OpBuilder &b, Location loc, RankedTensorType type,
                     function_ref<Value(OpBuilder &, Location, ValueRange)> element);

/// `matrix` [R, C] as [C, R].
Value transpose2d(OpBuilder &b, Location loc, Value matrix);

/// `value` [A, B, ...] as [B, A, ...]: a copy whose rows stay contiguous,
/// as an elementwise linalg.generic (not linalg.transpose), so that
/// vdl-fusion can fuse it with the activation after it.
Value swapOuter(OpBuilder &b, Location loc, Value value);

/// [B, C, ...pixels] as [C, B * pixels]: the channels become a GEMM
/// operand's rows (a copy of each image's channel rows).
Value channelsFirst(OpBuilder &b, Location loc, Value images);

/// [B, C, ...pixels] as [B * pixels, C]: each pixel's channels a row.
Value channelsLast(OpBuilder &b, Location loc, Value images);

/// The inverse of channelsFirst: [C, B * pixels] as `type`, [B, C, ...pixels].
Value batchFirst(OpBuilder &b, Location loc, Value rows, RankedTensorType type);

/// A linalg.matmul of `lhs` [M, K] and `rhs` [K, N] (with `transposeLhs`,
/// matmul_transpose_a of `lhs` [K, M]) into `init` [M, N].
Value gemm(OpBuilder &b, Location loc, Value lhs, Value rhs, Value init, bool transposeLhs);

/// `value` [A, B, C] as [A, C, B].
Value transposeInner(OpBuilder &b, Location loc, Value value);

/// `images` [B, C, H, W] copied channels-last, [B, H, W, C], inside a zero
/// border of `top`/`bottom` rows and `left`/`right` columns. The transpose
/// is of [B, C, H W] (whole 16 x 16 register blocks where H W allows; the
/// padded slice cannot collapse H and W), then copied inside the border
/// (vdl-lower-vectors copies rows of C as vectors); only the border is zeroed.
Value paddedChannelsLast(OpBuilder &b, Location loc, Value images, int64_t top, int64_t bottom,
                         int64_t left, int64_t right);

/// The bias of each output channel broadcast over [B, H, W, O] (zeros
/// without one): a direct convolution's initial accumulator.
Value channelsLastInit(OpBuilder &b, Location loc, Value bias, RankedTensorType type);

/// linalg.conv_2d_nhwc_hwcf of `input` [B, H, W, C] and `filter` [kh, kw,
/// C, O] at `stride`, accumulating into `init` [B, OH, OW, O].
Value convNhwcHwcf(OpBuilder &b, Location loc, Value input, Value filter, Value init,
                   int64_t stride);

/// [B, OH, OW, O] as `result` [B, O, OH, OW].
Value channelsFirstImages(OpBuilder &b, Location loc, Value nhwf, RankedTensorType result);

} // namespace vaec::vdl_to_linalg

#endif // VAEC_CODEGEN_VDLTOLINALG_BUILDERS_H
