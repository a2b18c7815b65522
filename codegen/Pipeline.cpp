//===- Pipeline.cpp - vdl to LLVM, stage by stage -------------------------===//
//
//   vdl     --vdl-pack-parameters --convert-vdl-to-linalg -> linalg (tensors)
//   linalg  --vdl-fusion                                   -> fused (tensors)
//   fused   --vdl-update-in-place --vdl-tile-and-vectorize
//   linalg  --one-shot-bufferize --vdl-fresh-results --buffer-results-to-out-params
//           --vdl-memory-plan                              -> memref
//   memref  --convert-linalg-to-loops --vdl-approximate-math ... -> llvm
//
//===----------------------------------------------------------------------===//

#include "codegen/Pipeline.h"

#include "codegen/Passes.h"
#include "ir/VDLDialect.h"
#include "passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUCommon/GPUCommonPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void vaec::registerCodegenDialects(DialectRegistry &registry) {
  registry.insert<vdl::VDLDialect, func::FuncDialect, arith::ArithDialect, math::MathDialect,
                  tensor::TensorDialect, linalg::LinalgDialect, memref::MemRefDialect,
                  scf::SCFDialect, affine::AffineDialect, bufferization::BufferizationDialect,
                  vector::VectorDialect, cf::ControlFlowDialect, LLVM::LLVMDialect,
                  omp::OpenMPDialect, gpu::GPUDialect, NVVM::NVVMDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  // Subset ops: vdl-tile-and-vectorize hoists matmul accumulators with them.
  tensor::registerSubsetOpInterfaceExternalModels(registry);
  vector::registerSubsetOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  // --target=nvptx: #nvvm.target compiles a gpu.module to PTX; gpu.binary
  // and gpu.launch_func translate to an embedded string and launcher calls.
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerGPUDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  registerNVVMDialectTranslation(registry);
}

void vaec::buildLoweringPipeline(OpPassManager &pm, Stage stage, const PipelineOptions &options) {
  buildLoweringPipeline(pm, Stage::Vdl, stage, options);
}

void vaec::buildLoweringPipeline(OpPassManager &pm, Stage from, Stage to,
                                 const PipelineOptions &options) {
  // Each segment makes one stage from the one before; those in (from, to]
  // run.
  auto makes = [&](Stage stage) { return from < stage && stage <= to; };
  auto flops = [&] {
    if (options.countFlops)
      pm.addNestedPass<func::FuncOp>(createCountFlops());
  };
  if (from == Stage::Vdl && to == Stage::Vdl)
    return flops();
  if (makes(Stage::Grad)) {
    pm.addPass(createAutodiff());
    flops();
  }
  if (makes(Stage::Linalg)) {
    pm.addPass(createPackParameters());
    ConvertVDLToLinalgOptions lowering;
    // The GPU mapping takes the GEMM form (no direct convolution kernels yet).
    lowering.convAlgorithm =
        options.gpu && options.convAlgorithm == "auto" ? "im2col" : options.convAlgorithm;
    pm.addPass(createConvertVDLToLinalg(lowering));
    pm.addNestedPass<func::FuncOp>(createElementwiseOnChannelsLast());
    pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
    pm.addNestedPass<func::FuncOp>(createCSEPass());
  }
  if (makes(Stage::Fused) && options.fusion)
    pm.addNestedPass<func::FuncOp>(createFusion());
  if (to > Stage::Fused)
    buildCodegenPipeline(pm, std::max(from, Stage::Fused), to, options);
}

static void buildGPUPipeline(OpPassManager &pm, vaec::Stage from, vaec::Stage stage,
                             const vaec::PipelineOptions &options);
static void buildGPUPipelineFromKernels(OpPassManager &pm, vaec::Stage from, vaec::Stage stage,
                                        const vaec::PipelineOptions &options);
static void addBufferization(OpPassManager &pm, const vaec::PipelineOptions &options);
static void addCPULowering(OpPassManager &pm, const vaec::PipelineOptions &options);

