//===- Target.cpp - LLVM IR, the descriptor, objects and .so --------------===//

#include "codegen/llvm/Target.h"

#include "ir/VDLDialect.h"
#include "runtime/include/vae/abi.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/IPO/MergeFunctions.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <atomic>
#include <cmath>
#include <thread>

using namespace vaec;

/// The descriptor layout below follows runtime/include/vae/abi.h.
static constexpr uint32_t kAbiVersion = VAE_ABI_VERSION;
static constexpr int kMaxRank = VAE_MAX_RANK;

mlir::LogicalResult vaec::takeLayout(mlir::ModuleOp module, ModelInfo &info) {
  using vdl::VDLDialect;
  auto params = module->getAttrOfType<mlir::ArrayAttr>(VDLDialect::kParamsAttrName);
  auto floats = module->getAttrOfType<mlir::IntegerAttr>(VDLDialect::kParamFloatsAttrName);
  auto arena = module->getAttrOfType<mlir::IntegerAttr>(VDLDialect::kArenaBytesAttrName);
  if (!params || !floats || !arena)
    return module.emitError("the lowering left no parameter layout or arena size");
  for (mlir::Attribute attr : params) {
    auto dict = mlir::cast<mlir::DictionaryAttr>(attr);
    ModelInfo::Param param;
    param.name = dict.getAs<mlir::StringAttr>("name").str();
    for (mlir::Attribute dim : dict.getAs<mlir::ArrayAttr>("shape"))
      param.shape.push_back(mlir::cast<mlir::IntegerAttr>(dim).getInt());
    param.offset = dict.getAs<mlir::IntegerAttr>("offset").getInt();
    param.fanIn = dict.getAs<mlir::IntegerAttr>("fan_in").getInt();
    info.params.push_back(std::move(param));
  }
  info.paramFloats = floats.getInt();
  if (auto state = module->getAttrOfType<mlir::IntegerAttr>(VDLDialect::kStateFloatsAttrName))
    info.stateFloats = state.getInt();
  info.arenaBytes = arena.getInt();
  // Nothing below MLIR understands vdl attributes: drop them all.
  for (mlir::NamedAttribute attr : llvm::to_vector(module->getAttrs()))
    if (attr.getName().strref().starts_with("vdl."))
      module->removeAttr(attr.getName());
  module.walk([](mlir::Operation *op) {
    for (mlir::NamedAttribute attr : llvm::to_vector(op->getDiscardableAttrs()))
      if (attr.getName().strref().starts_with("vdl."))
        op->removeDiscardableAttr(attr.getName());
    if (auto function = mlir::dyn_cast<mlir::FunctionOpInterface>(op))
      for (unsigned i = 0, e = function.getNumArguments(); i < e; ++i)
        for (mlir::NamedAttribute attr : function.getArgAttrs(i))
          if (attr.getName().strref().starts_with("vdl."))
            function.removeArgAttr(i, attr.getName());
  });
  return mlir::success();
}

std::unique_ptr<llvm::TargetMachine> vaec::createTargetMachine(const std::string &tripleName,
                                                               const std::string &cpu,
                                                               const std::string &extraFeatures,
                                                               std::string &error) {
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  std::string triple = tripleName.empty() ? llvm::sys::getDefaultTargetTriple() : tripleName;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpuName = cpu;
  std::string features;
  if (cpuName.empty() && tripleName.empty()) {
    cpuName = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  }
  if (!cpuName.empty()) {
    std::unique_ptr<llvm::MCSubtargetInfo> subtarget(target->createMCSubtargetInfo(triple, "", ""));
    if (!subtarget || !subtarget->isCPUStringValid(cpuName)) {
      error = "unknown CPU '" + cpuName + "' for " + triple + " (llc-19 -mcpu=help lists them)";
      return nullptr;
    }
  }
  if (!extraFeatures.empty()) {
    std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
        target->createMCSubtargetInfo(triple, cpuName, ""));
    llvm::SmallVector<llvm::StringRef> list;
    llvm::StringRef(extraFeatures).split(list, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef feature : list) {
      feature = feature.trim();
      bool known = llvm::any_of(
          subtarget->getAllProcessorFeatures(),
          [&](const llvm::SubtargetFeatureKV &kv) { return feature.drop_front() == kv.Key; });
      if ((!feature.starts_with("+") && !feature.starts_with("-")) || !known) {
        error = "unknown CPU feature '" + feature.str() + "' for " + triple +
                " (features are +name or -name; llc-19 -mattr=help lists them)";
        return nullptr;
      }
      features += feature.str() + ",";
    }
  }
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(triple, cpuName, features, options, llvm::Reloc::PIC_,
                                  std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    error = "cannot create a target machine for " + triple + " cpu " + cpuName;
  return machine;
}

