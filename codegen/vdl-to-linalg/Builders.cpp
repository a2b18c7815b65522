//===- Builders.cpp - scalars, elementwise ops, reductions ----------------===//
//
// The shared builders of Builders.h for scalars, elementwise linalg.generic
// ops and reductions.
//
//===----------------------------------------------------------------------===//

#include "codegen/vdl-to-linalg/Builders.h"
#include "codegen/vdl-to-linalg/PopulatePatterns.h"

using namespace mlir;
using namespace vaec::vdl;
using namespace vaec::vdl_to_linalg;

namespace vaec::vdl_to_linalg {

Value f32(OpBuilder &b, Location loc, double value) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(static_cast<float>(value)));
}

Value emptyLike(OpBuilder &b, Location loc, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return b.create<tensor::EmptyOp>(loc, tensor.getShape(), tensor.getElementType());
}

Value zerosLike(OpBuilder &b, Location loc, Type type) {
  return b.create<linalg::FillOp>(loc, f32(b, loc, 0.0), emptyLike(b, loc, type)).getResult(0);
}

Value elementwise(OpBuilder &b, Location loc, Type resultType, ValueRange inputs, ScalarFn fn) {
  auto type = cast<RankedTensorType>(resultType);
  unsigned rank = type.getRank();
  SmallVector<AffineMap> maps(inputs.size() + 1, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(loc, type, inputs, emptyLike(b, loc, type), maps, iterators,
                                 [&](OpBuilder &nb, Location nl, ValueRange args) {
                                   nb.create<linalg::YieldOp>(nl, fn(nb, nl, args.drop_back()));
                                 })
      .getResult(0);
}

Value reduceInto(OpBuilder &b, Location loc, Type resultType, ValueRange inputs, ScalarFn fn) {
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
          loc, resultType, inputs, zerosLike(b, loc, resultType), maps, iterators,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value term = fn(nb, nl, args.drop_back());
            nb.create<linalg::YieldOp>(nl,
                                       nb.create<arith::AddFOp>(nl, args.back(), term).getResult());
          })
      .getResult(0);
}

Value stableSoftplus(OpBuilder &b, Location loc, Value x) {
  Value zero = f32(b, loc, 0.0);
  Value negAbs = b.create<arith::NegFOp>(loc, b.create<math::AbsFOp>(loc, x));
  Value tail = b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, negAbs));
  return b.create<arith::AddFOp>(loc, b.create<arith::MaximumFOp>(loc, x, zero), tail);
}

Value sigmoid(OpBuilder &b, Location loc, Value x) {
  // 1 / (1 + exp(-x)); exp overflowing to +inf still gives the right 0.
  Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
  return b.create<arith::DivFOp>(loc, f32(b, loc, 1.0),
                                 b.create<arith::AddFOp>(loc, f32(b, loc, 1.0), e));
}

Value select(OpBuilder &b, Location loc, Value positive, Value ifPositive, Value otherwise) {
  Value isPositive =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, positive, f32(b, loc, 0.0));
  return b.create<arith::SelectOp>(loc, isPositive, ifPositive, otherwise);
}

} // namespace vaec::vdl_to_linalg
