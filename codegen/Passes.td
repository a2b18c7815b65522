//===- Passes.td - vaec lowering passes --------------------*- tablegen -*-===//

#ifndef VAEC_CODEGEN_PASSES_TD
#define VAEC_CODEGEN_PASSES_TD

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

def ConvertVDLToLinalg : Pass<"convert-vdl-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower the vdl dialect to linalg, tensor, arith and math";
  let description = [{
    One conversion pattern per vdl op. Dense layers become a bias broadcast
    followed by `linalg.matmul` accumulating into it; elementwise ops become
    `linalg.generic`s on `tensor.empty`; per-example reductions (KL,
    log-likelihoods) become `linalg.generic`s with reduction iterators over
    every non-batch dimension. Numerically stable forms are used throughout:
    `softplus(x) = max(x, 0) + log1p(exp(-|x|))`, and the Bernoulli
    log-likelihood is minus BCE-with-logits in the same form.

    Before:
    ```mlir
    %h = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    %r = vdl.relu %h : tensor<2x4xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty() : tensor<2x4xf32>
    %bb = linalg.broadcast ins(%b : tensor<4xf32>) outs(%e : tensor<2x4xf32>) dimensions = [0]
    %h = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%bb : tensor<2x4xf32>) -> tensor<2x4xf32>
    %r = linalg.generic {...} ins(%h : tensor<2x4xf32>) outs(%e2 : tensor<2x4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %0 = arith.maximumf %in, %cst : f32
        linalg.yield %0 : f32
    } -> tensor<2x4xf32>
    ```
  }];
  let options = [
    Option<"convAlgorithm", "conv-algorithm", "std::string", /*default=*/"\"auto\"",
           "How conv2d is computed: im2col (a gather into columns, then the "
           "GEMM path), direct (linalg.conv_2d_nhwc_hwcf on a padded "
           "channels-last copy, register blocks of output pixels x output "
           "channels) or auto (the one measured faster for the shape)">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect"
  ];
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