/// Adds `const vae_model vae_model_desc` and its parameter table.
static void addDescriptor(llvm::Module &module, const ModelInfo &info) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *f64 = llvm::Type::getDoubleTy(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *shapeType = llvm::ArrayType::get(i64, kMaxRank);
  auto i32c = [&](int64_t v) { return llvm::ConstantInt::get(i32, v); };
  auto i64c = [&](int64_t v) { return llvm::ConstantInt::get(i64, v); };
  auto shape = [&](const std::vector<int64_t> &dims) {
    std::vector<llvm::Constant *> elems;
    for (int d = 0; d < kMaxRank; ++d)
      elems.push_back(i64c(d < int(dims.size()) ? dims[d] : 0));
    return llvm::ConstantArray::get(shapeType, elems);
  };
  auto string = [&](const std::string &s, const llvm::Twine &symbol) {
    auto *init = llvm::ConstantDataArray::getString(ctx, s);
    return new llvm::GlobalVariable(module, init->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, init, symbol);
  };

  // struct vae_param { ptr name; i64 offset, size; i32 rank, init;
  //                    i64 shape[4]; double init_bound; }
  auto *paramType =
      llvm::StructType::create(ctx, {ptr, i64, i64, i32, i32, shapeType, f64}, "struct.vae_param");
  std::vector<llvm::Constant *> params;
  for (const ModelInfo::Param &p : info.params) {
    int64_t size = 1;
    for (int64_t d : p.shape)
      size *= d;
    params.push_back(llvm::ConstantStruct::get(
        paramType, {string(p.name, "vae.param.name"), i64c(p.offset), i64c(size),
                    i32c(p.shape.size()), i32c(1 /*VAE_INIT_UNIFORM_FAN_IN*/), shape(p.shape),
                    llvm::ConstantFP::get(f64, 1.0 / std::sqrt(double(p.fanIn)))}));
  }
  auto *tableType = llvm::ArrayType::get(paramType, params.size());
  auto *table = new llvm::GlobalVariable(module, tableType, true, llvm::GlobalValue::PrivateLinkage,
                                         llvm::ConstantArray::get(tableType, params), "vae.params");

  // struct vae_hyperparams { float lr, kl_weight, ...; }: 8 floats.
  auto *f32 = llvm::Type::getFloatTy(ctx);
  auto *hyperType = llvm::ArrayType::get(f32, info.hyperparams.size());
  std::vector<llvm::Constant *> hyper;
  for (float value : info.hyperparams)
    hyper.push_back(llvm::ConstantFP::get(f32, value));

  // struct vae_model, field for field as in abi.h.
  auto *modelType = llvm::StructType::create(
      ctx, {i32, i32,       ptr, i64, i32, i32, shapeType, i64, i64, i64, f64, i64,
            ptr, i64,       i64, i64, f64, i64, i64,       i64, f64, f64, ptr, i32,
            i32, hyperType, i32, i32, f64, f64, f64,       f64, f64, i32, i32, i64},
      "struct.vae_model");
  int64_t inputSize = 1;
  for (int64_t d : info.inputShape)
    inputSize *= d;
  uint64_t structSize = module.getDataLayout().getTypeAllocSize(modelType);
  auto *model =
      llvm::ConstantStruct::get(modelType, {i32c(kAbiVersion),
                                            i32c(structSize),
                                            string(info.name, "vae.model.name"),
                                            i64c(info.batch),
                                            i32c(info.inputShape.size()),
                                            i32c(info.likelihood),
                                            shape(info.inputShape),
                                            i64c(inputSize),
                                            i64c(info.latentSize),
                                            i64c(info.decodeOutputs),
                                            llvm::ConstantFP::get(f64, info.likelihoodSigma),
                                            i64c(info.params.size()),
                                            table,
                                            i64c(info.paramFloats),
                                            i64c(info.stateFloats),
                                            i64c(info.arenaBytes),
                                            llvm::ConstantFP::get(f64, info.beta),
                                            i64c(info.warmupEpochs),
                                            i64c(info.epochs),
                                            i64c(info.seed),
                                            llvm::ConstantFP::get(f64, info.priorMean),
                                            llvm::ConstantFP::get(f64, info.priorStd),
                                            string(info.fingerprint, "vae.model.fingerprint"),
                                            i32c(info.optimizer),
                                            i32c(info.clipsGradients),
                                            llvm::ConstantArray::get(hyperType, hyper),
                                            i32c(info.lrSchedule),
                                            i32c(info.patience),
                                            llvm::ConstantFP::get(f64, info.lrWarmupEpochs),
                                            llvm::ConstantFP::get(f64, info.lrMin),
                                            llvm::ConstantFP::get(f64, info.lrStepEpochs),
                                            llvm::ConstantFP::get(f64, info.lrGamma),
                                            llvm::ConstantFP::get(f64, info.valFraction),
                                            i32c(info.device),
                                            i32c(info.gpuArch),
                                            i64c(info.likelihoodBins)});
  new llvm::GlobalVariable(module, modelType, true, llvm::GlobalValue::ExternalLinkage, model,
                           "vae_model_desc");
}

