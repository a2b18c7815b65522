//===- Passes.h - vaec pass constructors and registration -------*- C++ -*-===//

#ifndef VAEC_PASSES_PASSES_H
#define VAEC_PASSES_PASSES_H

#include "ir/VDLDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace vaec {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The rewrite of vdl-elementwise-on-channels-last, for other drivers.
void populateElementwiseOnChannelsLastPatterns(mlir::RewritePatternSet &patterns);

/// Registers every vaec pass with the global registry (for vae-opt and
/// `--print-ir-after=NAME`).
inline void registerPasses() { registerVAECPasses(); }

} // namespace vaec

#endif // VAEC_PASSES_PASSES_H