def Parallelize : Pass<"vdl-parallelize", "::mlir::func::FuncOp"> {
  let summary = "Run the loops marked vdl.parallel on every core";
  let description = [{
    After bufferization. `vdl-tile-and-vectorize` marks the outer tile loop
    `vdl.parallel` where each iteration writes its own part of every result:
    every matmul (its row or column blocks, whichever loop is outside:
    forward, dy·Wᵀ and the transposed weight-gradient product), transposes,
    and the elementwise kernels of at least 32K elements whose outer loop is
    a parallel one (activations on 128x400, the likelihood on 128x784, the
    Adam update of a weight matrix). This pass turns those `scf.for`s into
    `scf.parallel`, which `convert-scf-to-openmp` makes an `omp.parallel` +
    `omp.wsloop` (libomp, one thread per core unless OMP_NUM_THREADS says
    otherwise). Smaller kernels, and reductions over the batch, stay on the
    calling thread: a fork and join costs about a pass over 32K floats.
    A marked loop whose body writes a buffer defined outside the loop (a
    temporary that bufferization gave an edge tile, placed at one arena
    offset by `vdl-memory-plan`) stays serial: its threads would race on it.

    Before:
    ```mlir
    scf.for %m = %c0 to %c128 step %c16 { ... } {vdl.parallel}
    ```
    After:
    ```mlir
    scf.parallel (%m) = (%c0) to (%c128) step (%c16) { ... }
    ```
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def PackPanels : Pass<"vdl-pack-panels", "::mlir::func::FuncOp"> {
  let summary = "Copy each matmul panel of B that row blocks re-read into a contiguous stack buffer";
  let description = [{
    After `vdl-lower-vectors`. A matmul whose column-block loop is outside
    (x·W with W 784x400: each thread takes column blocks of 16) reads the
    same K x 16 panel of B once per row block, one 64-byte row per k step,
    each row in another cache line 1,600 bytes on and a new page every
    three steps. This pass copies the panel once per column block into an
    aligned stack buffer (per thread: the loop body becomes a
    `memref.alloca_scope`) and points the k loop's row reads at the copy,
    which is then one sequential stream. Panels larger than a quarter of
    the target's L2 (`#vdl.target`'s l2) are left as they are, as are
    contiguous ones and panels read by one row block only.

    Before:
    ```mlir
    scf.for %n = %c0 to %c400 step %c16 {
      %panel = memref.subview %w[0, %n] [784, 16] [1, 1] : memref<784x400xf32> to memref<784x16xf32, strided<[400, 1], offset: ?>>
      scf.for %m = %c0 to %c128 step %c4 {
        %acc = scf.for %k = %c0 to %c784 step %c1 iter_args(%a = %init) -> (vector<4x16xf32>) {
          %row = memref.subview %panel[%k, 0] [1, 16] [1, 1] : ... to memref<1x16xf32, strided<[400, 1], offset: ?>>
          %b = vector.transfer_read %row[%c0, %c0], %pad : ..., vector<1x16xf32>
          ...
    ```
    After:
    ```mlir
    scf.for %n = %c0 to %c400 step %c16 {
      memref.alloca_scope {
        %panel = memref.subview %w[0, %n] [784, 16] [1, 1] : ...
        %packed = memref.alloca() {alignment = 64 : i64} : memref<784x16xf32>
        scf.for %k = %c0 to %c784 step %c1 {
          %r = vector.load %panel[%k, %c0] : ..., vector<16xf32>
          vector.store %r, %packed[%k, %c0] : memref<784x16xf32>, vector<16xf32>
        }
        scf.for %m = %c0 to %c128 step %c4 {
          %acc = scf.for %k = %c0 to %c784 step %c1 iter_args(%a = %init) -> (vector<4x16xf32>) {
            %row = memref.subview %packed[%k, 0] [1, 16] [1, 1] : memref<784x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
            ...
    ```
  }];
  let dependentDialects = [
    "::mlir::memref::MemRefDialect", "::mlir::vector::VectorDialect",
    "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect", "::vaec::vdl::VDLDialect"
  ];
}

def OutlineKernels : Pass<"vdl-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Make every loop nest of an entry point a function, one per distinct kernel";
  let description = [{
    After `vdl-parallelize` and `convert-scf-to-openmp`, before the lowering
    to the LLVM dialect. The entry points share most of their kernels (the
    encoder's layers run in encode, eval_elbo, score, grad_step and
    train_step; grad_step and train_step differ only in the optimizer):
    every top-level loop nest (`scf.for`, `scf.parallel`, `omp.parallel`)
    becomes a private, never-inlined function, and kernels with the same
    text become one function that every entry point calls. The rest of the
    pipeline, LLVM's -O3 and instruction selection then see each kernel
    once. A kernel takes the buffers it uses as arguments (arena views at
    the entry point's own offsets, parameter views) and recomputes
    constants and dynamic-offset views inside; one that uses a vector value
    of the entry point stays inline.

    Before:
    ```mlir
    func.func @vae_encode(%params: memref<652848xf32>, ...) {
      %h = memref.view %arena[%c0][] : memref<3968064xi8> to memref<128x400xf32>
      omp.parallel { ... %h ... }
      return
    }
    func.func @vae_score(...) {
      %h = memref.view %arena[%c1024][] : memref<3968064xi8> to memref<128x400xf32>
      omp.parallel { ... %h ... }
      return
    }
    ```
    After:
    ```mlir
    func.func @vae_encode(%params: memref<652848xf32>, ...) {
      %h = memref.view %arena[%c0][] : memref<3968064xi8> to memref<128x400xf32>
      call @vae_encode_kernel0(%params, %h) : (...) -> ()
      return
    }
    func.func private @vae_encode_kernel0(%params: memref<652848xf32>,
        %h: memref<128x400xf32>) attributes {llvm.linkage = #llvm.linkage<internal>,
        passthrough = ["noinline"]} {
      omp.parallel { ... %h ... }
      return
    }
    func.func @vae_score(...) {
      %h = memref.view %arena[%c1024][] : memref<3968064xi8> to memref<128x400xf32>
      call @vae_encode_kernel0(%params, %h) : (...) -> ()
      return
    }
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect"];
}

def TileAndVectorize : Pass<"vdl-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Register-tile matmuls, fuse their epilogues, vectorize every linalg op";
  let options = [
    Option<"fuseEpilogues", "fuse-epilogues", "bool", /*default=*/"true",
           "Compute each elementwise consumer of a matmul (and the bias "
           "broadcast that initializes it) in the matmul's register blocks">,
    Option<"registerRows", "register-rows", "int64_t", /*default=*/"0",
           "Rows of every matmul register block (0: from the target)">,
    Option<"registerCols", "register-cols", "int64_t", /*default=*/"0",
           "Columns of every matmul register block (0: from the target)">,
  ];
  let description = [{
    On linalg-on-tensors, before bufferization. First (unless
    `fuse-epilogues=false`, which `vaec --no-fusion` sets) every all-parallel
    elementwise consumer of a matmul's whole result (the activation; for the
    decoder's logits the likelihood's elementwise part) is tiled in the
    matmul's register blocks and the matmul, and the bias broadcast or zero
    fill that initializes it, are fused into its loops (MLIR's
    tile-consumer-and-fuse-producers): bias splat, k loop and activation then
    work on one accumulator block in registers, written once. A
    pre-activation that other ops read (an activation's derivative) is
    yielded from the same loops. `--stats` counts the loop nests after this.

    Then each `linalg.matmul` [M,K]x[K,N] is tiled to an `mb x nb` block
    of accumulators per step of k, and the tile becomes a `vector.contract`
    of an mb x 1 column and a 1 x nb row. The block comes from the module's
    `#vdl.target` (see `vdl-set-target`; `register-rows`/`register-cols`
    override it): the accumulators (mb x nb/lanes registers), one k step's
    row of B and a broadcast of A fit the vector registers, nb a whole number
    of registers (or a power of two narrower than one), and among those the
    fewest estimated cycles over the whole M x N (edge tiles included),
    preferring blocks that divide the shape. On AVX-512 (32 zmm) that is
    16x16 for mnist_vae's 128x400; on AVX2 (16 ymm) 4x16; on NEON (32 q)
    8x8. Blocks need not divide the shapes: the last, partial step of
    each tile loop is peeled off, so edges are smaller static tiles
    (128x20 in 16x16 blocks: a 16x16 tile and a 16x4 one), vectorized the
    same way. Of the M and N block loops the one over the larger operand
    goes outside (for x·W each K x nb panel of W is then read once and
    serves every row block from cache). The k loop is unrolled twice where
    two k steps' operands still fit the registers. Other contractions
    (matmuls on packed operands) get the same block on their innermost m and
    n dimensions. Transposes (the packing of Wᵀ for dy·Wᵀ) are tiled in
    square blocks of one register a row, one `vector.transpose` each, which
    `vdl-lower-vectors` makes shuffles. The accumulator block is then
    hoisted out of the k loop (on tensors, with MLIR's subset hoisting:
    after bufferization the tiles are views of the arena, which memref
    hoisting refuses), so it lives in registers for the whole k loop.
    Elementwise ops, reductions, broadcasts and fills are tiled to one row
    by one register of the innermost dimension (a power of two narrower at
    an edge) and vectorized. An op that cannot be vectorized stays scalar.
    Outer loops whose iterations write disjoint parts of the result get
    `vdl.parallel` (see `vdl-parallelize`).

    Before:
    ```mlir
    %0 = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>)
                       outs(%b : tensor<128x400xf32>) -> tensor<128x400xf32>
    ```
    After (schematically):
    ```mlir
    scf.for %n = 0 to 400 step 16 { scf.for %m = 0 to 128 step 16 {
      %init = vector.transfer_read %block ... : vector<16x16xf32>
      %sum = scf.for %k = 0 to 784 step 1 iter_args(%acc = %init) {
        %a = vector.transfer_read ... : vector<16x1xf32>
        %w = vector.transfer_read ... : vector<1x16xf32>
        %c = vector.contract {...} %a, %w, %acc : ... into vector<16x16xf32>
        scf.yield %c : vector<16x16xf32>
      }
      vector.transfer_write %sum, %block ...
    } } {vdl.parallel}
    ```
  }];
  let dependentDialects = [
    "::mlir::vector::VectorDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect",
    "::vaec::vdl::VDLDialect"
  ];
}

def MapToGPU : Pass<"vdl-map-to-gpu", "::mlir::func::FuncOp"> {
  let summary = "Make every loop nest of an entry point a GPU launch";
  let description = [{
    `vaec --target=nvptx`, on buffers after `vdl-memory-plan`. A matmul
    (and its transposed forms) becomes a launch of 16 x 16-thread blocks, each
    computing a 32 x 32 tile of C (64 x 64 where that still makes 128 blocks):
    per K slice of 16 the threads copy A's and B's slices into shared memory
    (consecutive threads reading consecutive addresses, zeros past the
    edges), wait at a barrier, and each accumulates its 2 x 2 (4 x 4) part
    of the tile in registers (a private array of constant indices that
    LLVM's SROA promotes); C is read and written once. A bias broadcast
    into C just before is added in the epilogue instead, and so is the
    elementwise op right after that reads C (a ReLU), unless the memory plan
    put its output over A or B, which other blocks still read. Copies become
    `linalg.copy`, every other linalg op parallel loops, parallel
    dimensions outside (a reduction inside as `scf.for`, its accumulator
    carried in a register), and each top-level
    `scf.parallel` a `gpu.launch` of one thread per element: blocks of 256
    threads over the linearized iteration space, the last index fastest so
    that a warp reads and writes consecutive addresses. What else touches
    memory at the top level (a full reduction, a 0-d update, a stored
    scalar) runs in a one-thread launch, in program order with the rest, so
    that the host only computes views, sizes and launches. All launches go
    to one stream in order: no synchronization between them. `vae_init_params`
    stays host code (the runtime uploads what it writes).

    Before:
    ```mlir
    linalg.generic {iterator_types = ["parallel", "parallel"]}
        ins(%a : memref<128x400xf32>) outs(%b : memref<128x400xf32>) { ... }
    ```
    After:
    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c200, ...) threads(%tx, %ty, %tz) in (%sx = %c256, ...) {
      %i = arith.addi (%bx * 256), %tx
      scf.if %i < 51200 {
        // (%i / 400, %i % 400): the loop body
      }
      gpu.terminator
    }
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::linalg::LinalgDialect", "::mlir::affine::AffineDialect",
                           "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def JoinGPUModules : Pass<"vdl-join-gpu-modules", "::mlir::ModuleOp"> {
  let summary = "Put every outlined kernel into one gpu.module";
  let description = [{
    After `gpu-kernel-outlining`, which makes a `gpu.module` per launch: the
    driver compiles and loads each module's PTX separately (the first call
    of every entry point would JIT ~150 of them). This pass moves every
    `gpu.func` into one module, `@vae_kernels`, and points the launches at it.

    Before:
    ```mlir
    gpu.module @vae_encode_kernel { gpu.func @vae_encode_kernel(...) kernel { ... } }
    gpu.module @vae_encode_kernel_0 { gpu.func @vae_encode_kernel_0(...) kernel { ... } }
    gpu.launch_func @vae_encode_kernel_0::@vae_encode_kernel_0 ...
    ```
    After:
    ```mlir
    gpu.module @vae_kernels {
      gpu.func @vae_encode_kernel(...) kernel { ... }
      gpu.func @vae_encode_kernel_0(...) kernel { ... }
    }
    gpu.launch_func @vae_kernels::@vae_encode_kernel_0 ...
    ```
  }];
}

def NVVMIntrinsics : Pass<"vdl-nvvm-intrinsics", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Replace libdevice calls by LLVM intrinsics the NVPTX backend lowers";
  let description = [{
    After `convert-gpu-to-nvvm`, which lowers `math.sqrt`, `math.absf` and
    `math.floor` (left by `vdl-approximate-math`'s polynomials) to calls of
    CUDA's libdevice. A vaec library links no libdevice: nothing of CUDA is
    needed to build one. The NVPTX backend lowers the LLVM intrinsics of
    these to one instruction each (`sqrt.rn.f32`, `abs.f32`,
    `cvt.rmi.f32.f32`). A libdevice call this pass does not know is an
    error naming the function.

    Before:
    ```mlir
    %1 = llvm.call @__nv_sqrtf(%0) : (f32) -> f32
    ```
    After:
    ```mlir
    %1 = llvm.intr.sqrt(%0) : (f32) -> f32
    ```
  }];
}

def EmulateGPU : Pass<"vdl-emulate-gpu", "::mlir::func::FuncOp"> {
  let summary = "Run GPU launches as serial loops on the CPU";
  let description = [{
    `vaec --target=nvptx-emulated`: after `vdl-map-to-gpu`, each launch
    becomes a loop over its blocks around, for each stretch of its body
    between two barriers, a loop over its threads; a loop around barriers
    (the K slices of a matmul) and what does not depend on the thread stay
    outside. Shared memory becomes one buffer, a thread's private array one
    row per thread, and what a thread computed from its id before a barrier
    is computed again after it. The library is compiled for the CPU, and the
    kernels' index arithmetic, guards, staging and accumulators are checked
    against the float64 reference (`vdl-difftest --variants=nvptx-emulated`)
    on machines without a GPU. One-dimensional launches only.

    Before:
    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c200, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      ... %bx ... %tx ...
      gpu.terminator
    }
    ```
    After:
    ```mlir
    scf.for %bx = %c0 to %c200 step %c1 {
      scf.for %tx = %c0 to %c256 step %c1 {
        ... %bx ... %tx ...
      }
    }
    ```
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def LowerVectors : Pass<"vdl-lower-vectors", "::mlir::func::FuncOp"> {
  let summary = "Hoist accumulators and lower vector ops to FMAs and loads";
  let description = [{
    After bufferization: copies between strided views (an edge tile that
    bufferization could not write in place) become vector loads and stores
    (or a `linalg.copy`, for loops, when larger than the register file)
    rather than a call of MLIR's runtime library; then hoists what
    read/write pairs are left out of their loops (those on plain buffers),
    and lowers `vector.contract` to outer products (one `vector.fma` per
    row), transfers to plain 1-D loads and stores, 16x16 transposes on a
    16-lane target (AVX-512) to 64 `vector.shuffle`s, and other transposes,
    broadcasts and multi-reductions to what the LLVM lowering takes.

    Before:
    ```mlir
    memref.copy %tile, %edge : memref<7x4xf32> to memref<7x4xf32, strided<[6, 1]>>
    ```
    After:
    ```mlir
    %0 = vector.load %tile[%c0, %c0] : memref<7x4xf32>, vector<4xf32>
    vector.store %0, %edge[%c0, %c0] : memref<7x4xf32, strided<[6, 1]>>, vector<4xf32>
    ... (one load and store per row)
    ```
  }];
  let dependentDialects = [
    "::mlir::vector::VectorDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect", "::vaec::vdl::VDLDialect"
  ];
}

#endif // VAEC_CODEGEN_PASSES_TD
