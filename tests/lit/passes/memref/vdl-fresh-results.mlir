// RUN: vae-opt %s --split-input-file --vdl-fresh-results | FileCheck %s
// RUN: vae-opt %s --split-input-file --vdl-fresh-results --drop-equivalent-buffer-results \
// RUN:   --buffer-results-to-out-params=hoist-static-allocs=true | FileCheck %s --check-prefix=OUT

// vae_encode returning its input as the posterior mean: the mean gets a
// buffer of its own, so it stays an output of its own (it used to be dropped
// as equivalent to %x, and logvar landed in mu's out-parameter).
// CHECK-LABEL: func.func @vae_encode(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: memref<5x6xf32> {vdl.input = "x"}
// CHECK: %[[MU:[a-z0-9_]+]] = memref.alloc() {alignment = 64 : i64} : memref<5x6xf32>
// CHECK: memref.copy %[[X]], %[[MU]]
// CHECK: return %[[MU]], %[[LV:[a-z0-9_]+]] :
// With the pipeline's next passes, each result is written straight into an
// out-parameter of its own:
// OUT-LABEL: func.func @vae_encode(
// OUT-SAME: %[[X:[a-z0-9_]+]]: memref<5x6xf32> {vdl.input = "x"}, %[[MU:[a-z0-9_]+]]: memref<5x6xf32>, %[[LV:[a-z0-9_]+]]: memref<5x6xf32>)
// OUT: linalg.copy ins(%[[X]] : memref<5x6xf32>) outs(%[[LV]] : memref<5x6xf32>)
// OUT: memref.copy %[[X]], %[[MU]]
// OUT-NEXT: return
func.func @vae_encode(%params: memref<64xf32> {vdl.input = "params"},
                      %x: memref<5x6xf32> {vdl.input = "x"}) -> (memref<5x6xf32>, memref<5x6xf32>) {
  %lv = memref.alloc() : memref<5x6xf32>
  linalg.copy ins(%x : memref<5x6xf32>) outs(%lv : memref<5x6xf32>)
  return %x, %lv : memref<5x6xf32>, memref<5x6xf32>
}

// -----

// One buffer returned twice (normal(mu = h, logvar = h)): the second result
// gets a copy (buffer-results-to-out-params crashed on it).
// CHECK-LABEL: func.func @vae_decode(
// CHECK: %[[H:[a-z0-9_]+]] = memref.alloc() : memref<4x8xf32>
// CHECK: %[[COPY:[a-z0-9_]+]] = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
// CHECK: memref.copy %[[H]], %[[COPY]]
// CHECK: return %[[H]], %[[COPY]]
// OUT-LABEL: func.func @vae_decode(
// OUT-SAME: %[[OUT0:[a-z0-9]+]]: memref<4x8xf32>, %[[OUT1:[a-z0-9]+]]: memref<4x8xf32>)
// OUT: linalg.fill ins(%{{.*}} : f32) outs(%[[OUT0]] : memref<4x8xf32>)
// OUT: memref.copy %[[OUT0]], %[[OUT1]]
func.func @vae_decode(%z: memref<4x3xf32> {vdl.input = "z"}) -> (memref<4x8xf32>, memref<4x8xf32>) {
  %h = memref.alloc() : memref<4x8xf32>
  %c = arith.constant 0.5 : f32
  linalg.fill ins(%c : f32) outs(%h : memref<4x8xf32>)
  return %h, %h : memref<4x8xf32>, memref<4x8xf32>
}

// -----

// Must not copy: vae_train_step's parameters are updated in place (the
// result's vdl.input names an argument's), and the loss is fresh already.
// CHECK-LABEL: func.func @vae_train_step(
// CHECK-NOT: memref.copy
// CHECK: return
// OUT-LABEL: func.func @vae_train_step(
// OUT-SAME: %{{.*}}: memref<64xf32> {vdl.input = "params"}, %{{.*}}: memref<f32>)
// OUT-NOT: memref.copy
// OUT: return
func.func @vae_train_step(%params: memref<64xf32> {vdl.input = "params"})
    -> (memref<f32>, memref<64xf32> {vdl.input = "params"}) {
  %loss = memref.alloc() : memref<f32>
  %c = arith.constant 1.0 : f32
  linalg.fill ins(%c : f32) outs(%loss : memref<f32>)
  linalg.fill ins(%c : f32) outs(%params : memref<64xf32>)
  return %loss, %params : memref<f32>, memref<64xf32>
}

// -----

// A view of an argument is an argument too.
// CHECK-LABEL: func.func @view_of_argument(
// CHECK: %[[V:[a-z0-9_]+]] = memref.subview
// CHECK: %[[COPY:[a-z0-9_]+]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32, strided<[1]>>
// CHECK-NOT: return %[[V]]
func.func @view_of_argument(%x: memref<8xf32>) -> memref<4xf32, strided<[1]>> {
  %v = memref.subview %x[0] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1]>>
  return %v : memref<4xf32, strided<[1]>>
}
