// RUN: vae-opt %s --split-input-file --vdl-pack-panels | FileCheck %s

// x·W, its column-block loop outside: each k step reads a 16-float row of
// W 1,600 bytes after the last. The 784x16 panel is copied once per column
// block into a buffer allocated once (the loop is serial: right before the
// loop nest), and the k loop reads the copy.
// CHECK-LABEL: func.func @serial(
// CHECK-SAME: %[[X:.*]]: memref<128x784xf32>, %[[W:.*]]: memref<784x400xf32>
// CHECK: %[[BUF:.*]] = memref.alloca() {alignment = 64 : i64} : memref<784x16xf32>
// CHECK-NEXT: scf.for %[[N:.*]] = %c0 to %c400 step %c16 {
// CHECK-NEXT: %[[PANEL:.*]] = memref.subview %[[W]][0, %[[N]]] [784, 16] [1, 1]
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT: %[[ROW:.*]] = vector.load %[[PANEL]][%[[K]], %{{.*}}] : memref<784x16xf32, strided<[400, 1], offset: ?>>, vector<16xf32>
// CHECK-NEXT: vector.store %[[ROW]], %[[BUF]][%[[K]], %{{.*}}] : memref<784x16xf32>, vector<16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c4 {
// CHECK: scf.for %[[KK:.*]] = %c0 to %c784 step %c1
// CHECK: memref.subview %[[BUF]][%[[KK]], 0] [1, 16] [1, 1] : memref<784x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
// CHECK-NOT: memref.subview %[[W]]
func.func @serial(%x: memref<128x784xf32>, %w: memref<784x400xf32>, %y: memref<128x400xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %c400 = arith.constant 400 : index
  %c784 = arith.constant 784 : index
  %pad = arith.constant 0.0 : f32
  scf.for %n = %c0 to %c400 step %c16 {
    scf.for %m = %c0 to %c128 step %c4 {
      %tile = memref.subview %y[%m, %n] [4, 16] [1, 1] : memref<128x400xf32> to memref<4x16xf32, strided<[400, 1], offset: ?>>
      %init = vector.transfer_read %tile[%c0, %c0], %pad {in_bounds = [true, true]} : memref<4x16xf32, strided<[400, 1], offset: ?>>, vector<4x16xf32>
      %acc = scf.for %k = %c0 to %c784 step %c1 iter_args(%a = %init) -> (vector<4x16xf32>) {
        %row = memref.subview %w[%k, %n] [1, 16] [1, 1] : memref<784x400xf32> to memref<1x16xf32, strided<[400, 1], offset: ?>>
        %b = vector.transfer_read %row[%c0, %c0], %pad {in_bounds = [true, true]} : memref<1x16xf32, strided<[400, 1], offset: ?>>, vector<1x16xf32>
        %bb = vector.broadcast %b : vector<1x16xf32> to vector<4x16xf32>
        %s = arith.addf %a, %bb : vector<4x16xf32>
        scf.yield %s : vector<4x16xf32>
      }
      vector.transfer_write %acc, %tile[%c0, %c0] {in_bounds = [true, true]} : vector<4x16xf32>, memref<4x16xf32, strided<[400, 1], offset: ?>>
    }
  }
  return
}

// -----

// The column blocks on every core (vdl-parallelize ran): one buffer per
// thread, at the start of the parallel loop's body, before the copy. The
// panel comes as tiling leaves it with an epilogue fused: a view of the
// whole K x 16 panel, then its rows.
// CHECK-LABEL: func.func @parallel(
// CHECK: scf.parallel (%[[N:.*]]) =
// CHECK-NEXT: %[[BUF:.*]] = memref.alloca() {alignment = 64 : i64} : memref<784x16xf32>
// CHECK-NEXT: memref.subview %{{.*}}[0, %[[N]]] [784, 16] [1, 1]
// CHECK: vector.store %{{.*}}, %[[BUF]]
// CHECK: memref.subview %[[BUF]][%{{.*}}, 0] [1, 16] [1, 1]
func.func @parallel(%x: memref<128x784xf32>, %w: memref<784x400xf32>, %y: memref<128x400xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %c400 = arith.constant 400 : index
  %c784 = arith.constant 784 : index
  %pad = arith.constant 0.0 : f32
  scf.parallel (%n) = (%c0) to (%c400) step (%c16) {
    %panel = memref.subview %w[0, %n] [784, 16] [1, 1] : memref<784x400xf32> to memref<784x16xf32, strided<[400, 1], offset: ?>>
    scf.for %m = %c0 to %c128 step %c4 {
      %tile = memref.subview %y[%m, %n] [4, 16] [1, 1] : memref<128x400xf32> to memref<4x16xf32, strided<[400, 1], offset: ?>>
      %init = vector.transfer_read %tile[%c0, %c0], %pad {in_bounds = [true, true]} : memref<4x16xf32, strided<[400, 1], offset: ?>>, vector<4x16xf32>
      %acc = scf.for %k = %c0 to %c784 step %c1 iter_args(%a = %init) -> (vector<4x16xf32>) {
        %row = memref.subview %panel[%k, 0] [1, 16] [1, 1] : memref<784x16xf32, strided<[400, 1], offset: ?>> to memref<1x16xf32, strided<[400, 1], offset: ?>>
        %b = vector.transfer_read %row[%c0, %c0], %pad {in_bounds = [true, true]} : memref<1x16xf32, strided<[400, 1], offset: ?>>, vector<1x16xf32>
        %bb = vector.broadcast %b : vector<1x16xf32> to vector<4x16xf32>
        %s = arith.addf %a, %bb : vector<4x16xf32>
        scf.yield %s : vector<4x16xf32>
      }
      vector.transfer_write %acc, %tile[%c0, %c0] {in_bounds = [true, true]} : vector<4x16xf32>, memref<4x16xf32, strided<[400, 1], offset: ?>>
    }
    scf.reduce
  }
  return
}

