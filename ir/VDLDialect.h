//===- VDLDialect.h - the vdl dialect ---------------------------*- C++ -*-===//
//
// One include for users of the dialect: the dialect class, its attributes and
// its operations.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_IR_VDLDIALECT_H
#define VAEC_IR_VDLDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ir/VDLDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/VDLAttrs.h.inc"

#include "ir/VDLInterfaces.h.inc"

#define GET_OP_CLASSES
#include "ir/VDLOps.h.inc"

#endif // VAEC_IR_VDLDIALECT_H
