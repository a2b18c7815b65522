//===- Driver.cpp - the vaec compilation pipeline -------------------------===//

#include "tools/driver/Driver.h"
#include "tools/driver/Descriptor.h"
#include "tools/driver/Stages.h"

#include "codegen/Pipeline.h"
#include "codegen/common/TargetDescription.h"
#include "codegen/llvm/Target.h"
#include "runtime/include/vae/abi.h"

#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "ir/VDLDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

using namespace vaec;

/// The frontend is not an MLIR pass, but `--print-ir-after=vdl-import` and
/// `--print-ir-after-all` treat it as the first one.
static constexpr llvm::StringLiteral kImportPassName = "vdl-import";

const std::vector<std::string> &vaec::allEmitStages() {
  static const std::vector<std::string> stages = {
      "ast",  "vdl",          "grad", "linalg", "fused", "memref", "gpu",
      "nvvm", "llvm-dialect", "ptx",  "llvm",   "asm",   "obj",    "so"};
  return stages;
}

const std::vector<std::string> &vaec::availableEmitStages() {
  static const std::vector<std::string> stages = {
      "ast",  "vdl",          "grad", "linalg", "fused", "memref", "gpu",
      "nvvm", "llvm-dialect", "ptx",  "llvm",   "asm",   "obj",    "so"};
  return stages;
}

