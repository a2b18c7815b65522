// RUN: vae-opt %s --split-input-file --vdl-parallelize | FileCheck %s

// A marked tile loop becomes scf.parallel with the same bounds and body.
// CHECK-LABEL: func.func @rows(
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%c128) step (%c16) {
// CHECK: memref.subview %{{.*}}[%[[I]], 0] [16, 400] [1, 1]
// CHECK: linalg.fill
// CHECK: scf.reduce
// CHECK-NOT: scf.for
// CHECK-NOT: vdl.parallel
func.func @rows(%out: memref<128x400xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c128 step %c16 {
    %rows = memref.subview %out[%i, 0] [16, 400] [1, 1] : memref<128x400xf32> to memref<16x400xf32, strided<[400, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%rows : memref<16x400xf32, strided<[400, 1], offset: ?>>)
  } {vdl.parallel}
  return
}

// -----

// Unmarked loops (a reduction over rows, say) stay sequential.
// CHECK-LABEL: func.func @unmarked(
// CHECK: scf.for
// CHECK-NOT: scf.parallel
func.func @unmarked(%out: memref<128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c128 step %c1 {
    memref.store %zero, %out[%i] : memref<128xf32>
  }
  return
}

// -----

// A marked loop that carries a value is not a tile loop on buffers: the
// mark is dropped, the loop kept.
// CHECK-LABEL: func.func @carried(
// CHECK: scf.for {{.*}} iter_args
// CHECK-NOT: vdl.parallel
// CHECK-NOT: scf.parallel
func.func @carried() -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %sum = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> f32 {
    %next = arith.addf %acc, %one : f32
    scf.yield %next : f32
  } {vdl.parallel}
  return %sum : f32
}
