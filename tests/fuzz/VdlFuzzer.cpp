//===- VdlFuzzer.cpp - libFuzzer target for the whole compiler ------------===//
//
// Feeds arbitrary bytes through lexer, parser and Sema and, when Sema accepts
// the program, through everything vaec does up to LLVM IR: MLIRGen, the
// verifier, autodiff, lowering, fusion, bufferization, memory planning, tiling
// and vectorization, the LLVM dialect, translation with the descriptor and
// LLVM's -O3. (Machine code and linking are LLVM's and the system linker's.)
// Any crash, sanitizer report or hang is a bug; so is a program that Sema
// accepts but that does not verify or that a pass rejects: Sema is the last
// place a user's mistake may be reported.
//
// The batch is overridden to 3 (odd, so the tile-size fallbacks run) to keep
// each input fast whatever batch the mutated text asks for.
//
//===----------------------------------------------------------------------===//

#include "codegen/Pipeline.h"
#include "codegen/common/TargetDescription.h"
#include "codegen/llvm/Target.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "ir/VDLDialect.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void bug(const char *what) {
  std::fprintf(stderr, "vdl-fuzz: Sema accepted a program that %s\n", what);
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.vdl"),
      llvm::SMLoc());
  llvm::StringRef text = sourceMgr.getMemoryBuffer(1)->getBuffer();
  vaec::DiagnosticEngine diags(sourceMgr, llvm::nulls());
  vaec::Parser parser(text, "fuzz.vdl", diags);
  vaec::Module module = parser.parseModule();
  if (diags.hadError() || !vaec::analyze(module, diags, /*batchOverride=*/3))
    return 0;

  mlir::DialectRegistry registry;
  vaec::registerCodegenDialects(registry);
  mlir::MLIRContext context(registry);
  context.disableMultithreading();
  // Pass diagnostics would go to stderr; keep the fuzzer's output clean.
  context.getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
  mlir::OwningOpRef<mlir::ModuleOp> ir = vaec::mlirGen(context, module, sourceMgr);
  if (mlir::failed(mlir::verify(*ir)))
    bug("does not verify");
  std::string error;
  static std::unique_ptr<llvm::TargetMachine> machine =
      vaec::createTargetMachine("", "", "", error);
  if (!machine)
    bug(("has no target machine: " + error).c_str());
  (*ir)->setAttr(vaec::vdl::VDLDialect::kTargetAttrName,
                 vaec::describeTarget(&context, *machine, /*host=*/true));
  mlir::PassManager pm(&context);
  vaec::buildLoweringPipeline(pm, vaec::Stage::LLVMDialect);
  if (mlir::failed(pm.run(*ir)))
    bug("a pass of the pipeline rejects");

  vaec::ModelInfo info = vaec::modelInfo(module);
  if (mlir::failed(vaec::takeLayout(*ir, info)))
    bug("left no parameter layout");
  llvm::LLVMContext llvmContext;
  mlir::DefaultTimingManager timing; // disabled: no report
  mlir::TimingScope timer = timing.getRootScope();
  if (!vaec::translateAndOptimize(*ir, info, *machine, llvmContext, timer, error))
    bug(("cannot be translated to LLVM IR: " + error).c_str());
  return 0;
}
