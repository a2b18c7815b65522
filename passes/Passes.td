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

def Autodiff : Pass<"vdl-autodiff", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of @loss into @grad_step";
  let description = [{
    Clones `@loss` into `@grad_step`, which returns the loss terms followed by
    d loss / d parameter for every parameter argument (result attribute
    `vdl.grad_of` names it). The backward pass visits ops in reverse order
    and asks each op's `GradientOpInterface` rule for the adjoints of the
    operands that depend on a parameter (no gradient is built for `x` or
    `eps`); fan-out is summed with `vdl.add`. Forward values the rules need
    are kept, not recomputed. An op on a parameter's path without a rule is an
    error at its location.

    Then clones `@grad_step` into `@train_step`, which also takes the
    optimizer state (`vdl.state_of`, `vdl.state_slot`: Adam's m and v, or
    SGD's velocity, per parameter), the step number `t` (i64, from 1) and the
    KL weight of this step (f32, replacing the constant beta: KL warm-up), and
    returns the loss terms, every parameter after one `vdl.adam_update` /
    `vdl.sgd_update` (`vdl.update_of`) and the new state. The optimizer and
    its hyper-parameters come from the module's `vdl.train`.

    Before:
    ```mlir
    func.func @loss(%w: tensor<3x2xf32> {vdl.param = "w"}, %x: tensor<4x3xf32>)
        -> tensor<f32> {
      %h = vdl.dense %x, %w, %b ...
    ```
    After (added):
    ```mlir
    func.func @grad_step(%w: ..., %x: ...)
        -> (tensor<f32>, tensor<3x2xf32> {vdl.grad_of = "w"}) {
      %h = vdl.dense %x, %w, %b ...
      ...
      %dw = vdl.matmul %x, %dh transpose_lhs : ...
    ```
  }];
  let dependentDialects = [
    "::vaec::vdl::VDLDialect", "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def Fusion : Pass<"vdl-fusion", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise linalg ops into single loop nests";
  let description = [{
    On linalg-on-tensors: a `linalg.generic` whose loops are all parallel is
    fused into the generic that consumes it when that consumer is its only
    user (MLIR's elementwise fusion with that control), repeatedly, so a
    chain becomes one loop nest whose intermediates stay in registers.
    Reductions fuse their elementwise producers too (an activation
    derivative into the bias-gradient reduction, when nothing else uses
    it). Producers with several users and named ops (matmul, fill,
    transpose) are left alone. `vdl.fusion` on each function records
    kernels (linalg ops) and bytes moved (operand bytes summed over
    kernels) before and after, for `vaec --stats`.

    Before (two kernels, a 4x8 intermediate in memory):
    ```mlir
    %e = linalg.generic {...} ins(%x : tensor<4x8xf32>) outs(%0 : tensor<4x8xf32>) {
      math.exp ...
    }
    %s = linalg.generic {...} ins(%e, %y : ...) outs(%1 : tensor<4x8xf32>) {
      arith.addf ...
    }
    ```
    After (one kernel):
    ```mlir
    %s = linalg.generic {...} ins(%x, %y : ...) outs(%1 : tensor<4x8xf32>) {
      math.exp ... arith.addf ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def MemoryPlan : Pass<"vdl-memory-plan", "::mlir::ModuleOp"> {
  let summary = "Place every temporary of an entry point in a caller's arena, "
                "sharing memory between buffers that are never live together";
  let description = [{
    After bufferization: each `vae_*` entry point gets an argument after the
    buffers the caller keeps (`params`, `opt_state`), a `memref<A x i8>`
    arena, and every `memref.alloc` in it becomes a `memref.view` of the
    arena at a static, 64-byte aligned offset, so the generated code never
    allocates.

    The live interval of a buffer runs from the first to the last top-level
    op of the function (a kernel: one loop nest after tiling) that uses it or
    any view of it. Offsets come from the decreasing-size best-fit heap of
    XLA's heap simulator: buffers by decreasing size, each into the smallest
    gap left by the buffers live at the same time. `reuse=false` lays them
    out one after another instead (`vaec --no-memory-plan`).

    `vdl.arena_bytes` on each function and on the module (the maximum)
    records the size the caller must provide; `vdl.memory_plan` on each
    function holds it with the lower bound (the peak of simultaneously live
    bytes) and the no-reuse total, for `vaec --stats`.

    Before: `%a` is dead once `%b` is written, so `%c` can take its place.
    ```mlir
    func.func @vae_encode(%params: memref<16xf32> {vdl.input = "params"}, ...) {
      %a = memref.alloc() : memref<16xf32>
      %b = memref.alloc() : memref<16xf32>
      %c = memref.alloc() : memref<16xf32>
      linalg.copy ins(%params : ...) outs(%a : ...)
      linalg.copy ins(%a : ...) outs(%b : ...)
      linalg.copy ins(%b : ...) outs(%c : ...)
    ```
    After:
    ```mlir
    func.func @vae_encode(%params: memref<16xf32> {vdl.input = "params"},
                          %arena: memref<128xi8> {vdl.input = "arena"}, ...)
        attributes {vdl.arena_bytes = 128 : i64, vdl.memory_plan = {...}} {
      %a = memref.view %arena[%c0][] : memref<128xi8> to memref<16xf32>
      %b = memref.view %arena[%c64][] : memref<128xi8> to memref<16xf32>
      %c = memref.view %arena[%c0][] : memref<128xi8> to memref<16xf32>
    ```
  }];
  let options = [
    Option<"reuse", "reuse", "bool", /*default=*/"true",
           "share memory between buffers whose live intervals do not meet">
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

#endif // VAEC_PASSES_TD
