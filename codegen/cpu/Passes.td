//===- Passes.td - CPU code generation ---------------------*- tablegen -*-===//

#ifndef VAEC_CODEGEN_CPU_PASSES_TD
#define VAEC_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

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

#endif // VAEC_CODEGEN_CPU_PASSES_TD
