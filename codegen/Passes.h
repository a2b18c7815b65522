//===- Passes.h - every code generation pass --------------------*- C++ -*-===//
//
// The code generation passes by target: codegen/common (any target),
// codegen/vdl-to-linalg (the conversion), codegen/cpu and codegen/gpu.
// The target-independent transforms are in passes/Passes.h.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_CODEGEN_PASSES_H
#define VAEC_CODEGEN_PASSES_H

#include "codegen/common/Passes.h"
#include "codegen/cpu/Passes.h"
#include "codegen/gpu/Passes.h"
#include "codegen/vdl-to-linalg/Passes.h"

namespace vaec {

/// Registers every code generation pass (for vae-opt and --print-ir-after).
inline void registerCodegenPasses() {
  registerCommonCodegenPasses();
  registerVDLToLinalgPasses();
  registerCPUCodegenPasses();
  registerGPUCodegenPasses();
}

} // namespace vaec

#endif // VAEC_CODEGEN_PASSES_H