namespace {

/// 90 for "sm_90" (and "sm_90a"); 0 for what is not sm_50 or later.
int gpuArchNumber(llvm::StringRef arch) {
  unsigned number = 0;
  if (!arch.consume_front("sm_"))
    return 0;
  arch.consume_back("a");
  if (arch.getAsInteger(10, number) || number < 50 || number > 1000)
    return 0;
  return int(number);
}

int fail(const llvm::Twine &message) {
  llvm::errs() << "vaec: error: " << message << "\n";
  return 1;
}

/// Pass arguments in `pm`, nested pipelines included, from its textual form.
std::vector<std::string> passNames(mlir::PassManager &pm) {
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  // Names are runs of [a-z0-9._-]; options in {...} are skipped. Each
  // once, where it first runs.
  std::vector<std::string> names;
  std::string current;
  int braces = 0;
  for (char c : text + " ") {
    braces += (c == '{') - (c == '}');
    if (braces == 0 && (llvm::isAlnum(c) || c == '-' || c == '_' || c == '.')) {
      current += c;
    } else {
      // Op anchors (`builtin.module`, `func.func`, `any`) are not passes.
      if (!current.empty() && current != "any" && current.find('.') == std::string::npos &&
          std::find(names.begin(), names.end(), current) == names.end())
        names.push_back(current);
      current.clear();
    }
  }
  return names;
}

std::string defaultOutput(const DriverOptions &options) {
  if (options.emit != "so" && options.emit != "obj")
    return "-";
  llvm::StringRef stem =
      options.input == "-" ? llvm::StringRef("a") : llvm::sys::path::stem(options.input);
  return (stem + (options.emit == "so" ? ".so" : ".o")).str();
}

/// Per entry point: FLOPs, kernels and bytes moved before and after
/// fusion, arena bytes against the lower bound and the no-reuse total. The
/// attributes the passes left for it are removed.
void printStats(mlir::ModuleOp module) {
  using vdl::VDLDialect;
  llvm::errs() << "vaec stats:\n";
  auto number = [](mlir::DictionaryAttr dict, llvm::StringRef key) -> int64_t {
    auto value = dict ? dict.getAs<mlir::IntegerAttr>(key) : mlir::IntegerAttr();
    return value ? value.getInt() : 0;
  };
  // func.func up to --emit=memref, llvm.func after (which keeps the attributes).
  module.walk([&](mlir::FunctionOpInterface func) {
    std::string name = func.getName().str();
    if (auto flops = func->getAttrOfType<mlir::IntegerAttr>(VDLDialect::kFlopsAttrName))
      llvm::errs() << fmt::format("  @{}: {} FLOPs per batch\n", name, flops.getInt());
    if (auto lines = func->getAttrOfType<mlir::DictionaryAttr>(VDLDialect::kFlopsByLineAttrName)) {
      std::string list;
      for (mlir::NamedAttribute line : lines)
        list += fmt::format(" {} {}", line.getName().str(),
                            mlir::cast<mlir::IntegerAttr>(line.getValue()).getInt());
      llvm::errs() << fmt::format("  @{}: FLOPs by line:{}\n", name, list);
    }
    if (auto fusion = func->getAttrOfType<mlir::DictionaryAttr>(VDLDialect::kFusionAttrName)) {
      // vdl-tile-and-vectorize's count: loop nests, once matmul epilogues
      // (bias broadcast, activation) share the matmul's.
      std::string epilogues =
          fusion.get("kernels_after_epilogues")
              ? fmt::format(" -> {} (matmul epilogues)", number(fusion, "kernels_after_epilogues"))
              : "";
      llvm::errs() << fmt::format("  @{}: kernels {} -> {} (fusion){}, bytes moved {} -> {} "
                                  "(fusion)\n",
                                  name, number(fusion, "kernels_before"),
                                  number(fusion, "kernels_after"), epilogues,
                                  number(fusion, "bytes_before"), number(fusion, "bytes_after"));
    }
    if (auto plan = func->getAttrOfType<mlir::DictionaryAttr>(VDLDialect::kMemoryPlanAttrName))
      llvm::errs() << fmt::format("  @{}: arena {} bytes, lower bound {}, no reuse {}\n", name,
                                  number(plan, "arena_bytes"), number(plan, "lower_bound_bytes"),
                                  number(plan, "no_reuse_bytes"));
    for (llvm::StringRef name : {VDLDialect::kFlopsAttrName, VDLDialect::kFlopsByLineAttrName,
                                 VDLDialect::kFusionAttrName, VDLDialect::kMemoryPlanAttrName})
      func->removeAttr(name);
  });
}

/// The passes of vaec's pipeline for `options` (--emit, --target, the
/// --no-* switches) into `pm`.
void buildPipeline(mlir::OpPassManager &pm, const DriverOptions &options, Stage from = Stage::Vdl) {
  PipelineOptions pipeline;
  pipeline.countFlops = options.stats;
  pipeline.fusion = options.fusion;
  pipeline.memoryPlan = options.memoryPlan;
  pipeline.parallel = options.parallel;
  pipeline.convAlgorithm = options.conv;
  pipeline.gpu = options.target == "nvptx" || options.target == "nvptx-emulated";
  pipeline.emulateGpu = options.target == "nvptx-emulated";
  pipeline.gpuArch = options.gpuArch;
  buildLoweringPipeline(pm, from, mlirStageOf(options.emit), pipeline);
}

/// -g: a DISubprogram on every llvm.func, so that the VDL locations the ops
/// carry become LLVM's !dbg line table (file:line of the model). LLVM
/// requires a location on every call in such a function: an op the
/// lowering left without one (an outlined kernel's call, a runtime call)
/// takes its function's, and a function without one its first op's.
mlir::LogicalResult addLineTables(mlir::ModuleOp module) {
  auto fileLocation = [](mlir::Location loc) {
    return static_cast<bool>(loc->findInstanceOf<mlir::FileLineColLoc>());
  };
  module.walk([&](mlir::LLVM::LLVMFuncOp func) {
    if (func.isExternal())
      return;
    mlir::Location fallback = func.getLoc();
    if (!fileLocation(fallback))
      func.walk([&](mlir::Operation *op) {
        if (fileLocation(op->getLoc())) {
          fallback = op->getLoc();
          return mlir::WalkResult::interrupt();
        }
        return mlir::WalkResult::advance();
      });
    if (!fileLocation(fallback))
      return;
    func->setLoc(fallback);
    func.walk([&](mlir::Operation *op) {
      if (!fileLocation(op->getLoc()))
        op->setLoc(fallback);
    });
  });
  // The source by its absolute path: perf annotate and gdb find it from
  // any directory.
  mlir::AttrTypeReplacer absolutePaths;
  absolutePaths.addReplacement([](mlir::FileLineColLoc loc) -> mlir::Attribute {
    llvm::SmallString<256> path(loc.getFilename().getValue());
    if (llvm::sys::fs::make_absolute(path))
      return loc;
    llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
    return mlir::FileLineColLoc::get(loc.getContext(), path, loc.getLine(), loc.getColumn());
  });
  absolutePaths.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/false,
                                             /*replaceLocs=*/true, /*replaceTypes=*/false);
  mlir::PassManager pm(module.getContext(), mlir::ModuleOp::getOperationName());
  pm.addPass(mlir::LLVM::createDIScopeForLLVMFuncOpPass());
  if (mlir::failed(pm.run(module)))
    return mlir::failure();
  // MLIR 19's DIScopeForLLVMFuncOp gives each subprogram its location's
  // column as its scope line, which DWARF's line table then names as a line
  // (a 25-line model had code at lines 31 and 47, the columns of its
  // layers): the scope line is the line.
  mlir::AttrTypeReplacer scopeLines;
  scopeLines.addReplacement([](mlir::LLVM::DISubprogramAttr sp) -> mlir::Attribute {
    if (sp.getScopeLine() == sp.getLine())
      return sp;
    return mlir::LLVM::DISubprogramAttr::get(sp.getContext(), sp.getId(), sp.getCompileUnit(),
                                             sp.getScope(), sp.getName(), sp.getLinkageName(),
                                             sp.getFile(), sp.getLine(), sp.getLine(),
                                             sp.getSubprogramFlags(), sp.getType());
  });
  scopeLines.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true, /*replaceLocs=*/true,
                                          /*replaceTypes=*/false);
  return mlir::success();
}

} // namespace

