//===- PackParameters.cpp - the vdl-pack-parameters pass ------------------===//
//
// Moves from one function argument per parameter (readable IR) to the C ABI:
// one flat parameter buffer with static offsets, and vae_init_params.
//
//===----------------------------------------------------------------------===//

#include "ir/VDLDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/BitVector.h"

namespace vaec {
#define GEN_PASS_DEF_PACKPARAMETERS
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;
using vaec::vdl::VDLDialect;

namespace {

/// 64 bytes: every parameter starts on a cache line and a full zmm load.
constexpr int64_t kAlignFloats = 16;

struct ParamSlot {
  StringAttr name;
  RankedTensorType type;
  int64_t offset;
  int64_t fanIn;
};

/// The ABI name of each frontend entry point.
const std::pair<StringRef, StringRef> kEntryPoints[] = {{"loss", "vae_eval_elbo"},
                                                        {"encode", "vae_encode"},
                                                        {"decode", "vae_decode"},
                                                        {"grad_step", "vae_grad_step"},
                                                        {"train_step", "vae_train_step"},
                                                        {"apply_update", "vae_apply_update"},
                                                        {"score", "vae_score"}};

/// Where an argument or a result with these attributes lives in a packed
/// buffer, in floats; nothing if it is not packed there.
using OffsetFn = function_ref<std::optional<int64_t>(DictionaryAttr)>;

ReassociationIndices allDims(int64_t rank) {
  ReassociationIndices all;
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  return all;
}

/// Replaces the arguments `offsetOf` places by views of one new
/// `tensor<size x f32>` argument inserted at `index` and named `name`.
void packArguments(func::FuncOp func, unsigned index, int64_t size, StringRef name, bool writable,
                   OffsetFn offsetOf) {
  OpBuilder b(func.getContext());
  SmallVector<NamedAttribute> attrs{
      b.getNamedAttr(VDLDialect::kInputAttrName, b.getStringAttr(name))};
  if (writable) // updated in place by the entry point
    attrs.push_back(b.getNamedAttr("bufferization.writable", b.getBoolAttr(true)));
  func.insertArgument(index, RankedTensorType::get({size}, b.getF32Type()),
                      b.getDictionaryAttr(attrs), func.getLoc());
  Value buffer = func.getArgument(index);
  b.setInsertionPointToStart(&func.front());
  llvm::BitVector erase(func.getNumArguments());
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    std::optional<int64_t> offset = offsetOf(func.getArgAttrDict(i));
    if (i == index || !offset)
      continue;
    BlockArgument arg = func.getArgument(i);
    auto type = cast<RankedTensorType>(arg.getType());
    Value view = b.create<tensor::ExtractSliceOp>(
        arg.getLoc(), buffer, ArrayRef<OpFoldResult>{b.getIndexAttr(*offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(type.getNumElements())},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    if (type.getRank() > 1)
      view = b.create<tensor::ExpandShapeOp>(
          arg.getLoc(), type, view, ArrayRef<ReassociationIndices>{allDims(type.getRank())});
    arg.replaceAllUsesWith(view);
    erase.set(i);
  }
  func.eraseArguments(erase);
}

/// Moves the results `offsetOf` places into one `tensor<size x f32>` result,
/// appended last and named `name`: inserted into `into` (an argument the
/// results update in place) or, when null, into zeros. `required`: the
/// result exists (zeros) even when no result goes into it.
void packResults(func::FuncOp func, Value into, int64_t size, StringRef name, OffsetFn offsetOf,
                 bool required = false) {
  auto ret = cast<func::ReturnOp>(func.front().getTerminator());
  OpBuilder b(ret);
  Location loc = ret.getLoc();
  Value packed = into;
  SmallVector<Value> kept;
  SmallVector<DictionaryAttr> keptAttrs;
  auto zeros = [&]() -> Value {
    return b
        .create<linalg::FillOp>(
            loc, ValueRange{b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0))},
            ValueRange{b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{size}, b.getF32Type())})
        .getResult(0);
  };
  for (unsigned i = 0, e = ret.getNumOperands(); i < e; ++i) {
    Value value = ret.getOperand(i);
    std::optional<int64_t> offset = offsetOf(func.getResultAttrDict(i));
    if (!offset) {
      kept.push_back(value);
      keptAttrs.push_back(func.getResultAttrDict(i));
      continue;
    }
    if (!packed)
      packed = zeros();
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getRank() > 1)
      value = b.create<tensor::CollapseShapeOp>(
          loc, value, ArrayRef<ReassociationIndices>{allDims(type.getRank())});
    packed = b.create<tensor::InsertSliceOp>(
        loc, value, packed, ArrayRef<OpFoldResult>{b.getIndexAttr(*offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(type.getNumElements())},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  }
  // grad_step's gradients are an output even when nothing goes in them (a
  // model without parameters): the ABI's arguments must not shift.
  if (!packed && required)
    packed = zeros();
  if (!packed || packed == into)
    return;
  kept.push_back(packed);
  keptAttrs.push_back(
      b.getDictionaryAttr(b.getNamedAttr(VDLDialect::kInputAttrName, b.getStringAttr(name))));
  b.create<func::ReturnOp>(loc, kept);
  ret.erase();
  func.setType(
      FunctionType::get(func.getContext(), func.getArgumentTypes(), ValueRange(kept).getTypes()));
  func.setAllResultAttrs(keptAttrs);
}

/// mulhilo of the Philox round: (hi, lo) of the 64-bit product.
std::pair<Value, Value> mulHiLo(OpBuilder &b, Location loc, uint32_t m, Value x) {
  Type i64 = b.getI64Type(), i32 = b.getI32Type();
  Value product =
      b.create<arith::MulIOp>(loc, b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(m)),
                              b.create<arith::ExtUIOp>(loc, i64, x));
  Value hi = b.create<arith::TruncIOp>(
      loc, i32,
      b.create<arith::ShRUIOp>(loc, product,
                               b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(32))));
  Value lo = b.create<arith::TruncIOp>(loc, i32, product);
  return {hi, lo};
}

