//===- Target.h - LLVM IR, the descriptor, objects and .so ------*- C++ -*-===//

#ifndef VAEC_CODEGEN_TARGET_H
#define VAEC_CODEGEN_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace vaec {

/// What the `vae_model_desc` symbol says (runtime/include/vae/abi.h).
struct ModelInfo {
  std::string name;
  int64_t batch = 0;
  std::vector<int64_t> inputShape;
  int64_t latentSize = 0;
  int32_t likelihood = 0; // enum vae_likelihood
  int64_t decodeOutputs = 0;
  double likelihoodSigma = 0;
  int64_t likelihoodBins = 0; // a discrete likelihood's values
  double beta = 1;
  int64_t warmupEpochs = 0;
  int64_t epochs = 0;
  int64_t seed = 0;
  double priorMean = 0, priorStd = 1;
  /// "encoder=H decoder=H prior=H" (the driver's modelFingerprint).
  std::string fingerprint;
  /// The train block's optimizer (enum vae_optimizer), run-time defaults
  /// (vae_hyperparams, in order) and runtime-only settings.
  int32_t optimizer = 1;
  bool clipsGradients = false;
  std::array<float, 8> hyperparams{};
  int32_t lrSchedule = 0; // enum vae_lr_schedule
  int32_t patience = 0;
  double lrWarmupEpochs = 0, lrMin = 0, lrStepEpochs = 1, lrGamma = 0.1, valFraction = 0;
  int32_t device = 0;  // enum vae_device
  int32_t gpuArch = 0; // 90 for sm_90
  /// Read from the module's vdl.params / vdl.param_floats / vdl.arena_bytes.
  struct Param {
    std::string name;
    std::vector<int64_t> shape;
    int64_t offset = 0, fanIn = 1;
  };
  std::vector<Param> params;
  int64_t paramFloats = 0;
  int64_t stateFloats = 0;
  int64_t arenaBytes = 0;
};

struct Module;
/// The descriptor fields the frontend knows (name, shapes, likelihood, the
/// train block's settings) of a module Sema has checked. (Defined with the
/// driver, which owns the AST.)
ModelInfo modelInfo(const Module &ast);

/// Fills the layout fields of `info` from the attributes the lowering
/// passes left on `module`, then removes those attributes.
mlir::LogicalResult takeLayout(mlir::ModuleOp module, ModelInfo &info);

/// A TargetMachine for `triple` (empty: the host) and `cpu` (empty: the
/// host's, with its features), with `features` (llc's -mattr syntax,
/// "+avx2,-avx512f") on top. On failure returns null and sets `error`.
std::unique_ptr<llvm::TargetMachine> createTargetMachine(const std::string &triple,
                                                         const std::string &cpu,
                                                         const std::string &features,
                                                         std::string &error);

/// Whether `triple` and `cpu` as given to createTargetMachine mean this
/// machine (both empty).
inline bool isHostTarget(const std::string &triple, const std::string &cpu) {
  return triple.empty() && cpu.empty();
}

/// Translates LLVM-dialect `module` to LLVM IR, adds the descriptor and
/// runs LLVM's -O3 pipeline for `machine`.
std::unique_ptr<llvm::Module> translateAndOptimize(mlir::ModuleOp module, const ModelInfo &info,
                                                   llvm::TargetMachine &machine,
                                                   llvm::LLVMContext &context,
                                                   mlir::TimingScope &timer, std::string &error);

/// Translates LLVM-dialect `module` to LLVM IR and adds the descriptor
/// (translateAndOptimize without -O3).
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module, const ModelInfo &info,
                                                llvm::TargetMachine &machine,
                                                llvm::LLVMContext &context, std::string &error);

/// Optimizes `module` and compiles it to one object file per machine of
/// `machines`: the module is split into as many partitions (functions
/// spread round-robin; an entry point's outlined parallel regions are
/// functions of their own), each optimized (-O3) and compiled in its own
/// LLVMContext, with its own TargetMachine, into `objectPaths[i]`, on up to
/// `threads` threads. The partitions, not the threads, decide the code: the
/// same module gives the same objects on any number of cores.
bool optimizeAndEmitInParallel(llvm::Module &module,
                               llvm::ArrayRef<std::unique_ptr<llvm::TargetMachine>> machines,
                               llvm::ArrayRef<std::string> objectPaths, unsigned threads,
                               std::string &error);

/// Writes assembly or an object file for `module`.
bool emitMachineCode(llvm::Module &module, llvm::TargetMachine &machine, bool assembly,
                     llvm::raw_pwrite_stream &os, std::string &error);

/// What linking a library for `triple` (an LLVM triple, possibly another
/// architecture than this machine's) needs and this machine lacks: "" when
/// nothing is missing, else a message that names the missing piece and the
/// Debian package that has it. `openmp`: the library calls libomp.
std::string missingForLink(const std::string &triple, bool openmp);

/// Links `objectPaths` into the shared library `outputPath` for `triple`
/// with the system's C compiler driver (clang-19, clang or cc; for another
/// architecture clang-19 --target with ld.lld and Debian's cross C library),
/// against libomp when `openmp`. `launches`: a --target=nvptx library,
/// whose launcher functions (mgpu*) the program that loads it provides.
bool linkSharedLibrary(llvm::ArrayRef<std::string> objectPaths, const std::string &outputPath,
                       const std::string &triple, bool openmp, bool launches, std::string &error);

} // namespace vaec

#endif // VAEC_CODEGEN_TARGET_H
