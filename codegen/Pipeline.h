//===- Pipeline.h - vdl to LLVM, stage by stage -----------------*- C++ -*-===//

#ifndef VAEC_CODEGEN_PIPELINE_H
#define VAEC_CODEGEN_PIPELINE_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace vaec {

/// The MLIR stages of DESIGN.md §3 in order; `so`, `obj`, `asm` and `llvm`
/// continue from `llvm-dialect` outside MLIR.
enum class Stage { Vdl, Grad, Linalg, Memref, LLVMDialect };

/// Dialects, interfaces and translations the pipeline needs.
void registerCodegenDialects(mlir::DialectRegistry &registry);

/// Adds the passes that take the frontend's vdl IR to `stage`; with
/// `countFlops`, vdl-count-flops runs once every entry point exists.
void buildLoweringPipeline(mlir::PassManager &pm, Stage stage,
                           bool countFlops = false);

} // namespace vaec

#endif // VAEC_CODEGEN_PIPELINE_H
