// RUN: vae-opt %s --pass-pipeline='builtin.module(func.func(vdl-emulate-gpu))' | FileCheck %s

// A launch as a loop over its blocks around a loop over their threads, the
// ids the induction variables.
// CHECK-LABEL: func.func @scale
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[BLOCKS:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[THREADS:.*]] = arith.constant 256 : index
// CHECK: scf.for %[[BX:.*]] = %[[ZERO]] to %[[BLOCKS]] step %[[ONE:.*]] {
// CHECK:   scf.for %[[TX:.*]] = %[[ZERO]] to %[[THREADS]] step %[[ONE]] {
// CHECK:     %[[FIRST:.*]] = arith.muli %[[BX]], %[[THREADS]]
// CHECK:     arith.addi %[[FIRST]], %[[TX]]
// CHECK-NOT: gpu.launch
func.func @scale(%a: memref<300xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c256 = arith.constant 256 : index
  %c300 = arith.constant 300 : index
  %two = arith.constant 2.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %first = arith.muli %bx, %c256 : index
    %i = arith.addi %first, %tx : index
    %inside = arith.cmpi slt, %i, %c300 : index
    scf.if %inside {
      %x = memref.load %a[%i] : memref<300xf32>
      %y = arith.mulf %x, %two : f32
      memref.store %y, %a[%i] : memref<300xf32>
    }
    gpu.terminator
  }
  return
}