/// LLVM's -O3 pipeline for `machine`, minus what the MLIR pipeline has done
/// already: the code arrives vectorized and register-blocked, so LLVM's loop
/// and SLP vectorizers have nothing to find (and cost compile time). Its
/// unroller stays: unrolling the elementwise and optimizer loops is worth
/// 35 % of mnist_vae's training step on Zen 3 (3.8 against 5.9 ms).
static void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = false;
  tuning.LoopVectorization = false;
  tuning.SLPVectorization = false;
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);
  llvm::ModulePassManager passes =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  passes.run(module, modules);
}

/// The entry points share most of their kernels: the encoder's layers run in
/// encode, eval_elbo, score, grad_step and train_step, and grad_step and
/// train_step differ only in the optimizer. Each kernel arrives as its own
/// outlined OpenMP body, so LLVM's function merging, run before -O3, leaves
/// one body and turns the copies into tail calls: on mnist_vae 35 of 68
/// functions, 36 % of the IR, which -O3 and instruction selection then do
/// not see. A kernel's extra `jmp` costs nothing measurable.
static void mergeIdenticalFunctions(llvm::Module &module) {
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder;
  builder.registerModuleAnalyses(modules);
  llvm::ModulePassManager passes;
  passes.addPass(llvm::MergeFunctionsPass());
  passes.run(module, modules);
}

std::unique_ptr<llvm::Module> vaec::translateToLLVMIR(mlir::ModuleOp module, const ModelInfo &info,
                                                      llvm::TargetMachine &machine,
                                                      llvm::LLVMContext &context,
                                                      std::string &error) {
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, info.name);
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  llvmModule->setTargetTriple(machine.getTargetTriple().str());
  llvmModule->setDataLayout(machine.createDataLayout());
  addDescriptor(*llvmModule, info);
  mergeIdenticalFunctions(*llvmModule);
  return llvmModule;
}

