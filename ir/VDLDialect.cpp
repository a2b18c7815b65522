//===- VDLDialect.cpp - vdl dialect, attributes, attribute verifiers ------===//

#include "ir/VDLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace vaec::vdl;

#include "ir/VDLDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/VDLAttrs.cpp.inc"

#include "ir/VDLInterfaces.cpp.inc"

void VDLDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/VDLOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ir/VDLAttrs.cpp.inc"
      >();
}

LogicalResult UniformFanInAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                       int64_t fanIn) {
  if (fanIn <= 0)
    return emitError() << "fan_in must be positive, got " << fanIn;
  return success();
}

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef triple,
                                 StringRef cpu, int64_t vectorBits, int64_t vectorRegisters,
                                 bool fma, int64_t l1dBytes, int64_t l2Bytes, int64_t threads) {
  if (vectorBits != 128 && vectorBits != 256 && vectorBits != 512)
    return emitError() << "vector_bits must be 128, 256 or 512, got " << vectorBits;
  if (vectorRegisters < 8 || vectorRegisters > 64)
    return emitError() << "vector_registers must be in [8, 64], got " << vectorRegisters;
  if (l1dBytes <= 0 || l2Bytes <= 0 || threads <= 0)
    return emitError() << "l1d, l2 and threads must be positive";
  return success();
}

double UniformFanInAttr::getBound() const {
  return 1.0 / std::sqrt(static_cast<double>(getFanIn()));
}

/// `vdl.param`, `vdl.init` and `vdl.input` are only meaningful on the
/// arguments of functions; check their kinds here so a malformed module fails
/// verification instead of a later pass.
LogicalResult VDLDialect::verifyRegionArgAttribute(Operation *op, unsigned regionIndex,
                                                   unsigned argIndex, NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  if (!isa<FunctionOpInterface>(op))
    return op->emitError() << "'" << name << "' is only valid on function arguments";
  if (name == kStateSlotAttrName) {
    if (!isa<IntegerAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' of argument #" << argIndex
                             << " must be an integer";
    return success();
  }
  if (name == kParamAttrName || name == kInputAttrName || name == kStateOfAttrName ||
      name == kGradOfAttrName) { // apply_update's gradients
    auto str = dyn_cast<StringAttr>(attr.getValue());
    if (!str || str.getValue().empty())
      return op->emitError() << "'" << name << "' of argument #" << argIndex
                             << " must be a non-empty string";
    return success();
  }
  if (name == kInitAttrName) {
    if (!isa<UniformFanInAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' of argument #" << argIndex
                             << " must be an initializer attribute such as "
                                "#vdl.uniform_fan_in<N>";
    return success();
  }
  return op->emitError() << "unknown vdl argument attribute '" << name << "'";
}

bool VDLDialect::remarksWanted(Operation *op) {
  auto module = dyn_cast<ModuleOp>(op);
  if (!module)
    module = op->getParentOfType<ModuleOp>();
  return module && module->hasAttr(kRemarksAttrName);
}

LogicalResult VDLDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  if (name == kModelAttrName || name == kStageAttrName) {
    if (!isa<StringAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' must be a string";
    return success();
  }
  if (name == kParamsAttrName) {
    if (!isa<ArrayAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' must be an array";
    return success();
  }
  if (name == kBatchAttrName || name == kFlopsAttrName || name == kParamFloatsAttrName ||
      name == kArenaBytesAttrName || name == kStateFloatsAttrName) {
    auto batch = dyn_cast<IntegerAttr>(attr.getValue());
    if (!batch || batch.getInt() < (name == kBatchAttrName ? 1 : 0))
      return op->emitError() << "'" << name << "' must be a "
                             << (name == kBatchAttrName ? "positive" : "non-negative")
                             << " integer";
    return success();
  }
  if (name == kTrainAttrName || name == kMemoryPlanAttrName || name == kFusionAttrName ||
      name == kDescriptorAttrName) {
    if (!isa<DictionaryAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' must be a dictionary";
    return success();
  }
  if (name == kFlopsByLineAttrName) {
    auto lines = dyn_cast<DictionaryAttr>(attr.getValue());
    if (!lines || !llvm::all_of(lines, [](NamedAttribute entry) {
          auto count = dyn_cast<IntegerAttr>(entry.getValue());
          return count && count.getInt() >= 0;
        }))
      return op->emitError() << "'" << name << "' must be a dictionary of non-negative integers";
    return success();
  }
  if (name == kTargetAttrName) {
    if (!isa<TargetAttr>(attr.getValue()) || !isa<ModuleOp>(op))
      return op->emitError() << "'" << name << "' must be a #vdl.target on a module";
    return success();
  }
  if (name == kRemarksAttrName) {
    if (!isa<UnitAttr>(attr.getValue()) || !isa<ModuleOp>(op))
      return op->emitError() << "'" << name << "' must be a unit attribute on a module";
    return success();
  }
  if (name == kParallelAttrName) {
    if (!isa<UnitAttr>(attr.getValue()) || !isa<LoopLikeOpInterface>(op))
      return op->emitError() << "'" << name << "' must be a unit attribute on a loop";
    return success();
  }
  return op->emitError() << "unknown vdl attribute '" << name << "'";
}
