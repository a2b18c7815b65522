//===- Passes.h - vdl to linalg on tensors ----------------------*- C++ -*-===//
//
// Pass declarations generated from codegen/vdl-to-linalg/Passes.td, and their
// registration (vae-opt, --print-ir-after).
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_CODEGEN_VDLTOLINALG_PASSES_H
#define VAEC_CODEGEN_VDLTOLINALG_PASSES_H

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
#include "codegen/vdl-to-linalg/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/vdl-to-linalg/Passes.h.inc"

/// Registers convert-vdl-to-linalg.
inline void registerVDLToLinalgPasses() { registerVAECCodegenVDLToLinalgPasses(); }

} // namespace vaec

#endif // VAEC_CODEGEN_VDLTOLINALG_PASSES_H
