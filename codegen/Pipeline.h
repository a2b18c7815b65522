//===- Pipeline.h - vdl to LLVM, stage by stage -----------------*- C++ -*-===//

#ifndef VAEC_CODEGEN_PIPELINE_H
#define VAEC_CODEGEN_PIPELINE_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace vaec {

/// The MLIR stages in order; `so`, `obj`, `asm` and `llvm` continue from
/// `llvm-dialect` outside MLIR. Fusion works on linalg-on-tensors, so
/// `fused` comes after `linalg` (docs/design.md, "The stages and the IR at
/// each"). `Gpu` (the
/// outlined kernels and their launches) and `Nvvm` (the kernels in the NVVM
/// dialect) exist for --target=nvptx only.
enum class Stage { Vdl, Grad, Linalg, Fused, Memref, Gpu, Nvvm, LLVMDialect };

/// Dialects, interfaces and translations the pipeline needs.
void registerCodegenDialects(mlir::DialectRegistry &registry);

struct PipelineOptions {
  /// vdl-count-flops once every entry point exists (for --stats).
  bool countFlops = false;
  /// vdl-fusion on linalg-on-tensors (vaec --no-fusion turns it off).
  bool fusion = true;
  /// vdl-memory-plan shares arena memory between buffers never live
  /// together (vaec --no-memory-plan: one place per buffer).
  bool memoryPlan = true;
  /// vdl-parallelize + OpenMP: matmul tile loops on every core (vaec
  /// --no-parallel: one thread, and no libomp in the shared library).
  bool parallel = true;
  /// convert-vdl-to-linalg's conv-algorithm (vaec --conv): im2col, direct
  /// or auto.
  std::string convAlgorithm = "auto";
  /// vaec --target=nvptx: every loop nest a kernel of a gpu.module, lowered
  /// through NVVM to PTX; the entry points launch them (no CPU tiling,
  /// vectors or OpenMP).
  bool gpu = false;
  /// With `gpu`: the launches as serial CPU loops in a CPU library
  /// (--target=nvptx-emulated, which tests the GPU mapping without a GPU).
  bool emulateGpu = false;
  /// The compute capability of the PTX (--gpu-arch).
  std::string gpuArch = "sm_90";
};

/// Adds the passes that take the frontend's vdl IR to `stage`.
void buildLoweringPipeline(mlir::OpPassManager &pm, Stage stage,
                           const PipelineOptions &options = {});
/// The passes that take IR of stage `from` (as vaec --emit=from printed it)
/// to `to`.
void buildLoweringPipeline(mlir::OpPassManager &pm, Stage from, Stage to,
                           const PipelineOptions &options = {});

/// The code generation half of it: linalg on tensors (the `fused` stage) to
/// `stage` (Memref or LLVMDialect). Also `vae-opt --vdl-codegen`, which
/// lowers any function written in linalg on tensors the way vaec lowers a
/// model (bench/gemm.py times the matmul kernels that way).
void buildCodegenPipeline(mlir::OpPassManager &pm, Stage stage,
                          const PipelineOptions &options = {});
/// The same from `from` (fused, memref, gpu or nvvm).
void buildCodegenPipeline(mlir::OpPassManager &pm, Stage from, Stage stage,
                          const PipelineOptions &options = {});

} // namespace vaec

#endif // VAEC_CODEGEN_PIPELINE_H
