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

// -----

// Regression (fuzz seed 2021, a race): an edge tile's temporary that
// bufferization placed at one arena offset, hoisted out of the tile loop.
// Every iteration writes it, so the loop stays serial.
// CHECK-LABEL: func.func @shared_temporary
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK-NOT: vdl.parallel
func.func @shared_temporary(%arena: memref<4096xi8>, %out: memref<28x3xf32>) {
  %c0 = arith.constant 0 : index
  %c7 = arith.constant 7 : index
  %c28 = arith.constant 28 : index
  %cst = arith.constant dense<1.0> : vector<7x3xf32>
  %tmp = memref.view %arena[%c0][] : memref<4096xi8> to memref<7x3xf32>
  scf.for %i = %c0 to %c28 step %c7 {
    vector.transfer_write %cst, %tmp[%c0, %c0] {in_bounds = [true, true]} : vector<7x3xf32>, memref<7x3xf32>
    %tile = memref.subview %out[%i, 0] [7, 3] [1, 1] : memref<28x3xf32> to memref<7x3xf32, strided<[3, 1], offset: ?>>
    memref.copy %tmp, %tile : memref<7x3xf32> to memref<7x3xf32, strided<[3, 1], offset: ?>>
  } {vdl.parallel}
  return
}