std::vector<std::string> vaec::pipelinePassNames(const DriverOptions &options) {
  mlir::DialectRegistry registry;
  registerCodegenDialects(registry);
  mlir::MLIRContext context(registry);
  // Anchored on the module, so --dump-pass-pipeline prints a pipeline
  // that vae-opt --pass-pipeline takes back.
  mlir::PassManager pm(&context, mlir::ModuleOp::getOperationName());
  if (options.emit != "ast")
    buildPipeline(pm, options);
  std::vector<std::string> names = passNames(pm);
  names.insert(names.begin(), kImportPassName.str());
  return names;
}

namespace {

/// The flags that contradict each other or the build, checked before any
/// file is read; the exit code where one does.
std::optional<int> checkOptions(const DriverOptions &options) {
  const auto &all = allEmitStages();
  const auto &available = availableEmitStages();
  if (std::find(all.begin(), all.end(), options.emit) == all.end())
    return fail("unknown stage '" + options.emit + "' for --emit");
  if (std::find(available.begin(), available.end(), options.emit) == available.end()) {
    std::string list;
    for (const std::string &stage : available)
      list += (list.empty() ? "" : "|") + stage;
    return fail("--emit=" + options.emit + " is not implemented yet; this build stops after " +
                list);
  }
  if (options.target == "nvptx" && gpuArchNumber(options.gpuArch) == 0)
    return fail("--gpu-arch: '" + options.gpuArch +
                "' is not a compute capability from sm_50 on (sm_80, sm_86, sm_89, sm_90, ...)");
  bool gpuStage = options.emit == "gpu" || options.emit == "nvvm" || options.emit == "ptx";
  if (gpuStage && options.target != "nvptx")
    return fail("--emit=" + options.emit + " is a stage of --target=nvptx only");
  if (options.target == "nvptx" && !options.targetTriple.empty() &&
      !isHostTarget(options.targetTriple, ""))
    return fail("--target=nvptx builds for this machine's CPU and an NVIDIA GPU; "
                "--target-triple is for --target=cpu");
  if (options.batch && (*options.batch < 1 || *options.batch > Limits::kMaxBatch))
    return fail("--batch must be in [1, " + llvm::Twine(Limits::kMaxBatch) + "]");
  return std::nullopt;
}

/// One run of vaec: the source (VDL or IR vaec printed), the module, and
/// each step from loading it to writing the stage asked for. Methods that
/// return a `Stop` return the exit code where the compile ends there.
class Compilation {
public:
  using Stop = std::optional<int>;

  explicit Compilation(const DriverOptions &options) : options(options) {}