std::unique_ptr<llvm::Module>
vaec::translateAndOptimize(mlir::ModuleOp module, const ModelInfo &info,
                           llvm::TargetMachine &machine, llvm::LLVMContext &context,
                           mlir::TimingScope &timer, std::string &error) {
  mlir::TimingScope translateTimer = timer.nest("translate to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule =
      translateToLLVMIR(module, info, machine, context, error);
  if (!llvmModule)
    return nullptr;
  translateTimer.stop();
  mlir::TimingScope optimizeTimer = timer.nest("LLVM -O3");
  optimize(*llvmModule, machine);
  return llvmModule;
}

bool vaec::optimizeAndEmitInParallel(llvm::Module &module,
                                     llvm::ArrayRef<std::unique_ptr<llvm::TargetMachine>> machines,
                                     llvm::ArrayRef<std::string> objectPaths, unsigned threads,
                                     std::string &error) {
  // Each partition travels as bitcode: LLVM IR belongs to one LLVMContext,
  // and a context is not shared between threads.
  std::vector<llvm::SmallVector<char, 0>> partitions;
  llvm::SplitModule(
      module, machines.size(),
      [&](std::unique_ptr<llvm::Module> part) {
        llvm::SmallVector<char, 0> &bitcode = partitions.emplace_back();
        llvm::raw_svector_ostream os(bitcode);
        llvm::WriteBitcodeToFile(*part, os);
      },
      /*PreserveLocals=*/false, /*RoundRobin=*/true);
  std::vector<std::string> errors(partitions.size());
  std::atomic<size_t> next{0};
  auto compile = [&](size_t i) {
    llvm::LLVMContext context;
    llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(llvm::StringRef(partitions[i].data(), partitions[i].size()),
                              "partition"),
        context);
    if (!part) {
      errors[i] = llvm::toString(part.takeError());
      return;
    }
    optimize(**part, *machines[i]);
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPaths[i], ec);
    if (ec) {
      errors[i] = "cannot write " + objectPaths[i] + ": " + ec.message();
      return;
    }
    (void)emitMachineCode(**part, *machines[i], /*assembly=*/false, os, errors[i]);
  };
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < std::max(1u, threads); ++t)
    workers.emplace_back([&] {
      for (size_t i = next++; i < partitions.size(); i = next++)
        compile(i);
    });
  for (std::thread &worker : workers)
    worker.join();
  for (const std::string &message : errors)
    if (!message.empty()) {
      error = message;
      return false;
    }
  return true;
}

bool vaec::emitMachineCode(llvm::Module &module, llvm::TargetMachine &machine, bool assembly,
                           llvm::raw_pwrite_stream &os, std::string &error) {
  llvm::legacy::PassManager passes;
  auto kind = assembly ? llvm::CodeGenFileType::AssemblyFile : llvm::CodeGenFileType::ObjectFile;
  // As llc: comments that name loops (`Inner Loop Header: Depth=2`), spills
  // and reloads (`64-byte Spill`) in the assembly.
  machine.Options.MCOptions.AsmVerbose = assembly;
  if (machine.addPassesToEmitFile(passes, os, nullptr, kind)) {
    error = "the target cannot emit this file type";
    return false;
  }
  passes.run(module);
  return true;
}

namespace {

/// Whether `triple` is another architecture than this machine's.
bool isCrossTriple(const llvm::Triple &triple) {
  return triple.getArch() != llvm::Triple(llvm::sys::getDefaultTargetTriple()).getArch();
}

/// Debian's multiarch name of `triple` (aarch64-linux-gnu) and the
/// architecture in its package names (arm64).
std::pair<std::string, std::string> debianArchOf(const llvm::Triple &triple) {
  std::string arch = triple.getArchName().str();
  std::string debian = llvm::StringSwitch<std::string>(arch)
                           .Case("aarch64", "arm64")
                           .Case("x86_64", "amd64")
                           .Case("riscv64", "riscv64")
                           .Case("powerpc64le", "ppc64el")
                           .Default(arch);
  return {arch + "-linux-gnu", debian};
}

/// The first of `paths` that exists, or "".
std::string firstExisting(std::initializer_list<std::string> paths) {
  for (const std::string &path : paths)
    if (llvm::sys::fs::exists(path))
      return path;
  return "";
}

/// Where libomp for a cross `triple` is, if it is anywhere we know of.
std::string crossLibompDir(const llvm::Triple &triple) {
  auto [multiarch, debian] = debianArchOf(triple);
  std::string found = firstExisting(
      {"/usr/lib/" + multiarch + "/libomp.so", "/usr/" + multiarch + "/lib/libomp.so"});
  return found.empty() ? "" : llvm::sys::path::parent_path(found).str();
}

} // namespace

