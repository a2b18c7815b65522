//===- Passes.td - passes for every target -----------------*- tablegen -*-===//

#ifndef VAEC_CODEGEN_COMMON_PASSES_TD
#define VAEC_CODEGEN_COMMON_PASSES_TD

include "mlir/Pass/PassBase.td"

def SetTarget : Pass<"vdl-set-target", "::mlir::ModuleOp"> {
  let summary = "Describe the CPU to generate code for as the module's #vdl.target";
  let options = [
    Option<"triple", "triple", "std::string", /*default=*/"\"\"",
           "LLVM target triple (empty: this machine's)">,
    Option<"cpu", "cpu", "std::string", /*default=*/"\"\"",
           "LLVM CPU name, e.g. znver3, skylake-avx512, neoverse-v1 (empty: this machine's)">,
    Option<"mattr", "mattr", "std::string", /*default=*/"\"\"",
           "features to add or remove, as llc's -mattr: +avx2,-avx512f">,
  ];
  let description = [{
    What `vaec --target-triple --cpu --mattr` does before its pipeline, as a
    pass for `vae-opt`: resolves the CPU through LLVM's target registry and
    sets the module's `vdl.target` (see `#vdl.target`), which the code
    generation passes read. Without it they assume an AVX-512 x86-64 core.

    ```
    vae-opt kernels.mlir --vdl-set-target="cpu=znver3" --vdl-codegen
    ```
    sets
    ```mlir
    module attributes {vdl.target = #vdl.target<"x86_64-unknown-linux-gnu", "znver3",
        vector_bits = 256, vector_registers = 16, fma = true,
        l1d = 32768, l2 = 524288, threads = 2>}
    ```
  }];
  let dependentDialects = ["::vaec::vdl::VDLDialect"];
}

def ApproximateMath : Pass<"vdl-approximate-math"> {
  let summary = "Replace tanh, exp, log, log1p, expm1 by polynomials";
  let description = [{
    Applies MLIR's math polynomial approximations so transcendental functions
    vectorize instead of becoming scalar libm calls in the inner loops
    (`math.exp` -> a Cody-Waite range reduction and a degree-5 polynomial
    on arith ops, for scalars and vectors alike).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // VAEC_CODEGEN_COMMON_PASSES_TD