// -----

// Left alone: a panel read by one row block only (no loop between the
// column loop and the k loop), rows that are contiguous already (a 16-wide
// B), and a B the loop also writes.
// CHECK-LABEL: func.func @untouched(
// CHECK-NOT: memref.alloca
// CHECK-NOT: vector.store
func.func @untouched(%w: memref<784x400xf32>, %narrow: memref<784x16xf32>, %y: memref<4x400xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c400 = arith.constant 400 : index
  %c784 = arith.constant 784 : index
  %pad = arith.constant 0.0 : f32
  %zero = arith.constant dense<0.0> : vector<1x16xf32>
  // One row block.
  scf.for %n = %c0 to %c400 step %c16 {
    %acc = scf.for %k = %c0 to %c784 step %c1 iter_args(%a = %zero) -> (vector<1x16xf32>) {
      %row = memref.subview %w[%k, %n] [1, 16] [1, 1] : memref<784x400xf32> to memref<1x16xf32, strided<[400, 1], offset: ?>>
      %b = vector.transfer_read %row[%c0, %c0], %pad {in_bounds = [true, true]} : memref<1x16xf32, strided<[400, 1], offset: ?>>, vector<1x16xf32>
      %s = arith.addf %a, %b : vector<1x16xf32>
      scf.yield %s : vector<1x16xf32>
    }
    %tile = memref.subview %y[0, %n] [1, 16] [1, 1] : memref<4x400xf32> to memref<1x16xf32, strided<[400, 1], offset: ?>>
    vector.transfer_write %acc, %tile[%c0, %c0] {in_bounds = [true, true]} : vector<1x16xf32>, memref<1x16xf32, strided<[400, 1], offset: ?>>
  }
  // Contiguous rows.
  scf.for %n = %c0 to %c400 step %c16 {
    scf.for %m = %c0 to %c4 step %c1 {
      %acc = scf.for %k = %c0 to %c784 step %c1 iter_args(%a = %zero) -> (vector<1x16xf32>) {
        %row = memref.subview %narrow[%k, 0] [1, 16] [1, 1] : memref<784x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
        %b = vector.transfer_read %row[%c0, %c0], %pad {in_bounds = [true, true]} : memref<1x16xf32, strided<[16, 1], offset: ?>>, vector<1x16xf32>
        %s = arith.addf %a, %b : vector<1x16xf32>
        scf.yield %s : vector<1x16xf32>
      }
      %tile = memref.subview %y[%m, %n] [1, 16] [1, 1] : memref<4x400xf32> to memref<1x16xf32, strided<[400, 1], offset: ?>>
      vector.transfer_write %acc, %tile[%c0, %c0] {in_bounds = [true, true]} : vector<1x16xf32>, memref<1x16xf32, strided<[400, 1], offset: ?>>
    }
  }
  // B written in the loop.
  scf.for %n = %c0 to %c400 step %c16 {
    scf.for %m = %c0 to %c4 step %c1 {
      %acc = scf.for %k = %c0 to %c784 step %c1 iter_args(%a = %zero) -> (vector<1x16xf32>) {
        %row = memref.subview %w[%k, %n] [1, 16] [1, 1] : memref<784x400xf32> to memref<1x16xf32, strided<[400, 1], offset: ?>>
        %b = vector.transfer_read %row[%c0, %c0], %pad {in_bounds = [true, true]} : memref<1x16xf32, strided<[400, 1], offset: ?>>, vector<1x16xf32>
        %s = arith.addf %a, %b : vector<1x16xf32>
        scf.yield %s : vector<1x16xf32>
      }
      %out = memref.subview %w[%m, %n] [1, 16] [1, 1] : memref<784x400xf32> to memref<1x16xf32, strided<[400, 1], offset: ?>>
      vector.transfer_write %acc, %out[%c0, %c0] {in_bounds = [true, true]} : vector<1x16xf32>, memref<1x16xf32, strided<[400, 1], offset: ?>>
    }
  }
  return
}

// -----

