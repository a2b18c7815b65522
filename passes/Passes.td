//===- Passes.td - vaec pass definitions -------------------*- tablegen -*-===//

#ifndef VAEC_PASSES_TD
#define VAEC_PASSES_TD

include "mlir/Pass/PassBase.td"

def CountFlops : Pass<"vdl-count-flops", "::mlir::func::FuncOp"> {
  let summary = "Annotate each function with its floating-point operation count";
  let description = [{
    Counts the arithmetic of every vdl op from its static shapes (a dense layer
    `[B,K]·[K,N]` is `2·B·K·N` plus `B·N` for the bias; elementwise ops one
    FLOP per element; transcendental functions count as one) and records the
    total on the function. Benchmarks divide by it to report GFLOP/s, and
    `vaec --stats` prints it.

    Before:
    ```mlir
    func.func @f(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) {
      %0 = vdl.dense %x, %w, %b : (...) -> tensor<2x4xf32>
      %1 = vdl.relu %0 : tensor<2x4xf32>
    ```
    After:
    ```mlir
    func.func @f(...) attributes {vdl.flops = 64 : i64} {
    ```
  }];
  let dependentDialects = ["::vaec::vdl::VDLDialect"];
}

#endif // VAEC_PASSES_TD
