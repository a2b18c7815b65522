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
    total on the function, and the count of each source line (an op's first
    file location: a gradient op keeps its layer's) as `vdl.flops_by_line`.
    Benchmarks divide by them to report GFLOP/s, the whole step's and each
    layer's, and `vaec --stats` prints both.

    Before:
    ```mlir
    func.func @f(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) {
      %0 = vdl.dense %x, %w, %b : (...) -> tensor<2x4xf32> loc("m.vdl":3:7)
      %1 = vdl.relu %0 : tensor<2x4xf32> loc("m.vdl":4:5)
    ```
    After:
    ```mlir
    func.func @f(...) attributes {vdl.flops = 64 : i64,
        vdl.flops_by_line = {"m.vdl:3" = 56 : i64, "m.vdl:4" = 8 : i64}} {
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

def PackParameters : Pass<"vdl-pack-parameters", "::mlir::ModuleOp"> {
  let summary = "Turn @loss/@encode/@decode into the C ABI's entry points";
  let description = [{
    Every parameter gets a fixed, 64-byte aligned offset in one flat
    `tensor<P x f32>` buffer (the layout of @loss, which uses all of them).
    Each function's parameter arguments are replaced by that single buffer
    and views of it (`tensor.extract_slice` + `tensor.expand_shape`), the
    functions are renamed to `vae_eval_elbo`, `vae_encode` and `vae_decode`,
    and `vae_init_params(memref<P x f32>, i64)` is added: Philox4x32-10 keyed
    by the seed, counter (element, parameter index, 0, 0), scaled to each
    parameter's initializer. The layout is recorded in `vdl.params`.

    Before:
    ```mlir
    func.func @encode(%w: tensor<4x2xf32> {vdl.param = "encoder.h.weight", ...},
                      %x: tensor<8x4xf32> {vdl.input = "x"}) -> ...
    ```
    After:
    ```mlir
    func.func @vae_encode(%params: tensor<16xf32> {vdl.input = "params"},
                          %x: tensor<8x4xf32> {vdl.input = "x"}) -> ... {
      %s = tensor.extract_slice %params[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
      %w = tensor.expand_shape %s [[0, 1]] output_shape [4, 2] : tensor<8xf32> into tensor<4x2xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::tensor::TensorDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect"
  ];
}

def ElementwiseOnChannelsLast : Pass<"vdl-elementwise-on-channels-last", "::mlir::func::FuncOp"> {
  let summary = "Run elementwise ops between channels-last convolutions channels-last";
  let description = [{
    Direct convolutions compute channels-last ([B, H W, C]) and copy their
    result to the language's NCHW; the next direct convolution copies its
    input back. Where an elementwise `linalg.generic` (an activation, or its
    gradient in the backward pass) is all that stands between such a pair,
    this pass runs it on the channels-last images and drops both copies:
    between two direct convolutions `relu(NCHW copy of conv)` copied back to
    channels-last becomes `relu(conv)`. An NCHW op that something else reads
    stays (the canonicalizer removes what is left dead).

    Before:
    ```mlir
    %t1 = linalg.transpose ins(%x : tensor<2x49x64xf32>) outs(%e1 : tensor<2x64x49xf32>) permutation = [0, 2, 1]
    %n = tensor.expand_shape %t1 [[0], [1], [2, 3]] output_shape [2, 64, 7, 7] : tensor<2x64x49xf32> into tensor<2x64x7x7xf32>
    %r = linalg.generic {identity maps, 4 parallel loops} ins(%n) outs(%e2) { relu }
    %c = tensor.collapse_shape %r [[0], [1], [2, 3]] : tensor<2x64x7x7xf32> into tensor<2x64x49xf32>
    %t2 = linalg.transpose ins(%c : tensor<2x64x49xf32>) outs(%e3 : tensor<2x49x64xf32>) permutation = [0, 2, 1]
    ```
    After:
    ```mlir
    %t2 = linalg.generic {identity maps, 3 parallel loops} ins(%x : tensor<2x49x64xf32>) outs(%e : tensor<2x49x64xf32>) { relu }
    ```
    The pattern is applied once to each transpose present on entry, not by
    the greedy driver, whose folding would also rewrite the rest of the
    conversion's output before the canonicalizer that follows.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def UpdateInPlace : Pass<"vdl-update-in-place", "::mlir::func::FuncOp"> {
  let summary = "Let every optimizer update write straight into its packed buffer";
  let description = [{
    On linalg-on-tensors, before bufferization. `vdl-pack-parameters` reads
    each parameter (and Adam slot) as a view of the packed argument at the top
    of `vae_train_step` and writes the updated values back with one
    `tensor.insert_slice` chain per packed buffer at the end. One-Shot
    Bufferize cannot match an update's destination (a view of the
    *argument*) with its insertion (into the *chain*), so it copies every
    parameter and slot into a temporary and back: 3 x 2.6 MB a step for
    mnist_vae. This pass re-threads the chain through the updates: right
    before each update op, its destination becomes a view of the running
    chain value at the same offset, and the insertion follows the op. Each
    extract/insert pair then matches and bufferizes to nothing.

    Before:
    ```mlir
    %p = tensor.extract_slice %params[0] [8] [1]     // also read by the forward
    %u = linalg.generic ... outs(%p : tensor<8xf32>)
    %q = tensor.extract_slice %params[16] [4] [1]
    %w = linalg.generic ... outs(%q : tensor<4xf32>)
    %0 = tensor.insert_slice %u into %params[0] [8] [1]
    %1 = tensor.insert_slice %w into %0[16] [4] [1]
    ```
    After:
    ```mlir
    %p0 = tensor.extract_slice %params[0] [8] [1]
    %u = linalg.generic ... outs(%p0 : tensor<8xf32>)
    %0 = tensor.insert_slice %u into %params[0] [8] [1]
    %q0 = tensor.extract_slice %0[16] [4] [1]
    %w = linalg.generic ... outs(%q0 : tensor<4xf32>)
    %1 = tensor.insert_slice %w into %0[16] [4] [1]
    ```
    Destinations reshaped with `tensor.expand_shape` (2-D parameters) keep
    their reshape. An insertion whose value is not the result of a
    destination-style op on the same slice is left as it is.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def FreshResults : Pass<"vdl-fresh-results", "::mlir::func::FuncOp"> {
  let summary = "Give every output of an entry point a buffer of its own";
  let description = [{
    After bufferization, before `drop-equivalent-buffer-results` and
    `buffer-results-to-out-params`. Each result of an entry point becomes an
    out-parameter the caller owns, so its buffer must be fresh. Two cases are
    not: a result that is (a view of) an argument, as when `vae_encode`
    returns the input itself as the posterior mean (`normal(mu = x, ...)`) or
    `vae_decode` returns `z` as the logits; and a buffer returned twice
    (`normal(mu = h, logvar = h)`). Left alone, the first is dropped as
    "equivalent to an argument" (and every later output lands in the wrong
    out-parameter), the second makes `buffer-results-to-out-params` crash.
    Both get a new buffer and a copy. A result that updates an argument in
    place (its `vdl.input` names an argument's, as `vae_train_step`'s
    `params` and `opt_state`) is left to be dropped.

    (Copies made on tensors do not survive: once vectorized, a copy into a
    `tensor.empty` folds back into its source.)

    Before:
    ```mlir
    func.func @vae_encode(%params: memref<64xf32> {vdl.input = "params"},
        %x: memref<5x6xf32> {vdl.input = "x"}) -> (memref<5x6xf32>, memref<5x6xf32>) {
      ...
      return %x, %logvar : memref<5x6xf32>, memref<5x6xf32>
    }
    ```
    After:
    ```mlir
      %mu = memref.alloc() {alignment = 64 : i64} : memref<5x6xf32>
      memref.copy %x, %mu : memref<5x6xf32> to memref<5x6xf32>
      return %mu, %logvar : memref<5x6xf32>, memref<5x6xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def NameConstants : Pass<"vdl-name-constants", "::mlir::ModuleOp"> {
  let summary = "Name bufferization's constant globals in the order the module uses them";
  let description = [{
    Right after one-shot bufferization. It names the `memref.global` of each
    constant tensor `__constant_<shape>` (then `_0`, `_1`, ...) in the order
    it bufferizes the functions, and MLIR 19 orders them through a map keyed
    by pointers: two constants of one shape (conv_vae's im2col index tables)
    swapped names and places from one compile to the next, and so did the
    bytes of the library. This pass renames them `__constant_<shape>_<k>`
    with k counting from 0 in the order of their first `memref.get_global`
    in the module (functions in order, ops in order), and moves their
    definitions into that order at the top of the module: the same IR gives
    the same names, whatever the addresses or threads.

    Before (either order, from run to run):
    ```mlir
    memref.global "private" constant @__constant_2xi32_0 : memref<2xi32> = dense<[7, 8]>
    memref.global "private" constant @__constant_2xi32 : memref<2xi32> = dense<[1, 2]>
    func.func @f() {
      %a = memref.get_global @__constant_2xi32 : memref<2xi32>
      %b = memref.get_global @__constant_2xi32_0 : memref<2xi32>
    ```
    After:
    ```mlir
    memref.global "private" constant @__constant_2xi32_0 : memref<2xi32> = dense<[1, 2]>
    memref.global "private" constant @__constant_2xi32_1 : memref<2xi32> = dense<[7, 8]>
    func.func @f() {
      %a = memref.get_global @__constant_2xi32_0 : memref<2xi32>
      %b = memref.get_global @__constant_2xi32_1 : memref<2xi32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def JoinOptimizerState : Pass<"vdl-join-optimizer-state", "::mlir::func::FuncOp"> {
  let summary = "Make the optimizer-state slots one ABI argument again";
  let description = [{
    After bufferization. `vdl-pack-parameters` gives `vae_train_step` one
    `opt_state` buffer per optimizer slot (Adam's m and v), so that an update
    writing both bufferizes in place; the C ABI has one `opt_state` pointer
    with slot k at float k * P. This pass replaces the S slot arguments
    `memref<P x f32>` by one `memref<S*P*4 x i8>` and each slot by a
    `memref.view` at byte k * P * 4 (an identity-layout view, so nothing
    downstream changes type). Under the bare-pointer calling convention both
    signatures are the same `float *`.

    Before:
    ```mlir
    func.func @vae_train_step(%params: memref<48xf32>,
        %m: memref<48xf32> {vdl.input = "opt_state", vdl.state_slot = 0},
        %v: memref<48xf32> {vdl.input = "opt_state", vdl.state_slot = 1}, ...)
    ```
    After:
    ```mlir
    func.func @vae_train_step(%params: memref<48xf32>,
        %state: memref<384xi8> {vdl.input = "opt_state"}, ...) {
      %m = memref.view %state[%c0][] : memref<384xi8> to memref<48xf32>
      %v = memref.view %state[%c192][] : memref<384xi8> to memref<48xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

#endif // VAEC_PASSES_TD