/// Structured loops to branches and strided views to plain address
/// arithmetic: what every LLVM lowering (CPU, host, kernels) starts from.
static void addLoopsToBranches(OpPassManager &pm) {
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
}

/// Buffers, branches and functions to the LLVM dialect; entry points take
/// bare pointers (memref<...> arguments -> float*), as the C ABI says.
static void addEntryPointsToLLVM(OpPassManager &pm) {
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  ConvertFuncToLLVMPassOptions funcToLLVM;
  funcToLLVM.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcToLLVM));
}

/// --target=nvptx, from buffers: kernels outlined into one gpu.module,
/// lowered through NVVM to PTX and embedded; the host side of each entry
/// point becomes calls of the launcher (mgpu* in libvaert).
static void buildGPUPipeline(OpPassManager &pm, vaec::Stage from, vaec::Stage stage,
                             const vaec::PipelineOptions &options) {
  using namespace vaec;
  // (IR printed at gpu or nvvm carries on from there.)
  if (from >= Stage::Gpu)
    return buildGPUPipelineFromKernels(pm, from, stage, options);
  pm.addNestedPass<func::FuncOp>(createMapToGPU());
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  // Constants into the launch bodies: kernels divide by constant sizes.
  pm.addNestedPass<func::FuncOp>(createGpuLauchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createJoinGPUModules());
  pm.addPass(createCanonicalizerPass());
  buildGPUPipelineFromKernels(pm, Stage::Gpu, stage, options);
}

