// RUN: vae-opt %s --split-input-file --vdl-outline-kernels | FileCheck %s

// The same loop nest in two entry points, on buffers at different arena
// offsets: one kernel, called by both with its own views. The arena views
// stay in the entry points; constants are recomputed inside.
// CHECK-LABEL: func.func @vae_encode(
// CHECK: %[[H:.*]] = memref.view %{{.*}}[%c0][]
// CHECK-NEXT: call @vae_encode_kernel0(%[[H]]) : (memref<128x400xf32>) -> ()
// CHECK-NEXT: return
// CHECK: func.func private @vae_encode_kernel0(%[[ARG:.*]]: memref<128x400xf32>)
// CHECK-SAME: attributes {llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[ARG]]
// CHECK-LABEL: func.func @vae_score(
// CHECK: %[[H2:.*]] = memref.view %{{.*}}[%c1024][]
// CHECK-NEXT: call @vae_encode_kernel0(%[[H2]]) : (memref<128x400xf32>) -> ()
// CHECK-NOT: func.func private
func.func @vae_encode(%arena: memref<409600xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  %h = memref.view %arena[%c0][] : memref<409600xi8> to memref<128x400xf32>
  scf.for %i = %c0 to %c128 step %c1 {
    memref.store %zero, %h[%i, %c0] : memref<128x400xf32>
  }
  return
}
func.func @vae_score(%arena: memref<409600xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c1024 = arith.constant 1024 : index
  %zero = arith.constant 0.0 : f32
  %h = memref.view %arena[%c1024][] : memref<409600xi8> to memref<128x400xf32>
  scf.for %i = %c0 to %c128 step %c1 {
    memref.store %zero, %h[%i, %c0] : memref<128x400xf32>
  }
  return
}

// -----

// Different loop bodies are different kernels, numbered per entry point.
// CHECK-LABEL: func.func @vae_decode(
// CHECK: call @vae_decode_kernel0(
// CHECK: call @vae_decode_kernel1(
// CHECK: func.func private @vae_decode_kernel1(
// CHECK: arith.constant 1.000000e+00 : f32
// CHECK: func.func private @vae_decode_kernel0(
// CHECK: arith.constant 0.000000e+00 : f32
func.func @vae_decode(%out: memref<128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c128 step %c1 {
    memref.store %zero, %out[%i] : memref<128xf32>
  }
  scf.for %i = %c0 to %c128 step %c1 {
    memref.store %one, %out[%i] : memref<128xf32>
  }
  return
}

// -----

