//===- Sema.h - VDL semantic checks -----------------------------*- C++ -*-===//
//
// Resolves names and builtins, infers every expression's shape, names the
// parameters, and checks the model as a whole (posterior size = latent size,
// likelihood shape = input shape, train settings in range). Errors go to the
// DiagnosticEngine; checking goes on after an error wherever the types that
// follow stay meaningful.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_FRONTEND_SEMA_H
#define VAEC_FRONTEND_SEMA_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"

namespace vaec {

/// Size limits that keep every later stage's arithmetic in range.
struct Limits {
  static constexpr int64_t kMaxDim = int64_t{1} << 24;
  static constexpr int64_t kMaxParamElements = int64_t{1} << 28;
  static constexpr int64_t kMaxBatch = int64_t{1} << 16;
  /// Dimensions of one example (the C ABI's VAE_MAX_RANK).
  static constexpr size_t kMaxRank = 4;
};

/// Annotates `module` in place. Returns true when no error was reported.
/// `batchOverride` (from `vaec --batch`) replaces the file's `batch`.
bool analyze(Module &module, DiagnosticEngine &diags,
             std::optional<int64_t> batchOverride = std::nullopt);

} // namespace vaec

#endif // VAEC_FRONTEND_SEMA_H
