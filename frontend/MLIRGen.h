//===- MLIRGen.h - VDL AST to the vdl dialect -------------------*- C++ -*-===//

#ifndef VAEC_FRONTEND_MLIRGEN_H
#define VAEC_FRONTEND_MLIRGEN_H

#include "frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace vaec {

/// Emits `@loss`, `@encode` and `@decode` for a module that passed Sema.
/// Every op carries a FileLineColLoc into the `.vdl` file. The result is not
/// yet verified; the caller runs the verifier (or a pass pipeline).
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context, const Module &module,
                                          llvm::SourceMgr &sourceMgr);

} // namespace vaec

#endif // VAEC_FRONTEND_MLIRGEN_H