// An edge tile: the read of its accumulators, the loop and the write are one
// kernel. The accumulators, used again by a later loop, come back as a
// result and go in as an argument. A view at a dynamic offset cannot cross
// the call as a bare pointer: the kernel makes it from its source and the
// offset.
// CHECK-LABEL: func.func @vae_eval_elbo(
// CHECK: %[[ACC:.*]] = call @vae_eval_elbo_kernel0(%{{.*}}, %arg1) : (memref<2x4xf32, strided<[20, 1], offset: 2536>>, memref<400x4xf32>) -> vector<2x4xf32>
// CHECK-NEXT: call @vae_eval_elbo_kernel1(%[[ACC]], %arg0, %arg2) : (vector<2x4xf32>, memref<128x20xf32>, index) -> ()
// CHECK: func.func private @vae_eval_elbo_kernel1(%[[IN:.*]]: vector<2x4xf32>, %[[Z:.*]]: memref<128x20xf32>, %[[N:.*]]: index)
// CHECK: %[[ROWS:.*]] = memref.subview %[[Z]][%[[N]], 0] [2, 4]
// CHECK: scf.for
// CHECK: vector.transfer_write %[[IN]], %[[ROWS]]
// CHECK: func.func private @vae_eval_elbo_kernel0(
// CHECK-SAME: -> vector<2x4xf32>
// CHECK: vector.transfer_read
// CHECK: %[[SUM:.*]] = scf.for
// CHECK: vector.transfer_write %[[SUM]]
// CHECK: return %[[SUM]] : vector<2x4xf32>
func.func @vae_eval_elbo(%z: memref<128x20xf32>, %w: memref<400x4xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c400 = arith.constant 400 : index
  %pad = arith.constant 0.0 : f32
  %edge = memref.subview %z[126, 16] [2, 4] [1, 1] : memref<128x20xf32> to memref<2x4xf32, strided<[20, 1], offset: 2536>>
  %init = vector.transfer_read %edge[%c0, %c0], %pad {in_bounds = [true, true]} : memref<2x4xf32, strided<[20, 1], offset: 2536>>, vector<2x4xf32>
  %sum = scf.for %k = %c0 to %c400 step %c1 iter_args(%acc = %init) -> (vector<2x4xf32>) {
    %row = vector.transfer_read %w[%k, %c0], %pad {in_bounds = [true, true]} : memref<400x4xf32>, vector<2x4xf32>
    %next = arith.addf %acc, %row : vector<2x4xf32>
    scf.yield %next : vector<2x4xf32>
  }
  vector.transfer_write %sum, %edge[%c0, %c0] {in_bounds = [true, true]} : vector<2x4xf32>, memref<2x4xf32, strided<[20, 1], offset: 2536>>
  %rows = memref.subview %z[%n, 0] [2, 4] [1, 1] : memref<128x20xf32> to memref<2x4xf32, strided<[20, 1], offset: ?>>
  scf.for %i = %c0 to %c2 step %c1 {
    vector.transfer_write %sum, %rows[%c0, %c0] {in_bounds = [true, true]} : vector<2x4xf32>, memref<2x4xf32, strided<[20, 1], offset: ?>>
  }
  return
}

// -----

// A buffer allocated by one loop nest's code and read by a later one cannot
// outlive a kernel's frame: that code stays in the entry point.
// CHECK-LABEL: func.func @vae_grad_step(
// CHECK: %[[TMP:.*]] = memref.alloca() : memref<128xf32>
// CHECK: scf.for
// CHECK: call @vae_grad_step_kernel0(%[[TMP]], %arg0)
// CHECK: func.func private @vae_grad_step_kernel0(
// CHECK-NOT: func.func private
func.func @vae_grad_step(%out: memref<128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  %tmp = memref.alloca() : memref<128xf32>
  scf.for %i = %c0 to %c128 step %c1 {
    memref.store %zero, %tmp[%i] : memref<128xf32>
  }
  scf.for %i = %c0 to %c128 step %c1 {
    %v = memref.load %tmp[%i] : memref<128xf32>
    memref.store %v, %out[%i] : memref<128xf32>
  }
  return
}

// -----

// A mask (a vector of i1) does not cross a call: LLVM 19's x86 backend
// aborts on one passed or returned with AVX-512 ("Cannot emit physreg copy
// instruction"; difftest seed 2 on a Zen 4). The two loop nests that share
// one stay in the entry point.
// CHECK-LABEL: func.func @vae_score(
// CHECK: %[[MASK:.*]] = arith.cmpf ogt, %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: scf.for
// CHECK: arith.select %[[MASK]]
// CHECK: scf.for
// CHECK: arith.select %[[MASK]]
// CHECK-NOT: call
// CHECK-NOT: func.func private
func.func @vae_score(%in: memref<16xf32>, %out: memref<16xf32>, %out2: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %zeros = arith.constant dense<0.0> : vector<16xf32>
  %x = vector.transfer_read %in[%c0], %zero {in_bounds = [true]} : memref<16xf32>, vector<16xf32>
  %mask = arith.cmpf ogt, %x, %zeros : vector<16xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %y = arith.select %mask, %x, %zeros : vector<16xi1>, vector<16xf32>
    vector.transfer_write %y, %out[%c0] {in_bounds = [true]} : vector<16xf32>, memref<16xf32>
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %y = arith.select %mask, %zeros, %x : vector<16xi1>, vector<16xf32>
    vector.transfer_write %y, %out2[%c0] {in_bounds = [true]} : vector<16xf32>, memref<16xf32>
  }
  return
}
