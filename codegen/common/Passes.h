//===- Passes.h - passes for every target -----------------------*- C++ -*-===//
//
// Pass declarations generated from codegen/common/Passes.td, and their
// registration (vae-opt, --print-ir-after).
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_CODEGEN_COMMON_PASSES_H
#define VAEC_CODEGEN_COMMON_PASSES_H

#include "ir/VDLDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
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
#include "codegen/common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/common/Passes.h.inc"

/// Registers the target description and math approximations.
inline void registerCommonCodegenPasses() { registerVAECCodegenCommonPasses(); }

} // namespace vaec

#endif // VAEC_CODEGEN_COMMON_PASSES_H