std::string vaec::missingForLink(const std::string &tripleName, bool openmp) {
  llvm::Triple triple(llvm::Triple::normalize(
      tripleName.empty() ? llvm::sys::getDefaultTargetTriple() : tripleName));
  if (!isCrossTriple(triple))
    return "";
  auto [multiarch, debian] = debianArchOf(triple);
  if (!triple.isOSLinux())
    return "vaec links shared libraries for Linux only; for " + triple.str() +
           " use --emit=obj and link the object with that system's tools";
  if (!llvm::sys::findProgramByName("clang-19") && !llvm::sys::findProgramByName("clang"))
    return "linking for " + triple.str() + " needs clang-19 (Debian: clang-19)";
  if (!llvm::sys::findProgramByName("ld.lld-19") && !llvm::sys::findProgramByName("ld.lld"))
    return "linking for " + triple.str() +
           " needs LLVM's linker ld.lld (Debian: lld-19, which tools/install-deps.sh installs)";
  if (firstExisting({"/usr/" + multiarch + "/lib/libc.so", "/usr/lib/" + multiarch + "/libc.so"})
          .empty())
    return "linking for " + triple.str() + " needs its C library, not found in /usr/" + multiarch +
           "/lib (Debian: libc6-dev-" + debian +
           "-cross, which tools/install-deps.sh installs for arm64)";
  if (openmp && crossLibompDir(triple).empty())
    return "the parallel training step calls LLVM's OpenMP runtime, and no libomp for " +
           triple.str() + " was found (/usr/lib/" + multiarch + "/libomp.so); add --no-parallel " +
           "for a single-threaded library, or install libomp for " + debian;
  return "";
}

bool vaec::linkSharedLibrary(llvm::ArrayRef<std::string> objectPaths, const std::string &outputPath,
                             const std::string &tripleName, bool openmp, bool launches,
                             std::string &error) {
  llvm::Triple triple(llvm::Triple::normalize(
      tripleName.empty() ? llvm::sys::getDefaultTargetTriple() : tripleName));
  bool cross = isCrossTriple(triple);
  if (cross) {
    error = missingForLink(tripleName, openmp);
    if (!error.empty())
      return false;
  }
  std::string driver;
  for (const char *name : {"clang-19", "clang", "cc"})
    if (auto found = llvm::sys::findProgramByName(name)) {
      driver = *found;
      break;
    }
  if (driver.empty()) {
    error = "no linker driver found: install clang-19 (tools/install-deps.sh) "
            "or put clang or cc on PATH";
    return false;
  }
  // -z defs: an unresolved symbol is a link error here, not a dlopen error
  // on the user's machine. A GPU library's launcher (mgpu*) is the loading
  // program's: libvaert in vae-train, exported to the libraries it opens.
  llvm::SmallVector<llvm::StringRef> args = {driver, "-shared", "-o", outputPath};
  for (const std::string &object : objectPaths)
    args.push_back(object);
  if (!launches)
    args.push_back("-Wl,-z,defs");
  args.push_back("-lm");
  // Another architecture: clang's cross driver finds Debian's cross C
  // library (/usr/aarch64-linux-gnu) by the target; the system linker
  // cannot link for it, LLVM's can.
  std::string targetFlag = "--target=" + debianArchOf(triple).first;
  if (cross)
    args.append({targetFlag, "-fuse-ld=lld"});
  // The parallel loops call libomp (LLVM's, the one MLIR's OpenMP lowering
  // targets); the rpath lets dlopen find it outside the linker's path.
  std::string libompDir = cross ? crossLibompDir(triple) : VAEC_LIBOMP_DIR;
  std::string searchPath = "-L" + libompDir, runPath = "-Wl,-rpath," + libompDir;
  if (openmp)
    args.append({searchPath, runPath, "-lomp"});
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(driver, args, std::nullopt, {}, 0, 0, &message);
  if (rc != 0) {
    error = "linking " + outputPath + " with " + driver + " failed" +
            (message.empty() ? "" : ": " + message);
    return false;
  }
  return true;
}
