//===- Diagnostics.cpp - VDL error reporting ------------------------------===//

#include "frontend/Diagnostics.h"

#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace vaec;

void DiagnosticEngine::error(llvm::SMLoc loc, const llvm::Twine &message) {
  ++numErrors;
  auto [line, col] = sourceMgr.getLineAndColumn(loc);
  log.push_back(std::to_string(line) + ":" + std::to_string(col) + ": error: " + message.str());
  if (numErrors <= kMaxPrintedErrors)
    sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Error, message);
}

void DiagnosticEngine::note(llvm::SMLoc loc, const llvm::Twine &message) {
  if (numErrors <= kMaxPrintedErrors)
    sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Note, message);
}

void DiagnosticEngine::finish() {
  if (numErrors > kMaxPrintedErrors)
    os << numErrors << " errors in total; the first " << kMaxPrintedErrors << " are shown\n";
}
