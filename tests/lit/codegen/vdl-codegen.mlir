// RUN: vae-opt %s --vdl-codegen | FileCheck %s

// vae-opt --vdl-codegen: the code generation half of vaec's pipeline on any
// function in linalg on tensors (bench/gemm.py times kernels this way). A
// matmul comes out as LLVM dialect: a caller's arena first (vdl-memory-plan),
// the result as an out-parameter, bare pointers, the column-block loop on
// libomp's threads, and 16-wide FMAs on the register block. The blocks are
// written straight into the result: no temporary in the arena (64 bytes, the
// minimum) and no copy out of one.
// CHECK-LABEL: llvm.func @vae_x_w(
// CHECK-SAME: %{{.*}}: !llvm.ptr {vdl.input = "arena"}, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-SAME: vdl.arena_bytes = 64
// CHECK-NOT: memcpy
// CHECK: omp.parallel
// CHECK: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// CHECK-NOT: func.func
func.func @vae_x_w(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>) -> tensor<128x400xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x400xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<128x400xf32>) -> tensor<128x400xf32>
  %y = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%init : tensor<128x400xf32>) -> tensor<128x400xf32>
  return %y : tensor<128x400xf32>
}
