// RUN: vae-opt %s --vdl-tile-and-vectorize --canonicalize | FileCheck %s
// RUN: vae-opt %s --vdl-tile-and-vectorize="fuse-epilogues=false" --canonicalize | FileCheck %s --check-prefix=UNFUSED

#id = affine_map<(d0, d1) -> (d0, d1)>

// dense + relu: the bias broadcast, the matmul and the relu become one loop
// nest (one kernel instead of three). The bias is splat into the
// accumulator block, the k loop carries it in registers, the relu is applied
// to the registers and the block is written once.
// CHECK-LABEL: func.func @dense_relu
// CHECK-NOT: linalg.
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c16
// CHECK: %[[BIAS:.*]] = vector.transfer_read {{.*}} : tensor<16xf32>, vector<16xf32>
// CHECK: %[[INIT:.*]] = vector.broadcast %[[BIAS]] : vector<16xf32> to vector<16x16xf32>
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %c0 to %c784 step %c2 iter_args(%{{.*}} = %[[INIT]]) -> (vector<16x16xf32>)
// CHECK: vector.contract
// CHECK: %[[RELU:.*]] = arith.maximumf %[[SUM]], %{{.*}} : vector<16x16xf32>
// CHECK: vector.transfer_write %[[RELU]]
// CHECK-NOT: vector.transfer_write
// CHECK: } {vdl.parallel}
// CHECK-NOT: scf.for
// CHECK: return
// Without fusion: three loop nests (broadcast, matmul, relu).
// UNFUSED-LABEL: func.func @dense_relu
// UNFUSED-COUNT-3: } {vdl.parallel}
// UNFUSED-NOT: scf.for
// UNFUSED: return
func.func @dense_relu(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>, %b: tensor<400xf32>) -> tensor<128x400xf32> {
  %e = tensor.empty() : tensor<128x400xf32>
  %bias = linalg.broadcast ins(%b : tensor<400xf32>) outs(%e : tensor<128x400xf32>) dimensions = [0]
  %z = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%bias : tensor<128x400xf32>) -> tensor<128x400xf32>
  %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%z : tensor<128x400xf32>) outs(%e : tensor<128x400xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<128x400xf32>
  return %h : tensor<128x400xf32>
}

// The pre-activation is also returned (as the backward pass reads it for the
// activation's derivative): one loop nest still, writing both blocks.
// CHECK-LABEL: func.func @shared_preactivation
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<128x400xf32>, tensor<128x400xf32>)
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %c0 to %c784 step %c2
// CHECK-DAG: vector.transfer_write %[[SUM]]
// CHECK-DAG: arith.maximumf %[[SUM]]
// CHECK: } {vdl.parallel}
// CHECK-NOT: scf.for
// CHECK: return
func.func @shared_preactivation(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>, %b: tensor<400xf32>)
    -> (tensor<128x400xf32>, tensor<128x400xf32>) {
  %e = tensor.empty() : tensor<128x400xf32>
  %bias = linalg.broadcast ins(%b : tensor<400xf32>) outs(%e : tensor<128x400xf32>) dimensions = [0]
  %z = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%bias : tensor<128x400xf32>) -> tensor<128x400xf32>
  %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%z : tensor<128x400xf32>) outs(%e : tensor<128x400xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<128x400xf32>
  return %z, %h : tensor<128x400xf32>, tensor<128x400xf32>
}

// Must not fuse: the consumer reads the matmul's result transposed (a tile
// of it is not the matmul's tile), so it stays a loop nest of its own.
// CHECK-LABEL: func.func @transposed_consumer
// CHECK: vector.contract
// CHECK-NOT: math.tanh
// CHECK: } {vdl.parallel}
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c1
// CHECK: math.tanh
// CHECK: return
#t = affine_map<(d0, d1) -> (d1, d0)>
func.func @transposed_consumer(%x: tensor<128x128xf32>, %w: tensor<128x128xf32>, %c: tensor<128x128xf32>) -> tensor<128x128xf32> {
  %z = linalg.matmul ins(%x, %w : tensor<128x128xf32>, tensor<128x128xf32>) outs(%c : tensor<128x128xf32>) -> tensor<128x128xf32>
  %e = tensor.empty() : tensor<128x128xf32>
  %h = linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]}
      ins(%z : tensor<128x128xf32>) outs(%e : tensor<128x128xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.tanh %in : f32
    linalg.yield %r : f32
  } -> tensor<128x128xf32>
  return %h : tensor<128x128xf32>
}

// A K of 10,000: a 10000x16 panel of w (625 KiB) is more than a quarter of
// the default target's 1 MiB L2, so the K loop is cut into blocks of 2,500
// rows (at most 4,096 fit; 2,500 divides K), each adding into the
// accumulator in memory. The relu can only follow the last block: it stays
// a loop nest of its own, as does the bias broadcast that the first block
// adds to.
// CHECK-LABEL: func.func @deep_dense_relu
// CHECK: vector.broadcast {{.*}} : vector<16xf32> to vector<1x16xf32>
// CHECK: } {vdl.parallel}
// CHECK: scf.for %{{.*}} = %c0 to %c10000 step %c2500
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c2500 step %c2 iter_args({{.*}}) -> (vector<16x16xf32>)
// CHECK: } {vdl.parallel}
// CHECK: arith.maximumf {{.*}} : vector<1x16xf32>
// CHECK: } {vdl.parallel}
// CHECK-NEXT: return
func.func @deep_dense_relu(%x: tensor<128x10000xf32>, %w: tensor<10000x400xf32>, %b: tensor<400xf32>) -> tensor<128x400xf32> {
  %e = tensor.empty() : tensor<128x400xf32>
  %bias = linalg.broadcast ins(%b : tensor<400xf32>) outs(%e : tensor<128x400xf32>) dimensions = [0]
  %z = linalg.matmul ins(%x, %w : tensor<128x10000xf32>, tensor<10000x400xf32>) outs(%bias : tensor<128x400xf32>) -> tensor<128x400xf32>
  %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%z : tensor<128x400xf32>) outs(%e : tensor<128x400xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<128x400xf32>
  return %h : tensor<128x400xf32>
}
