//===- Driver.cpp - the vaec compilation pipeline -------------------------===//

#include "codegen/Driver.h"

#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "ir/VDLDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace vaec;

/// The frontend is not an MLIR pass, but `--print-ir-after=vdl-import` and
/// `--print-ir-after-all` treat it as the first one.
static constexpr llvm::StringLiteral kImportPassName = "vdl-import";

const std::vector<std::string> &vaec::allEmitStages() {
  static const std::vector<std::string> stages = {
      "ast", "vdl", "grad", "fused", "linalg", "memref", "llvm-dialect",
      "llvm", "asm", "obj", "so"};
  return stages;
}

const std::vector<std::string> &vaec::availableEmitStages() {
  static const std::vector<std::string> stages = {"ast", "vdl"};
  return stages;
}

namespace {

int fail(const llvm::Twine &message) {
  llvm::errs() << "vaec: error: " << message << "\n";
  return 1;
}

/// Adds the passes that take the `vdl` IR of the frontend to `emit`. Empty
/// for `vdl` itself; later stages append lowering passes here.
void buildPipeline(mlir::PassManager &pm, llvm::StringRef emit,
                   bool stats) {
  (void)emit;
  if (stats)
    pm.addNestedPass<mlir::func::FuncOp>(vaec::createCountFlops());
}

void printStats(mlir::ModuleOp module) {
  llvm::errs() << "vaec stats:\n";
  module.walk([](mlir::func::FuncOp func) {
    auto flops = func->getAttrOfType<mlir::IntegerAttr>(
        vdl::VDLDialect::kFlopsAttrName);
    llvm::errs() << "  @" << func.getSymName() << ": "
                 << (flops ? flops.getInt() : 0) << " FLOPs per batch\n";
  });
}

} // namespace

int vaec::runDriver(const DriverOptions &options) {
  const auto &all = allEmitStages();
  const auto &available = availableEmitStages();
  if (std::find(all.begin(), all.end(), options.emit) == all.end())
    return fail("unknown stage '" + options.emit + "' for --emit");
  if (std::find(available.begin(), available.end(), options.emit) ==
      available.end()) {
    std::string list;
    for (const std::string &stage : available)
      list += (list.empty() ? "" : "|") + stage;
    return fail("--emit=" + options.emit +
                " is not implemented yet; this build stops after " + list);
  }
  if (options.batch && (*options.batch < 1 || *options.batch > Limits::kMaxBatch))
    return fail("--batch must be in [1, " + llvm::Twine(Limits::kMaxBatch) +
                "]");

  // Every name given to --print-ir-after must be a pass of the pipeline.
  vaec::registerPasses();
  llvm::StringSet<> printAfter;
  for (const std::string &name : options.printIRAfter) {
    if (name != kImportPassName && !mlir::PassInfo::lookup(name))
      return fail("--print-ir-after: unknown pass '" + name + "'");
    printAfter.insert(name);
  }

  std::string errorMessage;
  auto file = mlir::openInputFile(options.input, &errorMessage);
  if (!file)
    return fail(errorMessage);
  std::string filename = options.input == "-" ? "<stdin>" : options.input;
  llvm::SourceMgr sourceMgr;
  // Keep the identifier the FileLineColLocs use, so MLIR diagnostics find
  // the source line too.
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(file->getBuffer(), filename);
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  llvm::StringRef text =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();

  DiagnosticEngine diags(sourceMgr, llvm::errs());
  Parser parser(text, filename, diags);
  Module ast = parser.parseModule();
  bool ok = !diags.hadError() && analyze(ast, diags, options.batch);
  diags.finish();
  if (!ok)
    return 1;

  auto output = mlir::openOutputFile(options.output, &errorMessage);
  if (!output)
    return fail(errorMessage);

  if (options.emit == "ast") {
    dumpAST(ast, sourceMgr, output->os());
    output->keep();
    return 0;
  }

  mlir::MLIRContext context;
  context.disableMultithreading(); // small IR; keeps IR dumps in order
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlirGen(context, ast, sourceMgr);
  if (options.printIRAfterAll || printAfter.contains(kImportPassName)) {
    llvm::errs() << "// -----// IR Dump After VDLImport (" << kImportPassName
                 << ") //----- //\n";
    module->print(llvm::errs());
    llvm::errs() << "\n";
  }
  if (mlir::failed(mlir::verify(*module)))
    return fail("internal error: the frontend produced invalid IR");

  mlir::PassManager pm(&context);
  buildPipeline(pm, options.emit, options.stats);
  if (options.printIRAfterAll || !printAfter.empty()) {
    bool all = options.printIRAfterAll;
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/[](mlir::Pass *, mlir::Operation *) {
          return false;
        },
        /*shouldPrintAfterPass=*/
        [all, printAfter](mlir::Pass *pass, mlir::Operation *) {
          return all || printAfter.contains(pass->getArgument());
        },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  if (mlir::failed(pm.run(*module)))
    return 1;
  if (options.stats)
    printStats(*module);

  mlir::OpPrintingFlags flags;
  if (options.locations)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false)
        .useLocalScope(); // inline loc(...) instead of #loc aliases
  module->print(output->os(), flags);
  output->os() << "\n";
  output->keep();
  return 0;
}
