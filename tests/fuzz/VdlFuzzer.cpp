//===- VdlFuzzer.cpp - libFuzzer target for the VDL frontend --------------===//
//
// Feeds arbitrary bytes through lexer, parser, Sema and, when Sema accepts,
// MLIRGen and the MLIR verifier. Any crash, sanitizer report or hang is a bug;
// so is a program that Sema accepts but whose IR fails to verify.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "ir/VDLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.vdl"),
      llvm::SMLoc());
  llvm::StringRef text = sourceMgr.getMemoryBuffer(1)->getBuffer();
  vaec::DiagnosticEngine diags(sourceMgr, llvm::nulls());
  vaec::Parser parser(text, "fuzz.vdl", diags);
  vaec::Module module = parser.parseModule();
  if (diags.hadError() || !vaec::analyze(module, diags))
    return 0;

  mlir::MLIRContext context;
  context.disableMultithreading();
  // Verifier messages would go to stderr; keep the fuzzer's output clean.
  context.getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
  mlir::OwningOpRef<mlir::ModuleOp> ir = vaec::mlirGen(context, module, sourceMgr);
  if (mlir::failed(mlir::verify(*ir))) {
    std::fprintf(stderr, "Sema accepted a program whose IR does not verify\n");
    std::abort();
  }
  return 0;
}
