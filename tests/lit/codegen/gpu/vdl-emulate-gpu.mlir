// RUN: vae-opt %s --pass-pipeline='builtin.module(func.func(vdl-emulate-gpu))' -split-input-file | FileCheck %s

// A launch as a loop over its blocks around a loop over their threads, the
// ids the induction variables; what does not depend on the thread (the
// block's first element) computed once per block.
// CHECK-LABEL: func.func @scale
// CHECK: %[[BLOCKS:.*]] = arith.constant 2 : index
// CHECK: scf.for %[[BX:.*]] = %{{.*}} to %[[BLOCKS]] step %{{.*}} {
// CHECK:   %[[FIRST:.*]] = arith.muli %[[BX]], %{{.*}}
// CHECK:   scf.for %[[TX:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
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

// -----

// With barriers: each stretch between two is a loop over the threads; the
// loop around the barriers and what does not depend on the thread stay
// outside; shared memory is one buffer, a thread's private array one per
// thread, indexed by the thread; what a thread computed from its id before
// a barrier is computed again after it.
// CHECK-LABEL: func.func @staged
// CHECK-DAG: %[[SHARED:.*]] = memref.alloca() : memref<64xf32>
// CHECK-DAG: %[[PRIVATE:.*]] = memref.alloca() : memref<64x1xf32>
// CHECK: scf.for %[[BX:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   scf.for %[[T0:.*]] = %{{.*}} to %[[THREADS:.*]] step %{{.*}} {
// CHECK:     memref.store %{{.*}}, %[[PRIVATE]][%[[T0]], %{{.*}}] : memref<64x1xf32>
// CHECK:   }
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     scf.for %[[T1:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:       %[[MIRROR:.*]] = arith.subi %{{.*}}, %[[T1]] : index
// CHECK:       memref.store %{{.*}}, %[[SHARED]][%[[MIRROR]]] : memref<64xf32>
// CHECK:     }
// CHECK:     scf.for %[[T2:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:       %[[AGAIN:.*]] = arith.subi %{{.*}}, %[[T2]] : index
// CHECK:       memref.load %[[SHARED]][%[[T2]]]
// CHECK:       memref.load %[[PRIVATE]][%[[T2]], %{{.*}}]
// CHECK:       memref.store %{{.*}}, %[[PRIVATE]][%[[T2]], %{{.*}}]
// CHECK:     }
// CHECK:   }
// CHECK-NOT: gpu.barrier
func.func @staged(%a: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1)
             workgroup(%shared : memref<64xf32, #gpu.address_space<workgroup>>) {
    %sum = memref.alloca() : memref<1xf32>
    memref.store %zero, %sum[%c0] : memref<1xf32>
    %mirror = arith.subi %c63, %tx : index
    scf.for %round = %c0 to %c3 step %c1 {
      %x = memref.load %a[%tx] : memref<64xf32>
      memref.store %x, %shared[%mirror] : memref<64xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %y = memref.load %shared[%tx] : memref<64xf32, #gpu.address_space<workgroup>>
      %s = memref.load %sum[%c0] : memref<1xf32>
      %t = arith.addf %s, %y : f32
      memref.store %t, %sum[%c0] : memref<1xf32>
      %back = arith.addi %mirror, %c0 : index
      memref.store %t, %a[%back] : memref<64xf32>
      gpu.barrier
    }
    gpu.terminator
  }
  return
}