  /// Opens the input and decides what it is and where the output goes.
  Stop open() {
    auto file = mlir::openInputFile(options.input, &errorMessage);
    if (!file)
      return fail(errorMessage);
    filename = options.input == "-" ? "<stdin>" : options.input;
    // Keep the identifier the FileLineColLocs use, so MLIR diagnostics find
    // the source line too.
    auto buffer = llvm::MemoryBuffer::getMemBufferCopy(file->getBuffer(), filename);
    sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    text = sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();
    outputPath = options.output.empty() ? defaultOutput(options) : options.output;
    // IR that vaec printed (--emit=STAGE) carries on from its stage.
    irInput = llvm::StringRef(filename).ends_with(".mlir");
    if (irInput && options.emit == "ast")
      return fail("--emit=ast needs the VDL source; '" + filename + "' is IR");
    if (irInput && options.batch)
      return fail("--batch: the shapes of '" + filename +
                  "' are those of its batch already; compile the VDL source for another");
    registerCodegenDialects(registry);
    context = std::make_unique<mlir::MLIRContext>(registry);
    // The entry points are lowered in parallel, except when IR is printed
    // (dumps stay in pass order).
    if (options.printIRAfterAll || !options.printIRAfter.empty() || options.singleThreaded)
      context->disableMultithreading();
    context->printOpOnDiagnostic(false); // the source line says enough
    diagHandler = std::make_unique<mlir::SourceMgrDiagnosticHandler>(sourceMgr, context.get());
    // A diagnostic at a line wider than a terminal (the module attributes
    // of printed IR run to kilobytes) is printed without its source line.
    wideLines = std::make_unique<mlir::ScopedDiagnosticHandler>(
        context.get(), [this](mlir::Diagnostic &diagnostic) -> mlir::LogicalResult {
          if (sourceLineFits(diagnostic.getLocation()))
            return mlir::failure(); // the SourceMgr handler prints it
          diagHandler->emitDiagnostic(diagnostic.getLocation(), diagnostic.str(),
                                      diagnostic.getSeverity(), /*displaySourceLine=*/false);
          for (mlir::Diagnostic &note : diagnostic.getNotes())
            diagHandler->emitDiagnostic(note.getLocation(), note.str(), note.getSeverity(),
                                        sourceLineFits(note.getLocation()));
          return mlir::success();
        });
    // --remarks: each entry point lowers the same layers, so one remark per
    // location and text (handlers run newest first; a duplicate stops here).
    if (options.remarks)
      remarkFilter = std::make_unique<mlir::ScopedDiagnosticHandler>(
          context.get(), [this](mlir::Diagnostic &diagnostic) -> mlir::LogicalResult {
            if (diagnostic.getSeverity() != mlir::DiagnosticSeverity::Remark)
              return mlir::failure();
            std::string key;
            llvm::raw_string_ostream os(key);
            os << diagnostic.getLocation() << ": " << diagnostic.str();
            return mlir::success(!seenRemarks.insert(os.str()).second);
          });
    return std::nullopt;
  }

  /// IR printed by vaec: its stage and the descriptor it carries.
  Stop loadIR() {
    module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, context.get());
    if (!module)
      return 1;
    auto stage = (*module)->getAttrOfType<mlir::StringAttr>(vdl::VDLDialect::kStageAttrName);
    auto descriptor =
        (*module)->getAttrOfType<mlir::DictionaryAttr>(vdl::VDLDialect::kDescriptorAttrName);
    bool mlirStage = stage && (mlirStageOf(stage.getValue()) != Stage::LLVMDialect ||
                               stage.getValue() == "llvm-dialect");
    if (!mlirStage)
      return fail("'" + filename +
                  "' has no vdl.stage naming an MLIR stage: vaec carries on "
                  "from IR it printed itself (vaec MODEL.vdl --emit=STAGE -o FILE.mlir)");
    // (The ops decide: vae-opt leaves the stage its input had.)
    from = stageOfOps(*module, mlirStageOf(stage.getValue()));
    llvm::StringRef at = stageName(from);
    std::string problem;
    if (!descriptor || !descriptorFromAttr(descriptor, info, problem))
      return fail("'" + filename + "' lacks what the library's descriptor needs: " +
                  (descriptor ? problem : "it has no vdl.descriptor") +
                  " (print the IR with vaec --emit=STAGE)");
    if (mlirStageOf(options.emit) < from)
      return fail("'" + filename + "' is IR of stage " + at.str() + "; --emit=" + options.emit +
                  " comes before it");
    bool gpuIR = from == Stage::Gpu || from == Stage::Nvvm;
    if (gpuIR && options.target != "nvptx")
      return fail("'" + filename + "' is IR of stage " + at.str() +
                  ", which only --target=nvptx carries on from");
    return std::nullopt;
  }

