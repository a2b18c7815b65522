//===- Stages.cpp - the MLIR stages vaec prints and reads back ------------===//

#include "tools/driver/Stages.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringSwitch.h"

using namespace vaec;

Stage vaec::mlirStageOf(llvm::StringRef emit) {
  return llvm::StringSwitch<Stage>(emit)
      .Case("vdl", Stage::Vdl)
      .Case("grad", Stage::Grad)
      .Case("linalg", Stage::Linalg)
      .Case("fused", Stage::Fused)
      .Case("memref", Stage::Memref)
      .Case("gpu", Stage::Gpu)
      .Case("nvvm", Stage::Nvvm)
      .Default(Stage::LLVMDialect);
}

Stage vaec::stageOfOps(mlir::ModuleOp module, Stage said) {
  bool tensorArguments = false, functions = false;
  std::optional<bool> gpuModuleOfLLVM; // set where a gpu.module is
  module.walk([&](mlir::Operation *op) {
    if (auto gpuModule = llvm::dyn_cast<mlir::gpu::GPUModuleOp>(op))
      gpuModuleOfLLVM = !gpuModule.getOps<mlir::LLVM::LLVMFuncOp>().empty();
    if (auto function = llvm::dyn_cast<mlir::func::FuncOp>(op)) {
      functions = true;
      // (Until bufferization the entry points take tensors; vae_init_params,
      // written on memrefs from the start, does not tell.)
      tensorArguments |= llvm::any_of(function.getArgumentTypes(), [](mlir::Type type) {
        return llvm::isa<mlir::TensorType>(type);
      });
    }
  });
  if (gpuModuleOfLLVM)
    return *gpuModuleOfLLVM ? Stage::Nvvm : Stage::Gpu;
  if (!functions)
    return Stage::LLVMDialect;
  // vdl-autodiff adds @train_step beside @loss; vdl-pack-parameters makes
  // the library's entry points (@vae_encode, ...) of them.
  if (!module.lookupSymbol("vae_encode"))
    return module.lookupSymbol("train_step") ? Stage::Grad : Stage::Vdl;
  if (!tensorArguments)
    return Stage::Memref;
  return said == Stage::Fused ? Stage::Fused : Stage::Linalg;
}

const char *vaec::stageName(Stage stage) {
  switch (stage) {
  case Stage::Vdl:
    return "vdl";
  case Stage::Grad:
    return "grad";
  case Stage::Linalg:
    return "linalg";
  case Stage::Fused:
    return "fused";
  case Stage::Memref:
    return "memref";
  case Stage::Gpu:
    return "gpu";
  case Stage::Nvvm:
    return "nvvm";
  case Stage::LLVMDialect:
    return "llvm-dialect";
  }
  return "?";
}