/// --target=nvptx from the outlined kernels (gpu) or their NVVM form (nvvm).
static void buildGPUPipelineFromKernels(OpPassManager &pm, vaec::Stage from, vaec::Stage stage,
                                        const vaec::PipelineOptions &options) {
  using namespace vaec;
  if (stage == Stage::Gpu || from >= Stage::LLVMDialect)
    return;
  if (from < Stage::Nvvm) {
    OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
    // The CPU's polynomials: no libdevice to link, and the same rounding.
    kernels.addPass(createApproximateMath());
    addLoopsToBranches(kernels);
    kernels.addPass(createConvertGpuOpsToNVVMOps());
    kernels.addPass(createNVVMIntrinsics());
    kernels.addPass(createCanonicalizerPass());
    GpuNVVMAttachTargetOptions target;
    target.chip = options.gpuArch;
    target.optLevel = 3;
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  if (stage == Stage::Nvvm)
    return;
  // The host: views, sizes and launches (and vae_init_params' loops).
  OpPassManager &host = pm.nest<func::FuncOp>();
  addLoopsToBranches(host);
  host.addPass(createConvertMathToLLVMPass());
  host.addPass(createArithToLLVMConversionPass());
  GpuToLLVMConversionPassOptions launches;
  launches.hostBarePtrCallConv = true; // the C ABI: memref<...> -> float*
  pm.addPass(createGpuToLLVMConversionPass(launches));
  addEntryPointsToLLVM(pm);
  pm.addPass(createReconcileUnrealizedCastsPass());
  // PTX text: the driver compiles it for the GPU it runs on (no ptxas, no
  // CUDA toolkit at build time).
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void vaec::buildCodegenPipeline(OpPassManager &pm, Stage stage, const PipelineOptions &options) {
  buildCodegenPipeline(pm, Stage::Fused, stage, options);
}

void vaec::buildCodegenPipeline(OpPassManager &pm, Stage from, Stage stage,
                                const PipelineOptions &options) {
  if (from < Stage::Memref)
    addBufferization(pm, options);
  if (stage == Stage::Memref)
    return;
  if (options.gpu && !options.emulateGpu)
    return buildGPUPipeline(pm, from, stage, options);
  if (from < Stage::LLVMDialect)
    addCPULowering(pm, options);
}

/// fused -> memref: tiles and vectors, bufferization, out-parameters, the
/// arena.
static void addBufferization(OpPassManager &pm, const vaec::PipelineOptions &options) {
  using namespace vaec;
  pm.addNestedPass<func::FuncOp>(createUpdateInPlace());
  if (!options.gpu) {
    TileAndVectorizeOptions tiling;
    tiling.fuseEpilogues = options.fusion;
    pm.addNestedPass<func::FuncOp>(createTileAndVectorize(tiling));
  }
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());

  bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  // Entry points take plain contiguous buffers: the C ABI passes pointers.
  bufferization.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  // Its constants' names depend on pointer order: named again by use.
  pm.addPass(createNameConstants());
  // Tile loops carry their buffer as an iter_arg and yield it unchanged:
  // folded away, a returned buffer is its alloc again, which
  // buffer-results-to-out-params can then replace by the out-parameter.
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  // A returned argument (encode's mu = x) or a buffer returned twice gets a
  // copy of its own; vae_train_step's in-place updates of its parameters and
  // optimizer state are then the only results equal to arguments, and go
  // away.
  pm.addNestedPass<func::FuncOp>(createFreshResults());
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  bufferization::BufferResultsToOutParamsOpts outParams;
  outParams.hoistStaticAllocs = true; // write results straight into them
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  // CSE merges the identical subviews tiling leaves on both sides of a
  // copy; the canonicalizer then drops the self-copies.
  pm.addNestedPass<func::FuncOp>(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createJoinOptimizerState());
  MemoryPlanOptions memoryPlan;
  memoryPlan.reuse = options.memoryPlan;
  pm.addPass(createMemoryPlan(memoryPlan));
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
}

/// memref -> llvm-dialect for a CPU library (and --target=nvptx-emulated):
/// loops, threads, kernels outlined, vectors and everything else to LLVM.
static void addCPULowering(OpPassManager &pm, const vaec::PipelineOptions &options) {
  using namespace vaec;
  if (options.emulateGpu) {
    pm.addNestedPass<func::FuncOp>(createMapToGPU());
    pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
    pm.addNestedPass<func::FuncOp>(createEmulateGPU());
  }

  pm.addNestedPass<func::FuncOp>(createLowerVectors());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  if (options.parallel && !options.emulateGpu)
    pm.addNestedPass<func::FuncOp>(createParallelize());
  // After vdl-parallelize: a packed panel is allocated once per thread.
  pm.addNestedPass<func::FuncOp>(createPackPanels());
  if (options.parallel && !options.emulateGpu) {
    pm.addPass(createConvertSCFToOpenMPPass());
    // Its memref.alloca_scope bodies hold no allocas: the canonicalizer
    // inlines them before scf-to-cf would give them several blocks.
    pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  }
  pm.addPass(createOutlineKernels());
  // The lowering to the LLVM dialect works on the whole unrolled vector code
  // (most of the MLIR pipeline's time): every pass that can runs per
  // function, so the entry points are lowered in parallel when the context
  // has threads.
  OpPassManager &perFunction = pm.nest<func::FuncOp>();
  perFunction.addPass(createApproximateMath());
  // Transfers of more than one row (strided reads of a column block) as
  // straight-line loads rather than a loop over a stack temporary.
  perFunction.addPass(
      createConvertVectorToSCFPass(VectorTransferToSCFOptions().enableFullUnroll()));
  perFunction.addPass(createLowerAffinePass());
  addLoopsToBranches(perFunction);
  perFunction.addPass(createConvertVectorToLLVMPass());
  perFunction.addPass(createConvertMathToLLVMPass());
  perFunction.addPass(createArithToLLVMConversionPass());
  addEntryPointsToLLVM(pm);
  // After func-to-llvm: this pass also converts functions, with the default
  // (memref descriptor) calling convention.
  if (options.parallel && !options.emulateGpu)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // No canonicalizer on the LLVM dialect: on the unrolled vector code it took
  // 1.8 of 5 s of mnist_vae's compile, and LLVM -O3 does the same folding.
}