  /// VDL: parsed, checked, and imported as the vdl dialect (or printed as
  /// the checked AST for --emit=ast).
  Stop loadVDL() {
    DiagnosticEngine diags(sourceMgr, llvm::errs());
    Parser parser(text, filename, diags);
    Module ast = parser.parseModule();
    bool ok = !diags.hadError() && analyze(ast, diags, options.batch);
    diags.finish();
    if (!ok)
      return 1;
    if (options.emit == "ast") {
      auto output = mlir::openOutputFile(outputPath, &errorMessage);
      if (!output)
        return fail(errorMessage);
      dumpAST(ast, sourceMgr, output->os());
      output->keep();
      return 0;
    }
    module = mlirGen(*context, ast, sourceMgr);
    if (mlir::failed(mlir::verify(*module)))
      return fail("internal error: the frontend produced invalid IR");
    info = modelInfo(ast);
    info.fingerprint = modelFingerprint(text, filename, info);
    (*module)->setAttr(vdl::VDLDialect::kDescriptorAttrName, descriptorAttr(context.get(), info));
    return std::nullopt;
  }

  /// What every code generation pass reads of the CPU (#vdl.target), and
  /// whether they explain themselves (vdl.remarks).
  Stop setTarget() {
    if (options.remarks)
      (*module)->setAttr(vdl::VDLDialect::kRemarksAttrName, mlir::UnitAttr::get(context.get()));
    machine =
        createTargetMachine(options.targetTriple, options.cpu, options.features, errorMessage);
    if (!machine)
      return fail(errorMessage);
    // A library for another architecture: what its link needs is checked
    // now, not after seconds of compiling.
    if (options.emit == "so") {
      std::string missing = missingForLink(options.targetTriple, options.parallel);
      if (!missing.empty())
        return fail(missing);
    }
    (*module)->setAttr(
        vdl::VDLDialect::kTargetAttrName,
        describeTarget(context.get(), *machine, isHostTarget(options.targetTriple, options.cpu)));
    return std::nullopt;
  }

  Stop runPasses();
  Stop emitIR();
  int emitLLVM();
  int emitLibrary(std::unique_ptr<llvm::Module> llvmModule);

private:
  /// --print-ir-after and --print-ir-after-all on the pass manager; an
  /// unknown pass name is an error that lists the pipeline's.
  Stop setUpIRPrinting(mlir::PassManager &pm);

  const DriverOptions &options;
  std::string errorMessage, filename, outputPath;
  llvm::SourceMgr sourceMgr;
  llvm::StringRef text;
  bool irInput = false;
  mlir::DialectRegistry registry;
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::SourceMgrDiagnosticHandler> diagHandler;
  std::unique_ptr<mlir::ScopedDiagnosticHandler> wideLines, remarkFilter;

  /// Whether the source line at `location`, if any, is at most 200 columns.
  bool sourceLineFits(mlir::Location location) const {
    auto fileLine = llvm::dyn_cast<mlir::FileLineColLoc>(location);
    if (!fileLine || fileLine.getLine() == 0)
      return true;
    for (unsigned id = 1; id <= sourceMgr.getNumBuffers(); ++id) {
      const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(id);
      if (buffer->getBufferIdentifier() != fileLine.getFilename().getValue())
        continue;
      llvm::SmallVector<llvm::StringRef> lines;
      buffer->getBuffer().split(lines, '\n', int(fileLine.getLine()));
      return lines.size() < fileLine.getLine() || lines[fileLine.getLine() - 1].size() <= 200;
    }
    return true;
  }
  llvm::StringSet<> seenRemarks;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  ModelInfo info;
  Stage from = Stage::Vdl;
  std::unique_ptr<llvm::TargetMachine> machine;
  // --timing: one report, the pass pipeline nested in it and then the LLVM
  // stages (translation, -O3, instruction selection, linking) that follow.
  mlir::DefaultTimingManager timing;
  mlir::TimingScope rootTimer;
  llvm::LLVMContext llvmContext;

public:
  bool fromIR() const { return irInput; }
};

