// RUN: vae-opt %s --split-input-file --vdl-update-in-place | FileCheck %s
// RUN: vae-opt %s --split-input-file --vdl-update-in-place --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --canonicalize | FileCheck %s --check-prefix=INPLACE
// RUN: vae-opt %s --split-input-file --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --cse --canonicalize | FileCheck %s --check-prefix=COPIES

// Two parameters (a 3x2 weight at 0, a bias at 16) and their momentum slots,
// as vdl-pack-parameters leaves them: views of the packed arguments at the
// top, the updates, then one insert_slice chain per buffer at the end.
// Re-threaded, each update writes into a view of the chain so far and its
// insertion follows it: every extract/insert pair matches.

// CHECK-LABEL: func.func @sgd_step(
// CHECK-SAME: %[[P:[^:]*]]: tensor<48xf32> {bufferization.writable = true}, %[[S:[^:]*]]: tensor<48xf32> {bufferization.writable = true}
// CHECK: %[[WS:.*]] = tensor.extract_slice %[[P]][0] [6] [1]
// CHECK: %[[W:.*]] = tensor.expand_shape %[[WS]]
// CHECK: %[[MS:.*]] = tensor.extract_slice %[[S]][0] [6] [1]
// CHECK: %[[M:.*]] = tensor.expand_shape %[[MS]]
// CHECK: %[[U:.*]]:2 = linalg.generic {{.*}} outs(%[[W]], %[[M]] :
// CHECK: %[[UC0:.*]] = tensor.collapse_shape %[[U]]#0
// CHECK: %[[P1:.*]] = tensor.insert_slice %[[UC0]] into %[[P]][0] [6] [1]
// CHECK: %[[UC1:.*]] = tensor.collapse_shape %[[U]]#1
// CHECK: %[[S1:.*]] = tensor.insert_slice %[[UC1]] into %[[S]][0] [6] [1]
// CHECK: %[[BS:.*]] = tensor.extract_slice %[[P1]][16] [2] [1]
// CHECK: %[[MB:.*]] = tensor.extract_slice %[[S1]][16] [2] [1]
// CHECK: %[[V:.*]]:2 = linalg.generic {{.*}} outs(%[[BS]], %[[MB]] :
// CHECK: %[[P2:.*]] = tensor.insert_slice %[[V]]#0 into %[[P1]][16] [2] [1]
// CHECK: %[[S2:.*]] = tensor.insert_slice %[[V]]#1 into %[[S1]][16] [2] [1]
// CHECK: return %[[P2]], %[[S2]]

