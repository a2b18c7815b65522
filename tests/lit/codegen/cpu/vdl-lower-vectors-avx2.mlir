// RUN: vae-opt %s --vdl-lower-vectors --canonicalize | FileCheck %s

// On a target without 16-lane registers (AVX2 here; NEON likewise) an 8x8
// transpose block is one shuffle of the flattened block, which LLVM lowers
// to the target's unpack/shuffle/permute sequence (AVX2: vunpck*ps,
// vshufps, vinsertf128, vpermpd; NEON: zip, trn), not 64 element extracts
// and broadcasts.
// CHECK-LABEL: func.func @transpose_block
// CHECK-NOT: vector.extract %{{.*}}[{{[0-9]+}}, {{[0-9]+}}]
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 8, 16, 24, 32, 40, 48, 56, 1, 9, 17, 25, {{.*}}] : vector<64xf32>, vector<64xf32>
// CHECK-NOT: vector.extract %{{.*}}[{{[0-9]+}}, {{[0-9]+}}]
// CHECK: return

// A strided copy (an edge tile bufferization could not write in place)
// becomes a vector read and write (one load and store per row once
// convert-vector-to-scf unrolls them), not a call of memrefCopy.
// CHECK-LABEL: func.func @strided_copy
// CHECK-NOT: memref.copy
// CHECK: %[[TILE:.*]] = vector.transfer_read %{{.*}} : memref<7x4xf32>, vector<7x4xf32>
// CHECK: vector.transfer_write %[[TILE]], %{{.*}} : vector<7x4xf32>, memref<7x4xf32, strided<[6, 1], offset: 2>>
// CHECK-NOT: memref.copy
// CHECK: return
module attributes {vdl.target = #vdl.target<"x86_64-unknown-linux-gnu", "znver3", vector_bits = 256, vector_registers = 16, fma = true, l1d = 32768, l2 = 524288, threads = 2>} {
  func.func @transpose_block(%block: vector<8x8xf32>) -> vector<8x8xf32> {
    %0 = vector.transpose %block, [1, 0] : vector<8x8xf32> to vector<8x8xf32>
    return %0 : vector<8x8xf32>
  }
  func.func @strided_copy(%tile: memref<7x4xf32>, %out: memref<7x6xf32>) {
    %edge = memref.subview %out[0, 2] [7, 4] [1, 1] : memref<7x6xf32> to memref<7x4xf32, strided<[6, 1], offset: 2>>
    memref.copy %tile, %edge : memref<7x4xf32> to memref<7x4xf32, strided<[6, 1], offset: 2>>
    return
  }
}
