//===- Diagnostics.h - VDL error reporting ----------------------*- C++ -*-===//
//
// Every VDL error is printed as `file:line:col: error: message` followed by
// the source line and a caret, through llvm::SourceMgr (the same format MLIR
// uses for verifier errors at a FileLineColLoc).
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_FRONTEND_DIAGNOSTICS_H
#define VAEC_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"

#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
class raw_ostream;
} // namespace llvm

namespace vaec {

class DiagnosticEngine {
public:
  /// Errors past this many are counted but not printed, so a file of garbage
  /// gives a readable report.
  static constexpr unsigned kMaxPrintedErrors = 20;

  DiagnosticEngine(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os)
      : sourceMgr(sourceMgr), os(os) {}

  void error(llvm::SMLoc loc, const llvm::Twine &message);
  /// A note attached to the last error (e.g. "previous definition is here").
  void note(llvm::SMLoc loc, const llvm::Twine &message);

  unsigned errorCount() const { return numErrors; }
  bool hadError() const { return numErrors != 0; }
  /// Prints the "N errors" trailer when errors were suppressed.
  void finish();

  /// `line:col: error: message` of every error so far, for tests.
  const std::vector<std::string> &recorded() const { return log; }

  llvm::SourceMgr &getSourceMgr() { return sourceMgr; }

private:
  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned numErrors = 0;
  std::vector<std::string> log;
};

} // namespace vaec

#endif // VAEC_FRONTEND_DIAGNOSTICS_H
