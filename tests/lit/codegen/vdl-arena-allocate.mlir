// RUN: vae-opt %s --vdl-arena-allocate | FileCheck %s

// Two temporaries, 32 and 4 bytes, at offsets 0 and 64: a 128-byte arena
// inserted after the parameters (and optimizer state, when there is one);
// no allocation or deallocation left.
// CHECK: module attributes {vdl.arena_bytes = 128 : i64}
// CHECK-LABEL: func.func @vae_encode(
// CHECK-SAME: %{{.*}}: memref<16xf32> {vdl.input = "params"}, %[[ARENA:.*]]: memref<128xi8> {vdl.input = "arena"}, %{{.*}}: memref<2x4xf32>)
// CHECK-SAME: attributes {vdl.arena_bytes = 128 : i64}
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0]]][] : memref<128xi8> to memref<2x4xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %[[ARENA]][%[[C64]]][] : memref<128xi8> to memref<f32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
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