Compilation::Stop Compilation::setUpIRPrinting(mlir::PassManager &pm) {
  // Every name given to --print-ir-after must be a pass of this pipeline.
  std::vector<std::string> known = passNames(pm);
  known.insert(known.begin(), kImportPassName.str());
  llvm::StringSet<> printAfter;
  for (const std::string &name : options.printIRAfter) {
    if (std::find(known.begin(), known.end(), name) == known.end())
      return fail(fmt::format("--print-ir-after: '{}' is not a pass of the pipeline to "
                              "--emit={}; its passes, in order: {}",
                              name, options.emit, fmt::join(known, ", ")));
    printAfter.insert(name);
  }
  if (options.printIRAfterAll || printAfter.contains(kImportPassName)) {
    llvm::errs() << "// -----// IR Dump After VDLImport (" << kImportPassName << ") //----- //\n";
    module->print(llvm::errs());
    llvm::errs() << "\n";
  }
  if (options.printIRAfterAll || !printAfter.empty()) {
    bool everyPass = options.printIRAfterAll;
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/[](mlir::Pass *, mlir::Operation *) { return false; },
        /*shouldPrintAfterPass=*/
        [everyPass, printAfter](mlir::Pass *pass, mlir::Operation *) {
          return everyPass || printAfter.contains(pass->getArgument());
        },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  return std::nullopt;
}

/// The MLIR pass pipeline from the input's stage to the one asked for.
Compilation::Stop Compilation::runPasses() {
  mlir::PassManager pm(context.get(), mlir::ModuleOp::getOperationName());
  // Verifying the whole module after each of ~40 passes is 8 % of a compile;
  // without --verify-each it is verified once, after the last pass.
  pm.enableVerifier(options.verifyEach);
  buildPipeline(pm, options, from);
  if (options.dumpPassPipeline)
    pm.dump(); // (as mlir-opt --dump-pass-pipeline: to stderr, then on)
  if (Stop stop = setUpIRPrinting(pm))
    return stop;
  timing.setEnabled(options.timing);
  rootTimer = timing.getRootScope();
  {
    mlir::TimingScope passesTimer = rootTimer.nest("MLIR pass pipeline");
    pm.enableTiming(passesTimer);
    if (mlir::failed(pm.run(*module)))
      return 1;
    if (!options.verifyEach && mlir::failed(mlir::verify(*module)))
      return fail("internal error: the pass pipeline produced invalid IR (--verify-each "
                  "names the pass)");
    if (options.debugInfo && mlirStageOf(options.emit) == Stage::LLVMDialect &&
        mlir::failed(addLineTables(*module)))
      return 1;
  }
  if (options.stats) {
    printStats(*module);
    if (auto arena =
            (*module)->getAttrOfType<mlir::IntegerAttr>(vdl::VDLDialect::kArenaBytesAttrName))
      llvm::errs() << fmt::format("  arena: {} bytes\n", arena.getInt());
  }
  return std::nullopt;
}

/// The stages printed as MLIR text (where `vaec FILE.mlir` carries on from)
/// and PTX; nothing for the LLVM stages.
Compilation::Stop Compilation::emitIR() {
  bool textIR = options.emit == "vdl" || options.emit == "grad" || options.emit == "linalg" ||
                options.emit == "fused" || options.emit == "memref" || options.emit == "gpu" ||
                options.emit == "nvvm" || options.emit == "llvm-dialect";
  if (textIR) {
    (*module)->setAttr(vdl::VDLDialect::kStageAttrName,
                       mlir::StringAttr::get(context.get(), stageName(mlirStageOf(options.emit))));
    auto output = mlir::openOutputFile(outputPath, &errorMessage);
    if (!output)
      return fail(errorMessage);
    mlir::OpPrintingFlags flags;
    if (options.locations)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false)
          .useLocalScope(); // inline loc(...) instead of #loc aliases
    module->print(output->os(), flags);
    output->os() << "\n";
    output->keep();
    return 0;
  }
  if (options.emit == "ptx") {
    auto output = mlir::openOutputFile(outputPath, &errorMessage);
    if (!output)
      return fail(errorMessage);
    for (auto binary : module->getOps<mlir::gpu::BinaryOp>())
      for (mlir::Attribute object : binary.getObjects())
        // The embedded text ends in the NUL that cuModuleLoadData needs.
        output->os() << llvm::cast<mlir::gpu::ObjectAttr>(object).getObject().getValue().rtrim(
            '\0');
    output->keep();
    return 0;
  }
  return std::nullopt;
}

