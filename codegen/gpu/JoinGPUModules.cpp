//===- JoinGPUModules.cpp - the vdl-join-gpu-modules pass -----------------===//
//
// gpu-kernel-outlining makes a gpu.module per launch; one module is one PTX
// text for the driver to compile and load, instead of ~150.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/Passes.h"

namespace vaec {
#define GEN_PASS_DEF_JOINGPUMODULES
#include "codegen/gpu/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// The one gpu.module of a vaec library.
constexpr llvm::StringLiteral kKernelModuleName = "vae_kernels";

struct JoinGPUModulesPass : vaec::impl::JoinGPUModulesBase<JoinGPUModulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> kernelModules(module.getOps<gpu::GPUModuleOp>());
    if (kernelModules.empty())
      return;
    // Outlining names every kernel after its entry point and uniques the
    // module names only: each kernel takes its module's name.
    MLIRContext *context = &getContext();
    module.walk([&](gpu::LaunchFuncOp launch) {
      launch.setKernelAttr(
          SymbolRefAttr::get(context, kKernelModuleName,
                             {FlatSymbolRefAttr::get(context, launch.getKernelModuleName())}));
    });
    gpu::GPUModuleOp joined = kernelModules.front();
    Block &into = joined.getBodyRegion().front();
    for (gpu::GPUModuleOp kernelModule : kernelModules) {
      for (gpu::GPUFuncOp kernel : llvm::make_early_inc_range(
               kernelModule.getBodyRegion().front().getOps<gpu::GPUFuncOp>())) {
        kernel.setName(kernelModule.getName());
        if (kernelModule != joined)
          kernel->moveBefore(into.getTerminator());
      }
      if (kernelModule != joined)
        kernelModule.erase();
    }
    joined.setName(kKernelModuleName);
  }
};

} // namespace
