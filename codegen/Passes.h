//===- Passes.h - vaec lowering passes --------------------------*- C++ -*-===//

#ifndef VAEC_CODEGEN_PASSES_H
#define VAEC_CODEGEN_PASSES_H

#include "ir/VDLDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace vaec {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

/// Registers the lowering passes (for vae-opt and --print-ir-after).
inline void registerCodegenPasses() { registerVAECCodegenPasses(); }

} // namespace vaec

#endif // VAEC_CODEGEN_PASSES_H
