// RUN: vae-opt %s --vdl-lower-vectors --canonicalize | FileCheck %s

// One step of a matmul's k loop: the 16x1 column of x times the 1x16 row of
// w, added to the 16x16 accumulator carried by the loop. It must become one
// FMA on vector<16xf32> per accumulator row, the x element splat, and no
// scalar arithmetic (an unrolled 3-D mulf would give 256 scalar mulf).
// CHECK-LABEL: func.func @outer_product_step
// CHECK-COUNT-16: vector.fma %{{.*}} : vector<16xf32>
// CHECK-NOT: vector.fma
// CHECK-NOT: arith.mulf
// CHECK: return
#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#acc = affine_map<(m, n, k) -> (m, n)>
func.func @outer_product_step(%col: vector<16x1xf32>, %row: vector<1x16xf32>,
                              %acc: vector<16x16xf32>) -> vector<16x16xf32> {
  %0 = vector.contract {indexing_maps = [#lhs, #rhs, #acc],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %col, %row, %acc
      : vector<16x1xf32>, vector<1x16xf32> into vector<16x16xf32>
  return %0 : vector<16x16xf32>
}

// A 16x16 block of a transpose: 64 two-source shuffles (unpack, shuffle and
// permute stages of AVX-512), not 256 scalar extracts and inserts.
// CHECK-LABEL: func.func @transpose_block
// CHECK-COUNT-64: vector.shuffle
// CHECK-NOT: vector.shuffle
// CHECK-NOT: vector.extract %{{.*}}[{{[0-9]+}}, {{[0-9]+}}]
// CHECK: return
func.func @transpose_block(%block: vector<16x16xf32>) -> vector<16x16xf32> {
  %0 = vector.transpose %block, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
  return %0 : vector<16x16xf32>
}


// A shape_cast that drops unit dimensions in front of one vector (a bias
// gradient's partial sums read a [1, 1, 16] tile of [B, C, P] into a
// [1, 16] row): the row extracted once, not 16 lanes one by one.
// CHECK-LABEL: func.func @unit_shape_cast
// CHECK: %[[ROW:.*]] = vector.extract %{{.*}}[0, 0] : vector<16xf32> from vector<1x1x16xf32>
// CHECK-NOT: vector.extract {{.*}} : f32 from
// CHECK: %[[BACK:.*]] = vector.broadcast %[[ROW]] : vector<16xf32> to vector<1x16xf32>
// CHECK: arith.addf %{{.*}}, %[[BACK]] : vector<1x16xf32>
func.func @unit_shape_cast(%x: vector<1x1x16xf32>, %acc: vector<1x16xf32>) -> vector<1x16xf32> {
  %0 = vector.shape_cast %x : vector<1x1x16xf32> to vector<1x16xf32>
  %1 = arith.addf %acc, %0 : vector<1x16xf32>
  return %1 : vector<1x16xf32>
}