/// Emits Philox4x32-10 on counter `c` and key `k`; returns the first word.
/// Mirrors vae::philox4x32_10 in runtime/include/vae/philox.h.
Value philoxFirstWord(OpBuilder &b, Location loc, std::array<Value, 4> c, std::array<Value, 2> k) {
  auto u32 = [&](uint32_t v) {
    return b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(int32_t(v))).getResult();
  };
  for (int round = 0; round < 10; ++round) {
    auto [hi0, lo0] = mulHiLo(b, loc, 0xD2511F53u, c[0]);
    auto [hi1, lo1] = mulHiLo(b, loc, 0xCD9E8D57u, c[2]);
    c = {b.create<arith::XOrIOp>(loc, b.create<arith::XOrIOp>(loc, hi1, c[1]), k[0]), lo1,
         b.create<arith::XOrIOp>(loc, b.create<arith::XOrIOp>(loc, hi0, c[3]), k[1]), lo0};
    k = {b.create<arith::AddIOp>(loc, k[0], u32(0x9E3779B9u)),
         b.create<arith::AddIOp>(loc, k[1], u32(0xBB67AE85u))};
  }
  return c[0];
}

/// func.func @vae_init_params(%params: memref<P x f32>, %seed: i64)
void buildInitParams(ModuleOp module, ArrayRef<ParamSlot> slots, int64_t totalFloats) {
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i64 = b.getI64Type();
  auto bufferType = MemRefType::get({totalFloats}, f32);
  auto func =
      b.create<func::FuncOp>(loc, "vae_init_params", b.getFunctionType({bufferType, i64}, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value buffer = entry->getArgument(0), seed = entry->getArgument(1);
  Value key0 = b.create<arith::TruncIOp>(loc, i32, seed);
  Value key1 = b.create<arith::TruncIOp>(
      loc, i32,
      b.create<arith::ShRUIOp>(loc, seed,
                               b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(32))));
  Value zero32 = b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(0));
  Value c0 = b.create<arith::ConstantIndexOp>(loc, 0);
  Value c1 = b.create<arith::ConstantIndexOp>(loc, 1);
  for (auto [index, slot] : llvm::enumerate(slots)) {
    int64_t size = slot.type.getNumElements();
    float bound = 1.0f / std::sqrt(float(slot.fanIn));
    Value paramIndex = b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(index));
    Value upper = b.create<arith::ConstantIndexOp>(loc, size);
    Value offset = b.create<arith::ConstantIndexOp>(loc, slot.offset);
    b.create<scf::ForOp>(
        loc, c0, upper, c1, ValueRange{}, [&](OpBuilder &nb, Location nl, Value i, ValueRange) {
          Value element = nb.create<arith::IndexCastUIOp>(nl, i32, i);
          Value bits = philoxFirstWord(nb, nl, {element, paramIndex, zero32, zero32}, {key0, key1});
          // bound * (2 * (bits >> 8) * 2^-24 - 1), as vae::initUniform.
          Value top = nb.create<arith::ShRUIOp>(
              nl, bits, nb.create<arith::ConstantOp>(nl, nb.getI32IntegerAttr(8)));
          Value unit = nb.create<arith::MulFOp>(
              nl, nb.create<arith::UIToFPOp>(nl, f32, top),
              nb.create<arith::ConstantOp>(nl, nb.getF32FloatAttr(1.0f / 16777216.0f)));
          Value centered = nb.create<arith::SubFOp>(
              nl,
              nb.create<arith::MulFOp>(
                  nl, nb.create<arith::ConstantOp>(nl, nb.getF32FloatAttr(2.0f)), unit),
              nb.create<arith::ConstantOp>(nl, nb.getF32FloatAttr(1.0f)));
          Value value = nb.create<arith::MulFOp>(
              nl, nb.create<arith::ConstantOp>(nl, nb.getF32FloatAttr(bound)), centered);
          Value position = nb.create<arith::AddIOp>(nl, offset, i);
          nb.create<memref::StoreOp>(nl, value, buffer, ValueRange{position});
          nb.create<scf::YieldOp>(nl);
        });
  }
  b.create<func::ReturnOp>(loc);
}