/// LLVM IR, assembly, an object or a library.
int Compilation::emitLLVM() {
  if (options.target == "nvptx") {
    info.device = VAE_DEVICE_CUDA;
    info.gpuArch = gpuArchNumber(options.gpuArch);
  }
  if (mlir::failed(takeLayout(*module, info)))
    return 1;
  if (options.emit == "so") {
    mlir::TimingScope translateTimer = rootTimer.nest("translate to LLVM IR");
    auto llvmModule = translateToLLVMIR(*module, info, *machine, llvmContext, errorMessage);
    if (!llvmModule)
      return fail(errorMessage);
    translateTimer.stop();
    return emitLibrary(std::move(llvmModule));
  }
  auto llvmModule =
      translateAndOptimize(*module, info, *machine, llvmContext, rootTimer, errorMessage);
  if (!llvmModule)
    return fail(errorMessage);
  auto output = mlir::openOutputFile(outputPath, &errorMessage);
  if (!output)
    return fail(errorMessage);
  if (options.emit == "llvm") {
    llvmModule->print(output->os(), nullptr);
  } else {
    mlir::TimingScope emitTimer = rootTimer.nest("LLVM machine code");
    if (!emitMachineCode(*llvmModule, *machine, options.emit == "asm", output->os(), errorMessage))
      return fail(errorMessage);
  }
  output->keep();
  return 0;
}

/// A library: the module in 4 parts, -O3 and machine code on every core
/// (up to 4), then one link. (Always 4 parts: the partition decides the
/// code, and the library's bytes must not depend on the cores.)
int Compilation::emitLibrary(std::unique_ptr<llvm::Module> llvmModule) {
  if (outputPath == "-")
    return fail("a shared library cannot be written to stdout; use -o FILE.so");
  bool openmp = llvmModule->getFunction("__kmpc_fork_call") != nullptr;
  bool launches = llvmModule->getFunction("mgpuLaunchKernel") != nullptr;
  constexpr unsigned kPartitions = 4;
  unsigned threads = options.singleThreaded
                         ? 1u
                         : std::clamp(std::thread::hardware_concurrency(), 1u, kPartitions);
  std::vector<std::unique_ptr<llvm::TargetMachine>> machines;
  std::vector<std::string> objectPaths;
  std::vector<llvm::FileRemover> removers;
  removers.reserve(kPartitions);
  for (unsigned i = 0; i < kPartitions; ++i) {
    machines.push_back(
        createTargetMachine(options.targetTriple, options.cpu, options.features, errorMessage));
    if (!machines.back())
      return fail(errorMessage);
    llvm::SmallString<128> objectPath;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile("vaec", "o", objectPath))
      return fail("cannot create a temporary object file: " + ec.message());
    objectPaths.push_back(objectPath.str().str());
    removers.emplace_back(objectPath);
  }
  {
    mlir::TimingScope emitTimer =
        rootTimer.nest("LLVM -O3 and machine code (" + std::to_string(threads) + " threads)");
    if (!optimizeAndEmitInParallel(*llvmModule, machines, objectPaths, threads, errorMessage))
      return fail(errorMessage);
  }
  mlir::TimingScope linkTimer = rootTimer.nest("link (clang-19 -shared)");
  if (!linkSharedLibrary(objectPaths, outputPath, options.targetTriple, openmp, launches,
                         errorMessage))
    return fail(errorMessage);
  return 0;
}

} // namespace

int vaec::runDriver(const DriverOptions &options) {
  if (std::optional<int> code = checkOptions(options))
    return *code;
  Compilation compilation(options);
  if (std::optional<int> code = compilation.open())
    return *code;
  if (std::optional<int> code = compilation.fromIR() ? compilation.loadIR() : compilation.loadVDL())
    return *code;
  if (std::optional<int> code = compilation.setTarget())
    return *code;
  if (std::optional<int> code = compilation.runPasses())
    return *code;
  if (std::optional<int> code = compilation.emitIR())
    return *code;
  return compilation.emitLLVM();
}