// Bufferized: the updates write into the arguments, nothing is copied.
// INPLACE-LABEL: func.func @sgd_step(
// INPLACE-NOT: memref.alloc
// INPLACE-NOT: memref.copy
// INPLACE: return
// Without the pass One-Shot Bufferize copies the second parameter and its
// slot into new buffers and back: its insertion reads the chain the first
// update wrote, which the analysis cannot tell apart from its own slice.
// COPIES-LABEL: func.func @sgd_step(
// COPIES-COUNT-2: memref.alloc
// COPIES: linalg.generic
// COPIES: linalg.generic
// COPIES-SAME: outs(%alloc, %alloc
// COPIES-COUNT-2: memref.copy %alloc
#map = affine_map<(d0, d1) -> (d0, d1)>
#vec = affine_map<(d0) -> (d0)>
func.func @sgd_step(%p: tensor<48xf32> {bufferization.writable = true},
                    %s: tensor<48xf32> {bufferization.writable = true},
                    %gw: tensor<3x2xf32>, %gb: tensor<2xf32>) -> (tensor<48xf32>, tensor<48xf32>) {
  %ws = tensor.extract_slice %p[0] [6] [1] : tensor<48xf32> to tensor<6xf32>
  %w = tensor.expand_shape %ws [[0, 1]] output_shape [3, 2] : tensor<6xf32> into tensor<3x2xf32>
  %bs = tensor.extract_slice %p[16] [2] [1] : tensor<48xf32> to tensor<2xf32>
  %ms = tensor.extract_slice %s[0] [6] [1] : tensor<48xf32> to tensor<6xf32>
  %m = tensor.expand_shape %ms [[0, 1]] output_shape [3, 2] : tensor<6xf32> into tensor<3x2xf32>
  %mb = tensor.extract_slice %s[16] [2] [1] : tensor<48xf32> to tensor<2xf32>
  %u:2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%gw : tensor<3x2xf32>) outs(%w, %m : tensor<3x2xf32>, tensor<3x2xf32>) {
  ^bb0(%g: f32, %pv: f32, %mv: f32):
    %0 = arith.addf %mv, %g : f32
    %1 = arith.subf %pv, %0 : f32
    linalg.yield %1, %0 : f32, f32
  } -> (tensor<3x2xf32>, tensor<3x2xf32>)
  %v:2 = linalg.generic {indexing_maps = [#vec, #vec, #vec], iterator_types = ["parallel"]}
      ins(%gb : tensor<2xf32>) outs(%bs, %mb : tensor<2xf32>, tensor<2xf32>) {
  ^bb0(%g: f32, %pv: f32, %mv: f32):
    %0 = arith.addf %mv, %g : f32
    %1 = arith.subf %pv, %0 : f32
    linalg.yield %1, %0 : f32, f32
  } -> (tensor<2xf32>, tensor<2xf32>)
  %uc0 = tensor.collapse_shape %u#0 [[0, 1]] : tensor<3x2xf32> into tensor<6xf32>
  %p1 = tensor.insert_slice %uc0 into %p[0] [6] [1] : tensor<6xf32> into tensor<48xf32>
  %p2 = tensor.insert_slice %v#0 into %p1[16] [2] [1] : tensor<2xf32> into tensor<48xf32>
  %uc1 = tensor.collapse_shape %u#1 [[0, 1]] : tensor<3x2xf32> into tensor<6xf32>
  %s1 = tensor.insert_slice %uc1 into %s[0] [6] [1] : tensor<6xf32> into tensor<48xf32>
  %s2 = tensor.insert_slice %v#1 into %s1[16] [2] [1] : tensor<2xf32> into tensor<48xf32>
  return %p2, %s2 : tensor<48xf32>, tensor<48xf32>
}

// -----

// Must not change: the value inserted at 16 was computed into the slice at
// 0 (not an update of the slice it replaces).
// CHECK-LABEL: func.func @moved(
// CHECK: %[[S:.*]] = tensor.extract_slice %{{.*}}[0] [2] [1]
// CHECK: %[[U:.*]] = linalg.generic {{.*}} outs(%[[S]] :
// CHECK: tensor.insert_slice %[[U]] into %{{.*}}[16] [2] [1]
#vec = affine_map<(d0) -> (d0)>
func.func @moved(%p: tensor<48xf32> {bufferization.writable = true}, %g: tensor<2xf32>) -> tensor<48xf32> {
  %s = tensor.extract_slice %p[0] [2] [1] : tensor<48xf32> to tensor<2xf32>
  %u = linalg.generic {indexing_maps = [#vec, #vec], iterator_types = ["parallel"]}
      ins(%g : tensor<2xf32>) outs(%s : tensor<2xf32>) {
  ^bb0(%gv: f32, %pv: f32):
    %0 = arith.subf %pv, %gv : f32
    linalg.yield %0 : f32
  } -> tensor<2xf32>
  %p1 = tensor.insert_slice %u into %p[16] [2] [1] : tensor<2xf32> into tensor<48xf32>
  return %p1 : tensor<48xf32>
}

// -----

// Must not change: two insertions into overlapping slices do not commute.
// CHECK-LABEL: func.func @overlapping(
// CHECK: %[[A:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0] [4] [1]
// CHECK: tensor.insert_slice %{{.*}} into %[[A]][2] [4] [1]
#vec = affine_map<(d0) -> (d0)>
func.func @overlapping(%p: tensor<48xf32> {bufferization.writable = true}, %g: tensor<4xf32>) -> tensor<48xf32> {
  %a = tensor.extract_slice %p[0] [4] [1] : tensor<48xf32> to tensor<4xf32>
  %b = tensor.extract_slice %p[2] [4] [1] : tensor<48xf32> to tensor<4xf32>
  %u = linalg.generic {indexing_maps = [#vec, #vec], iterator_types = ["parallel"]}
      ins(%g : tensor<4xf32>) outs(%b : tensor<4xf32>) {
  ^bb0(%gv: f32, %pv: f32):
    %0 = arith.subf %pv, %gv : f32
    linalg.yield %0 : f32
  } -> tensor<4xf32>
  %w = linalg.generic {indexing_maps = [#vec, #vec], iterator_types = ["parallel"]}
      ins(%g : tensor<4xf32>) outs(%a : tensor<4xf32>) {
  ^bb0(%gv: f32, %pv: f32):
    %0 = arith.addf %pv, %gv : f32
    linalg.yield %0 : f32
  } -> tensor<4xf32>
  %p1 = tensor.insert_slice %w into %p[0] [4] [1] : tensor<4xf32> into tensor<48xf32>
  %p2 = tensor.insert_slice %u into %p1[2] [4] [1] : tensor<4xf32> into tensor<48xf32>
  return %p2 : tensor<48xf32>
}
