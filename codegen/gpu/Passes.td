//===- Passes.td - NVIDIA GPU code generation --------------*- tablegen -*-===//

#ifndef VAEC_CODEGEN_GPU_PASSES_TD
#define VAEC_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

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

#endif // VAEC_CODEGEN_GPU_PASSES_TD
