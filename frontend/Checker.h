//===- Checker.h - the semantic checker of a VDL module ---------*- C++ -*-===//
//
// The class behind vaec::analyze (Sema.h): the model's declarations and
// blocks (Sema.cpp), expressions and calls (Sema.cpp), the train block
// (SemaTrain.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_FRONTEND_CHECKER_H
#define VAEC_FRONTEND_CHECKER_H

#include "frontend/Builtins.h"
#include "frontend/Sema.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/SMLoc.h"

#include <optional>

namespace vaec::sema {

using llvm::SMLoc;

struct Binding {
  SemaType type;
  SMLoc loc;
};

class Checker {
public:
  Checker(Module &module, DiagnosticEngine &diags) : module(module), diags(diags) {}

  void run(std::optional<int64_t> batchOverride);

private:
  void checkDeclarations();
  void checkBlock(Block &block, bool isEncoder, const SemaType &argType,
                  llvm::StringRef expectedParam, llvm::StringRef paramKind);
  void checkPosterior(CallExpr &call);
  void checkLikelihood(CallExpr &call);
  void checkPrior();
  void checkTrain(std::optional<int64_t> batchOverride);
  void checkTrainCall(llvm::StringRef key, Expr &value);

  SemaType check(Expr &expr, bool allowDistribution = false);
  SemaType checkCall(CallExpr &call, bool allowDistribution);
  SemaType checkBinary(BinaryExpr &binary);
  /// Binds `call`'s arguments to `spec`'s parameters and checks their kinds.
  bool bindArguments(CallExpr &call, const BuiltinSpec &spec);
  SemaType checkConstant(Expr &expr, llvm::StringRef what);
  std::optional<int64_t> checkCount(Expr &expr, llvm::StringRef what, int64_t min, int64_t max);
  std::string newParamName(llvm::StringRef label);
  SemaType checkConv(CallExpr &call);
  SemaType checkMinMax(CallExpr &call);

  Module &module;
  DiagnosticEngine &diags;

  // State of the block being checked.
  llvm::StringMap<Binding> scope;
  std::string blockName;
  std::string label; // names the dense layers of the statement
  bool inEncoder = false;
  llvm::StringSet<> usedParamNames;
};

} // namespace vaec::sema

#endif // VAEC_FRONTEND_CHECKER_H
