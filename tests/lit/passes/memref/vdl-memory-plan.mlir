// RUN: vae-opt %s --vdl-memory-plan --split-input-file | FileCheck %s
// RUN: vae-opt %s --vdl-memory-plan=reuse=false --split-input-file | FileCheck %s --check-prefix=NOREUSE

// Two temporaries: %a (32 bytes) used by the copy, %s never used. Never live
// together, they share offset 0 of a 64-byte arena (no reuse: 0 and 64 of
// 128); the arena goes after the parameters; no allocation or deallocation
// is left.
// CHECK: module attributes {vdl.arena_bytes = 64 : i64}
// CHECK-LABEL: func.func @vae_encode(
// CHECK-SAME: %{{.*}}: memref<16xf32> {vdl.input = "params"}, %[[ARENA:.*]]: memref<64xi8> {vdl.input = "arena"}, %{{.*}}: memref<2x4xf32>)
// CHECK-SAME: attributes {vdl.arena_bytes = 64 : i64, vdl.memory_plan = {arena_bytes = 64 : i64, lower_bound_bytes = 64 : i64, no_reuse_bytes = 128 : i64}}
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0]]][] : memref<64xi8> to memref<2x4xf32>
// CHECK: %[[C0B:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0B]]][] : memref<64xi8> to memref<f32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
// NOREUSE: module attributes {vdl.arena_bytes = 128 : i64}
// NOREUSE: arith.constant 0 : index
// NOREUSE: arith.constant 64 : index
func.func @vae_encode(%params: memref<16xf32> {vdl.input = "params"}, %out: memref<2x4xf32>) {
  %a = memref.alloc() : memref<2x4xf32>
  %s = memref.alloc() : memref<f32>
  memref.copy %a, %out : memref<2x4xf32> to memref<2x4xf32>
  memref.dealloc %a : memref<2x4xf32>
  return
}

// Functions outside the ABI are left alone.
// CHECK-LABEL: func.func @helper
// CHECK: memref.alloc
func.func @helper() {
  %a = memref.alloc() : memref<4xf32>
  return
}

// -----

// A chain of kernels: %a lives over ops 3-4, %b over 4-5, %c over 5-6; %c
// takes %a's place. Arena 128 bytes = the lower bound; no reuse: 192.
// CHECK-LABEL: func.func @vae_decode(
// CHECK-SAME: vdl.memory_plan = {arena_bytes = 128 : i64, lower_bound_bytes = 128 : i64, no_reuse_bytes = 192 : i64}
// CHECK: %[[OA:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%[[OA]]][]
// CHECK: %[[OB:.*]] = arith.constant 64 : index
// CHECK: memref.view %{{.*}}[%[[OB]]][]
// CHECK: %[[OC:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%[[OC]]][]
// NOREUSE-LABEL: func.func @vae_decode(
// NOREUSE-SAME: vdl.memory_plan = {arena_bytes = 192 : i64, lower_bound_bytes = 128 : i64, no_reuse_bytes = 192 : i64}
func.func @vae_decode(%params: memref<16xf32> {vdl.input = "params"}, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  %c = memref.alloc() : memref<16xf32>
  memref.copy %params, %a : memref<16xf32> to memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A view keeps its buffer alive: %a is read through a subview after %b is
// written, so they must not share. Uses inside one loop nest count as that
// loop's position: %c and %d are live together there, and take the places
// of %a and %b, dead by then.
// CHECK-LABEL: func.func @vae_score(
// CHECK-SAME: vdl.memory_plan = {arena_bytes = 128 : i64, lower_bound_bytes = 128 : i64, no_reuse_bytes = 256 : i64}
// CHECK: %[[OA:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%[[OA]]][]
// CHECK: %[[OB:.*]] = arith.constant 64 : index
// CHECK: memref.view %{{.*}}[%[[OB]]][]
// CHECK: %[[OC:.*]] = arith.constant {{0|64}} : index
// CHECK: %[[OD:.*]] = arith.constant {{0|64}} : index
func.func @vae_score(%params: memref<16xf32> {vdl.input = "params"}, %out: memref<8xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  %c = memref.alloc() : memref<16xf32>
  %d = memref.alloc() : memref<16xf32>
  memref.copy %params, %a : memref<16xf32> to memref<16xf32>
  memref.copy %params, %b : memref<16xf32> to memref<16xf32>
  %sv = memref.subview %a[0] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1]>>
  memref.copy %sv, %out : memref<8xf32, strided<[1]>> to memref<8xf32>
  memref.copy %b, %params : memref<16xf32> to memref<16xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    memref.copy %params, %c : memref<16xf32> to memref<16xf32>
    memref.copy %params, %d : memref<16xf32> to memref<16xf32>
  }
  return
}

