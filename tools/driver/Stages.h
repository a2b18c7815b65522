//===- Stages.h - the MLIR stages vaec prints and reads back ---*- C++ -*-===//
//
// `--emit=STAGE` names, the `vdl.stage` attribute of printed IR, and the
// stage the ops of an IR file are at.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_TOOLS_DRIVER_STAGES_H
#define VAEC_TOOLS_DRIVER_STAGES_H

#include "codegen/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

namespace vaec {

/// The MLIR stage of an --emit name (LLVMDialect for the later ones).
Stage mlirStageOf(llvm::StringRef emit);

/// The name of an MLIR stage, as vdl.stage and --emit spell it.
const char *stageName(Stage stage);

/// The stage the ops of `module` are at: IR that another tool wrote (vae-opt
/// runs passes and keeps the vdl.stage of its input) goes on from where it
/// is. What the ops cannot tell apart, linalg from fused, keeps `said`.
Stage stageOfOps(mlir::ModuleOp module, Stage said);

} // namespace vaec

#endif // VAEC_TOOLS_DRIVER_STAGES_H