struct PackParametersPass : vaec::impl::PackParametersBase<PackParametersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto loss = module.lookupSymbol<func::FuncOp>("loss");
    if (!loss) {
      module.emitError("vdl-pack-parameters: no @loss function to take the "
                       "parameter layout from");
      return signalPassFailure();
    }
    // Layout: @loss's parameters in order, each 64-byte aligned.
    SmallVector<ParamSlot> ordered;
    llvm::StringMap<ParamSlot> slots;
    int64_t offset = 0;
    for (unsigned i = 0, e = loss.getNumArguments(); i < e; ++i) {
      auto name = loss.getArgAttrOfType<StringAttr>(i, VDLDialect::kParamAttrName);
      if (!name)
        continue;
      auto init = loss.getArgAttrOfType<vaec::vdl::UniformFanInAttr>(i, VDLDialect::kInitAttrName);
      auto type = cast<RankedTensorType>(loss.getArgumentTypes()[i]);
      ParamSlot slot{name, type, offset, init ? init.getFanIn() : 1};
      ordered.push_back(slot);
      slots[name.getValue()] = slot;
      offset += llvm::alignTo(type.getNumElements(), kAlignFloats);
    }
    int64_t totalFloats = std::max<int64_t>(offset, kAlignFloats);

    // Offsets in the parameter buffer, and in a slot of the optimizer state:
    // slot k of every parameter is a copy of the parameter layout.
    auto paramOffset = [&](DictionaryAttr attrs, StringRef key) -> std::optional<int64_t> {
      auto name = attrs ? attrs.getAs<StringAttr>(key) : StringAttr();
      if (!name || !slots.count(name.getValue()))
        return std::nullopt;
      return slots.find(name.getValue())->second.offset;
    };
    auto slotOf = [](DictionaryAttr attrs) -> std::optional<int64_t> {
      auto slot = attrs ? attrs.getAs<IntegerAttr>(VDLDialect::kStateSlotAttrName) : IntegerAttr();
      return slot ? std::optional<int64_t>(slot.getInt()) : std::nullopt;
    };
    auto isParam = [&](DictionaryAttr a) { return paramOffset(a, VDLDialect::kParamAttrName); };
    auto isGrad = [&](DictionaryAttr a) { return paramOffset(a, VDLDialect::kGradOfAttrName); };
    auto isUpdate = [&](DictionaryAttr a) { return paramOffset(a, VDLDialect::kUpdateOfAttrName); };

    int64_t stateFloats = 0;
    for (auto [from, to] : kEntryPoints) {
      auto func = module.lookupSymbol<func::FuncOp>(from);
      if (!func)
        continue;
      for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
        auto name = func.getArgAttrOfType<StringAttr>(i, VDLDialect::kParamAttrName);
        if (name && !slots.count(name.getValue())) {
          func.emitError() << "parameter '" << name.getValue() << "' is not an argument of @loss";
          return signalPassFailure();
        }
      }
      bool training = from == "train_step" || from == "apply_update";
      packArguments(func, 0, totalFloats, "params", training, isParam);
      if (training) {
        // One buffer per slot (m, v): an update writes into two of them, and
        // One-Shot Bufferize updates in place only into distinct buffers.
        // vdl-join-optimizer-state makes them one ABI argument again.
        int64_t numSlots = 0;
        for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
          if (std::optional<int64_t> slot = slotOf(func.getArgAttrDict(i)))
            numSlots = std::max(numSlots, *slot + 1);
        // A model without parameters still takes the ABI's opt_state (one
        // slot, unused): its arguments must not shift.
        numSlots = std::max<int64_t>(numSlots, 1);
        stateFloats = numSlots * totalFloats;
        packResults(func, func.getArgument(0), totalFloats, "params", isUpdate);
        for (int64_t k = 0; k < numSlots; ++k) {
          auto inSlot = [&](DictionaryAttr attrs) -> std::optional<int64_t> {
            if (slotOf(attrs) != k)
              return std::nullopt;
            return paramOffset(attrs, VDLDialect::kStateOfAttrName);
          };
          packArguments(func, 1 + k, totalFloats, "opt_state", true, inSlot);
          func.setArgAttr(1 + k, VDLDialect::kStateSlotAttrName,
                          Builder(func).getI64IntegerAttr(k));
          packResults(func, func.getArgument(1 + k), totalFloats, "opt_state", inSlot);
        }
        // apply_update's gradients: one buffer laid out like the parameters.
        if (from == "apply_update")
          packArguments(func, 1 + numSlots, totalFloats, "gradients", false, isGrad);
      }
      packResults(func, Value(), totalFloats, "gradients", isGrad,
                  /*required=*/from == "grad_step");
      func.setSymName(to);
    }
    buildInitParams(module, ordered, totalFloats);

    Builder b(&getContext());
    SmallVector<Attribute> layout;
    for (const ParamSlot &slot : ordered)
      layout.push_back(b.getDictionaryAttr({
          b.getNamedAttr("name", slot.name),
          b.getNamedAttr("shape", b.getI64ArrayAttr(slot.type.getShape())),
          b.getNamedAttr("offset", b.getI64IntegerAttr(slot.offset)),
          b.getNamedAttr("fan_in", b.getI64IntegerAttr(slot.fanIn)),
      }));
    module->setAttr(VDLDialect::kParamsAttrName, b.getArrayAttr(layout));
    module->setAttr(VDLDialect::kParamFloatsAttrName, b.getI64IntegerAttr(totalFloats));
    module->setAttr(VDLDialect::kStateFloatsAttrName, b.getI64IntegerAttr(stateFloats));
  }
};

} // namespace
