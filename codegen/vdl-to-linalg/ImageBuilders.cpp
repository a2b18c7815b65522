//===- ImageBuilders.cpp - images and convolutions ------------------------===//
//
// The builders of Builders.h for images and convolutions: reshapes, index
// tables, layout copies (channels-first, channels-last, padded) and GEMMs.
//
//===----------------------------------------------------------------------===//

#include "codegen/vdl-to-linalg/Builders.h"
#include "codegen/vdl-to-linalg/PopulatePatterns.h"

using namespace mlir;
using namespace vaec::vdl;
using namespace vaec::vdl_to_linalg;

namespace vaec::vdl_to_linalg {

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

AffineMap mapOf(OpBuilder &b, unsigned loops, ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> results;
  for (unsigned d : dims)
    results.push_back(b.getAffineDimExpr(d));
  return AffineMap::get(loops, 0, results, b.getContext());
}

Value i32Table(OpBuilder &b, Location loc, int64_t rows, int64_t cols, ArrayRef<int32_t> values) {
  auto type = RankedTensorType::get({rows, cols}, b.getI32Type());
  return b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(type, values));
}

std::pair<Value, Value> tableOffset(OpBuilder &b, Location loc, Value table, Value t, Value pos,
                                    Value base) {
  return entryOffset(b, loc, b.create<tensor::ExtractOp>(loc, table, ValueRange{t, pos}), base);
}

std::pair<Value, Value> entryOffset(OpBuilder &b, Location loc, Value offset, Value base) {
  Value zero = b.create<arith::ConstantIntOp>(loc, 0, 32);
  Value present = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, offset, zero);
  Value clamped = b.create<arith::MaxSIOp>(loc, offset, zero);
  Value base32 = b.create<arith::IndexCastOp>(loc, b.getI32Type(), base);
  Value sum = b.create<arith::AddIOp>(loc, base32, clamped);
  return {b.create<arith::IndexCastOp>(loc, b.getIndexType(), sum), present};
}

Value flatten(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  ReassociationIndices all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  return b.create<tensor::CollapseShapeOp>(loc, value, SmallVector<ReassociationIndices>{all});
}

Value generateTensor(OpBuilder &b, Location loc, RankedTensorType type,
                     function_ref<Value(OpBuilder &, Location, ValueRange)> element) {
  unsigned rank = unsigned(type.getRank());
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(loc, type, ValueRange{}, emptyLike(b, loc, type),
                                 ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)}, iterators,
                                 [&](OpBuilder &nb, Location nl, ValueRange) {
                                   SmallVector<Value> indices;
                                   for (unsigned d = 0; d < rank; ++d)
                                     indices.push_back(nb.create<linalg::IndexOp>(nl, d));
                                   nb.create<linalg::YieldOp>(nl, element(nb, nl, indices));
                                 })
      .getResult(0);
}

Value transpose2d(OpBuilder &b, Location loc, Value matrix) {
  auto type = cast<RankedTensorType>(matrix.getType());
  auto transposedType =
      RankedTensorType::get({type.getDimSize(1), type.getDimSize(0)}, type.getElementType());
  return b
      .create<linalg::TransposeOp>(loc, matrix, emptyLike(b, loc, transposedType),
                                   ArrayRef<int64_t>{1, 0})
      ->getResult(0);
}

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
          ArrayRef<AffineMap>{mapOf(b, rank, swapped), b.getMultiDimIdentityMap(rank)}, iterators,
          [](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, args[0]);
          })
      .getResult(0);
}

Value channelsFirst(OpBuilder &b, Location loc, Value images) {
  Value transposed = swapOuter(b, loc, collapseFrom(b, loc, images, 2)); // [C, B, P]
  return b.create<tensor::CollapseShapeOp>(loc, transposed,
                                           SmallVector<ReassociationIndices>{{0}, {1, 2}});
}

