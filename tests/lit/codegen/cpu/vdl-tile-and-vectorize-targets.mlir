// Register blocks follow the module's #vdl.target: the accumulators, one k
// step's row of B and A's broadcasts fit the target's vector registers.
// x·W of mnist_vae's encoder (128x784 · 784x400), and an edge case: batch 7
// against 20 columns (neither divided by a block: peeled edges).
// RUN: vae-opt %s --split-input-file --vdl-tile-and-vectorize --canonicalize | FileCheck %s

// AVX2 (znver3: 16 ymm of 8 floats): 4x16 blocks, 8 accumulators + 2 for
// B's row + 4 broadcasts = 14 registers; the k loop is not unrolled (two k
// steps would need 20).
// CHECK-LABEL: func.func @avx2
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c4
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c1 iter_args({{.*}}) -> (vector<4x16xf32>)
// CHECK: vector.contract {{.*}} : vector<4x1xf32>, vector<1x16xf32> into vector<4x16xf32>
// CHECK-NOT: vector.contract
// CHECK: } {vdl.parallel}
// 7x20: a 7x8 block for the first 16 columns (7 + 1 + 7 = 15 registers),
// and a peeled 7x4 edge, both vectorized.
// CHECK-LABEL: func.func @avx2_edges
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK: vector.contract {{.*}} into vector<7x8xf32>
// CHECK: vector.contract {{.*}} into vector<7x4xf32>
// CHECK-NOT: linalg.matmul
module attributes {vdl.target = #vdl.target<"x86_64-unknown-linux-gnu", "znver3", vector_bits = 256, vector_registers = 16, fma = true, l1d = 32768, l2 = 524288, threads = 2>} {
  func.func @avx2(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>, %c: tensor<128x400xf32>) -> tensor<128x400xf32> {
    %0 = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%c : tensor<128x400xf32>) -> tensor<128x400xf32>
    return %0 : tensor<128x400xf32>
  }
  func.func @avx2_edges(%x: tensor<7x400xf32>, %w: tensor<400x20xf32>, %c: tensor<7x20xf32>) -> tensor<7x20xf32> {
    %0 = linalg.matmul ins(%x, %w : tensor<7x400xf32>, tensor<400x20xf32>) outs(%c : tensor<7x20xf32>) -> tensor<7x20xf32>
    return %0 : tensor<7x20xf32>
  }
}

// -----

// AVX-512 (znver4: 32 zmm of 16 floats, FMAs broadcast from memory): 16x16
// blocks, the k loop unrolled twice (16 + 2 x (1 + 1) = 20 registers).
// CHECK-LABEL: func.func @avx512
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c2 iter_args({{.*}}) -> (vector<16x16xf32>)
// CHECK-COUNT-2: vector.contract {{.*}} : vector<16x1xf32>, vector<1x16xf32> into vector<16x16xf32>
// CHECK: } {vdl.parallel}
// 7x20: one 7x16 block and a 7x4 edge.
// CHECK-LABEL: func.func @avx512_edges
// CHECK: vector.contract {{.*}} into vector<7x16xf32>
// CHECK: vector.contract {{.*}} into vector<7x4xf32>
// CHECK-NOT: linalg.matmul
module attributes {vdl.target = #vdl.target<"x86_64-unknown-linux-gnu", "znver4", vector_bits = 512, vector_registers = 32, fma = true, l1d = 32768, l2 = 1048576, threads = 2>} {
  func.func @avx512(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>, %c: tensor<128x400xf32>) -> tensor<128x400xf32> {
    %0 = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%c : tensor<128x400xf32>) -> tensor<128x400xf32>
    return %0 : tensor<128x400xf32>
  }
  func.func @avx512_edges(%x: tensor<7x400xf32>, %w: tensor<400x20xf32>, %c: tensor<7x20xf32>) -> tensor<7x20xf32> {
    %0 = linalg.matmul ins(%x, %w : tensor<7x400xf32>, tensor<400x20xf32>) outs(%c : tensor<7x20xf32>) -> tensor<7x20xf32>
    return %0 : tensor<7x20xf32>
  }
}

// -----

// NEON (neoverse-v1: 32 q registers of 4 floats, fmla by lane): 8x8 blocks,
// 16 accumulators + 2 for B + 2 for A's column, k unrolled twice.
// CHECK-LABEL: func.func @neon
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c8
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c8
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c2 iter_args({{.*}}) -> (vector<8x8xf32>)
// CHECK: } {vdl.parallel}
// 7x20: 7x8 blocks (two q registers a row; never three: LLVM widens a
// vector of three registers to four and shuffles) and a 7x4 edge.
// CHECK-LABEL: func.func @neon_edges
// CHECK: vector.contract {{.*}} into vector<7x8xf32>
// CHECK: vector.contract {{.*}} into vector<7x4xf32>
// CHECK-NOT: vector<7x12xf32>
// CHECK-NOT: linalg.matmul
module attributes {vdl.target = #vdl.target<"aarch64-unknown-linux-gnu", "neoverse-v1", vector_bits = 128, vector_registers = 32, fma = true, l1d = 65536, l2 = 1048576, threads = 2>} {
  func.func @neon(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>, %c: tensor<128x400xf32>) -> tensor<128x400xf32> {
    %0 = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%c : tensor<128x400xf32>) -> tensor<128x400xf32>
    return %0 : tensor<128x400xf32>
  }
  func.func @neon_edges(%x: tensor<7x400xf32>, %w: tensor<400x20xf32>, %c: tensor<7x20xf32>) -> tensor<7x20xf32> {
    %0 = linalg.matmul ins(%x, %w : tensor<7x400xf32>, tensor<400x20xf32>) outs(%c : tensor<7x20xf32>) -> tensor<7x20xf32>
    return %0 : tensor<7x20xf32>
  }
}

// -----

// The pass options override the target's block (as for an experiment with
// vae-opt): 8x8 on the AVX2 target.
// RUN: vae-opt %s --split-input-file --vdl-tile-and-vectorize="register-rows=8 register-cols=8" --canonicalize | FileCheck %s --check-prefix=FORCED
// FORCED-LABEL: func.func @forced
// FORCED: scf.for %{{.*}} = %c0 to %c400 step %c8
// FORCED: scf.for %{{.*}} = %c0 to %c128 step %c8
// FORCED: vector.contract {{.*}} into vector<8x8xf32>
module attributes {vdl.target = #vdl.target<"x86_64-unknown-linux-gnu", "znver3", vector_bits = 256, vector_registers = 16, fma = true, l1d = 32768, l2 = 524288, threads = 2>} {
  func.func @forced(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>, %c: tensor<128x400xf32>) -> tensor<128x400xf32> {
    %0 = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%c : tensor<128x400xf32>) -> tensor<128x400xf32>
    return %0 : tensor<128x400xf32>
  }
}