// With a 64 KiB L2, a 784x16 panel (49 KiB) is more than the quarter of it
// left for B beside the other operands: not packed (vdl-tile-and-vectorize
// cuts such a K loop into blocks first, as in @k_blocks below).
// CHECK-LABEL: func.func @large(
// CHECK-NOT: memref.alloca
module attributes {vdl.target = #vdl.target<"x86_64-unknown-linux-gnu", "znver3", vector_bits = 256, vector_registers = 16, fma = true, l1d = 32768, l2 = 65536, threads = 2>} {
func.func @large(%w: memref<784x400xf32>, %y: memref<4x400xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c400 = arith.constant 400 : index
  %c784 = arith.constant 784 : index
  %pad = arith.constant 0.0 : f32
  %zero = arith.constant dense<0.0> : vector<1x16xf32>
  scf.for %n = %c0 to %c400 step %c16 {
    scf.for %m = %c0 to %c4 step %c1 {
      %acc = scf.for %k = %c0 to %c784 step %c1 iter_args(%a = %zero) -> (vector<1x16xf32>) {
        %row = memref.subview %w[%k, %n] [1, 16] [1, 1] : memref<784x400xf32> to memref<1x16xf32, strided<[400, 1], offset: ?>>
        %b = vector.transfer_read %row[%c0, %c0], %pad {in_bounds = [true, true]} : memref<1x16xf32, strided<[400, 1], offset: ?>>, vector<1x16xf32>
        %s = arith.addf %a, %b : vector<1x16xf32>
        scf.yield %s : vector<1x16xf32>
      }
      %tile = memref.subview %y[%m, %n] [1, 16] [1, 1] : memref<4x400xf32> to memref<1x16xf32, strided<[400, 1], offset: ?>>
      vector.transfer_write %acc, %tile[%c0, %c0] {in_bounds = [true, true]} : vector<1x16xf32>, memref<1x16xf32, strided<[400, 1], offset: ?>>
    }
  }
  return
}
}

// -----

// The same panel as vdl-tile-and-vectorize leaves it on that target: K in
// blocks of 196 rows (panelDepth: 64 KiB / 4 / 64 B = 256 rows at most, 196
// divides 784), the column blocks of each K block on every core. Each
// thread packs the 196x16 panel of its column block of the K block.
// CHECK-LABEL: func.func @k_blocks(
// CHECK: scf.for %[[KB:.*]] = %c0 to %c784 step %c196 {
// CHECK-NEXT: %[[BLOCK:.*]] = memref.subview %{{.*}}[%[[KB]], 0] [196, 400] [1, 1]
// CHECK-NEXT: scf.parallel (%[[N:.*]]) =
// CHECK-NEXT: %[[BUF:.*]] = memref.alloca() {alignment = 64 : i64} : memref<196x16xf32>
// CHECK-NEXT: memref.subview %[[BLOCK]][0, %[[N]]] [196, 16] [1, 1]
// CHECK: vector.store %{{.*}}, %[[BUF]]
// CHECK: memref.subview %[[BUF]][%{{.*}}, 0] [1, 16] [1, 1]
module attributes {vdl.target = #vdl.target<"x86_64-unknown-linux-gnu", "znver3", vector_bits = 256, vector_registers = 16, fma = true, l1d = 32768, l2 = 65536, threads = 2>} {
func.func @k_blocks(%x: memref<128x784xf32>, %w: memref<784x400xf32>, %y: memref<128x400xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %c196 = arith.constant 196 : index
  %c400 = arith.constant 400 : index
  %c784 = arith.constant 784 : index
  %pad = arith.constant 0.0 : f32
  scf.for %kb = %c0 to %c784 step %c196 {
    %block = memref.subview %w[%kb, 0] [196, 400] [1, 1] : memref<784x400xf32> to memref<196x400xf32, strided<[400, 1], offset: ?>>
    scf.parallel (%n) = (%c0) to (%c400) step (%c16) {
      scf.for %m = %c0 to %c128 step %c4 {
        %tile = memref.subview %y[%m, %n] [4, 16] [1, 1] : memref<128x400xf32> to memref<4x16xf32, strided<[400, 1], offset: ?>>
        %init = vector.transfer_read %tile[%c0, %c0], %pad {in_bounds = [true, true]} : memref<4x16xf32, strided<[400, 1], offset: ?>>, vector<4x16xf32>
        %acc = scf.for %k = %c0 to %c196 step %c1 iter_args(%a = %init) -> (vector<4x16xf32>) {
          %row = memref.subview %block[%k, %n] [1, 16] [1, 1] : memref<196x400xf32, strided<[400, 1], offset: ?>> to memref<1x16xf32, strided<[400, 1], offset: ?>>
          %b = vector.transfer_read %row[%c0, %c0], %pad {in_bounds = [true, true]} : memref<1x16xf32, strided<[400, 1], offset: ?>>, vector<1x16xf32>
          %bb = vector.broadcast %b : vector<1x16xf32> to vector<4x16xf32>
          %s = arith.addf %a, %bb : vector<4x16xf32>
          scf.yield %s : vector<4x16xf32>
        }
        vector.transfer_write %acc, %tile[%c0, %c0] {in_bounds = [true, true]} : vector<4x16xf32>, memref<4x16xf32, strided<[400, 1], offset: ?>>
      }
      scf.reduce
    }
  }
  return
}
}