Value channelsLast(OpBuilder &b, Location loc, Value images) {
  Value flat = collapseFrom(b, loc, images, 2); // [B, C, P]
  auto type = cast<RankedTensorType>(flat.getType());
  auto transposedType = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(2), type.getDimSize(1)}, type.getElementType());
  Value transposed = b.create<linalg::TransposeOp>(loc, flat, emptyLike(b, loc, transposedType),
                                                   ArrayRef<int64_t>{0, 2, 1})
                         ->getResult(0);
  return b.create<tensor::CollapseShapeOp>(loc, transposed,
                                           SmallVector<ReassociationIndices>{{0, 1}, {2}});
}

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

Value gemm(OpBuilder &b, Location loc, Value lhs, Value rhs, Value init, bool transposeLhs) {
  if (transposeLhs)
    return b
        .create<linalg::MatmulTransposeAOp>(loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
                                            ValueRange{init})
        ->getResult(0);
  return b
      .create<linalg::MatmulOp>(loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
                                ValueRange{init})
      ->getResult(0);
}

Value transposeInner(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  auto transposedType = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(2), type.getDimSize(1)}, type.getElementType());
  return b
      .create<linalg::TransposeOp>(loc, value, emptyLike(b, loc, transposedType),
                                   ArrayRef<int64_t>{0, 2, 1})
      ->getResult(0);
}

Value paddedChannelsLast(OpBuilder &b, Location loc, Value images, int64_t top, int64_t bottom,
                         int64_t left, int64_t right) {
  auto type = cast<RankedTensorType>(images.getType());
  int64_t batch = type.getDimSize(0), channels = type.getDimSize(1), height = type.getDimSize(2),
          width = type.getDimSize(3);
  // [B, C, H W] -> [B, H W, C] -> [B, H, W, C].
  Value channelsLast = transposeInner(b, loc, collapseFrom(b, loc, images, 2));
  auto nhwcType = RankedTensorType::get({batch, height, width, channels}, type.getElementType());
  Value nhwc = b.create<tensor::ExpandShapeOp>(loc, nhwcType, channelsLast,
                                               SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
  if (top == 0 && bottom == 0 && left == 0 && right == 0)
    return nhwc;
  int64_t paddedWidth = width + left + right;
  auto paddedType = RankedTensorType::get({batch, height + top + bottom, paddedWidth, channels},
                                          type.getElementType());
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
  // Zeros in the border only, the images in the middle: a fill of the whole
  // buffer before the copy wrote most of it twice (conv_vae's training step
  // zeroed 38 MB of padded buffers; its memset samples fell from 1,737 to
  // 726 of about 19,000 without, on a Zen 4).
  Value padded = emptyLike(b, loc, paddedType);
  auto place = [&](Value part, ArrayRef<int64_t> offsets) {
    padded = b.create<tensor::InsertSliceOp>(
        loc, part, padded, getAsIndexOpFoldResult(ctx, offsets),
        getAsIndexOpFoldResult(ctx, cast<RankedTensorType>(part.getType()).getShape()), ones);
  };
  auto zeros = [&](int64_t rows, int64_t cols) {
    return zerosLike(b, loc,
                     RankedTensorType::get({batch, rows, cols, channels}, type.getElementType()));
  };
  if (top)
    place(zeros(top, paddedWidth), {0, 0, 0, 0});
  if (bottom)
    place(zeros(bottom, paddedWidth), {0, top + height, 0, 0});
  if (left)
    place(zeros(height, left), {0, top, 0, 0});
  if (right)
    place(zeros(height, right), {0, top, left + width, 0});
  place(nhwc, {0, top, left, 0});
  return padded;
}

Value channelsLastInit(OpBuilder &b, Location loc, Value bias, RankedTensorType type) {
  if (!bias)
    return zerosLike(b, loc, type);
  return b
      .create<linalg::BroadcastOp>(loc, bias, emptyLike(b, loc, type), ArrayRef<int64_t>{0, 1, 2})
      .getResult()[0];
}

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

Value channelsFirstImages(OpBuilder &b, Location loc, Value nhwf, RankedTensorType result) {
  Value pixelsFirst = b.create<tensor::CollapseShapeOp>(
      loc, nhwf, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
  return expandLast(b, loc, transposeInner(b, loc, pixelsFirst), result);
}

} // namespace vaec::vdl_to_linalg
