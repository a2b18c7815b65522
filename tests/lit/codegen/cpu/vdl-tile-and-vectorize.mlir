// RUN: vae-opt %s --vdl-tile-and-vectorize --canonicalize | FileCheck %s

// Without a #vdl.target on the module the pass assumes an AVX-512 core (32
// registers of 16 floats); vdl-tile-and-vectorize-targets.mlir has the
// AVX2 and NEON blocks.

// 128x400 output: 16x16 accumulator blocks, one k per step. 25 column
// blocks against 8 row blocks: the column-block loop goes outside (each
// 784x16 panel of w is read once and used by all 8 row blocks).
// CHECK-LABEL: func.func @matmul
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c16
// The accumulator block is read once before the k loop and carried through
// it as a vector (registers), then written once.
// CHECK: %[[BLOCK:.*]] = vector.transfer_read {{.*}} : tensor<16x16xf32>, vector<16x16xf32>
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %c0 to %c784 step %c2 iter_args(%[[ACC:.*]] = %[[BLOCK]]) -> (vector<16x16xf32>)
// CHECK-NOT: tensor<16x16xf32>
// Each k: the x column and the w row, one outer product (a contraction
// over k = 1, which vdl-lower-vectors turns into 16 FMAs); two k a step
// (16 accumulators and two k steps' operands fit 32 registers).
// CHECK: %[[COL:.*]] = vector.transfer_read {{.*}} : tensor<16x1xf32>, vector<16x1xf32>
// CHECK: %[[ROW:.*]] = vector.transfer_read {{.*}} : tensor<1x16xf32>, vector<1x16xf32>
// CHECK: %[[NEXT:.*]] = vector.contract {{.*}} %[[COL]], %[[ROW]], %[[ACC]] : vector<16x1xf32>, vector<1x16xf32> into vector<16x16xf32>
// CHECK: %[[NEXT2:.*]] = vector.contract {{.*}}, %[[NEXT]] : vector<16x1xf32>, vector<1x16xf32> into vector<16x16xf32>
// CHECK-NEXT: scf.yield %[[NEXT2]]
// CHECK: vector.transfer_write %[[SUM]], {{.*}} : vector<16x16xf32>, tensor<16x16xf32>
// The outer (column block) loop writes disjoint columns: marked for
// vdl-parallelize.
// CHECK: } {vdl.parallel}
func.func @matmul(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>, %c: tensor<128x400xf32>) -> tensor<128x400xf32> {
  %0 = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%c : tensor<128x400xf32>) -> tensor<128x400xf32>
  return %0 : tensor<128x400xf32>
}

// A weight gradient xᵀ·dy (784x400 output): 49 row blocks against 25 column
// blocks, so the row-block loop stays outside and is the parallel one.
// CHECK-LABEL: func.func @weight_gradient
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c2
// CHECK: vector.contract
// CHECK: } {vdl.parallel}
func.func @weight_gradient(%x: tensor<128x784xf32>, %dy: tensor<128x400xf32>, %c: tensor<784x400xf32>) -> tensor<784x400xf32> {
  %0 = linalg.matmul_transpose_a ins(%x, %dy : tensor<128x784xf32>, tensor<128x400xf32>) outs(%c : tensor<784x400xf32>) -> tensor<784x400xf32>
  return %0 : tensor<784x400xf32>
}

// A matmul on x packed into k-major panels [8][784][16] (a generic
// contraction, as in bench/gemm/kernels.mlir): the same 16x16 register
// block on the innermost m (mi) and n dimensions, the panel loop one step
// at a time and parallel; each k step reads one contiguous 16-float line of
// the panel.
// CHECK-LABEL: func.func @packed_matmul
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c2 iter_args({{.*}}) -> (vector<1x16x16xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<1x1x16xf32>, vector<1x1x16xf32>
// CHECK: vector.contract {{.*}} into vector<1x16x16xf32>
// CHECK: } {vdl.parallel}
#panel_x = affine_map<(mo, mi, n, k) -> (mo, k, mi)>
#panel_w = affine_map<(mo, mi, n, k) -> (k, n)>
#panel_y = affine_map<(mo, mi, n, k) -> (mo, mi, n)>
func.func @packed_matmul(%xp: tensor<8x784x16xf32>, %w: tensor<784x400xf32>, %c: tensor<8x16x400xf32>) -> tensor<8x16x400xf32> {
  %0 = linalg.generic {indexing_maps = [#panel_x, #panel_w, #panel_y],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%xp, %w : tensor<8x784x16xf32>, tensor<784x400xf32>) outs(%c : tensor<8x16x400xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16x400xf32>
  return %0 : tensor<8x16x400xf32>
}

// The transpose that packs Wᵀ for dy·Wᵀ: 16x16 register blocks, one
// vector.transpose each (vdl-lower-vectors makes it AVX-512 shuffles), not a
// strided column read.
// CHECK-LABEL: func.func @transpose
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: %[[BLOCK:.*]] = vector.transfer_read {{.*}} : tensor<16x16xf32>, vector<16x16xf32>
// CHECK: %[[T:.*]] = vector.transpose %[[BLOCK]], [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// CHECK: vector.transfer_write %[[T]], {{.*}} : vector<16x16xf32>, tensor<16x16xf32>
// CHECK: } {vdl.parallel}
func.func @transpose(%w: tensor<400x784xf32>) -> tensor<784x400xf32> {
  %e = tensor.empty() : tensor<784x400xf32>
  %t = linalg.transpose ins(%w : tensor<400x784xf32>) outs(%e : tensor<784x400xf32>) permutation = [1, 0]
  return %t : tensor<784x400xf32>
}

// Odd shapes: blocks need not divide them. 7x20 is one 7x16 block and a
// peeled 7x4 edge, both vectorized (the k loop of 3 unrolls away).
// CHECK-LABEL: func.func @odd_matmul
// CHECK-NOT: scf.for
// CHECK: vector.contract {{.*}} : vector<7x1xf32>, vector<1x16xf32> into vector<7x16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<7x16xf32>, tensor<7x16xf32>
// CHECK: vector.contract {{.*}} : vector<7x1xf32>, vector<1x4xf32> into vector<7x4xf32>
// CHECK: vector.transfer_write {{.*}} : vector<7x4xf32>, tensor<7x4xf32>
// CHECK-NOT: linalg.matmul
func.func @odd_matmul(%x: tensor<7x3xf32>, %w: tensor<3x20xf32>, %c: tensor<7x20xf32>) -> tensor<7x20xf32> {
  %0 = linalg.matmul ins(%x, %w : tensor<7x3xf32>, tensor<3x20xf32>) outs(%c : tensor<7x20xf32>) -> tensor<7x20xf32>
  return %0 : tensor<7x20xf32>
}

// A batch of one: 1 x 20 x 400 is 8,000 multiply-adds, fewer than a
// fork/join is worth (2^16), so its block loop stays on one thread.
// CHECK-LABEL: func.func @batch_one_matmul
// CHECK: scf.for
// CHECK-NOT: vdl.parallel
// CHECK: return
func.func @batch_one_matmul(%x: tensor<1x400xf32>, %w: tensor<400x20xf32>, %c: tensor<1x20xf32>) -> tensor<1x20xf32> {
  %0 = linalg.matmul ins(%x, %w : tensor<1x400xf32>, tensor<400x20xf32>) outs(%c : tensor<1x20xf32>) -> tensor<1x20xf32>
  return %0 : tensor<1x20xf32>
}

// Elementwise: one row, 16 lanes of 784 (= 49 x 16). 100,352 elements:
// the rows are spread over the threads.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c16
// CHECK: math.exp %{{.*}} : vector<1x16xf32>
// CHECK: } {vdl.parallel}
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @elementwise(%x: tensor<128x784xf32>) -> tensor<128x784xf32> {
  %e = tensor.empty() : tensor<128x784xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<128x784xf32>) outs(%e : tensor<128x784xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = math.exp %in : f32
    linalg.yield %1 : f32
  } -> tensor<128x784xf32>
  return %0 : tensor<128x784xf32>
}

// Too small to be worth a fork/join (2,560 elements): no mark.
// CHECK-LABEL: func.func @small_elementwise
// CHECK-NOT: vdl.parallel
// CHECK: return
func.func @small_elementwise(%x: tensor<128x20xf32>) -> tensor<128x20xf32> {
  %e = tensor.empty() : tensor<128x20xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<128x20xf32>) outs(%e : tensor<128x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = math.exp %in : f32
    linalg.yield %1 : f32
  } -> tensor<128x20xf32>
  return %0 : tensor<128x20xf32>
}

// A column sum (a bias gradient): the outer loop runs over the rows being
// summed, every step adds into the same result, so it must stay serial.
// CHECK-LABEL: func.func @column_sum
// CHECK-NOT: vdl.parallel
// CHECK: return
#rows = affine_map<(d0, d1) -> (d0, d1)>
#cols = affine_map<(d0, d1) -> (d1)>
func.func @column_sum(%dy: tensor<128x784xf32>, %init: tensor<784xf32>) -> tensor<784xf32> {
  %0 = linalg.generic {indexing_maps = [#rows, #cols], iterator_types = ["reduction", "parallel"]}
      ins(%dy : tensor<128x784xf32>) outs(%init : tensor<784xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %1 = arith.addf %in, %acc : f32
    linalg.yield %1 : f32
  } -> tensor<784xf32>
  return %0 : tensor<784xf32>
}

// A unit dimension in front is not tiled: the outermost tile loop is over
// the next one (64 rows of 1024), whose steps write their own rows.
// CHECK-LABEL: func.func @unit_dimension_in_front
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c1
// CHECK: } {vdl.parallel}
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @unit_dimension_in_front(%x: tensor<1x64x1024xf32>) -> tensor<1x64x1024xf32> {
  %e = tensor.empty() : tensor<1x64x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x64x1024xf32>) outs(%e : tensor<1x64x1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = math.exp %in : f32
    linalg.yield %1 : f32
  } -> tensor<1x64x1024xf32>
  return %0 : tensor<1x64x1024xf32>
}

// A bias gradient's partial sums, as convert-vdl-to-linalg lowers
// vdl.channel_sum: loops (c, b, pos), the channels outermost, each writing
// its own row of partial sums over the batch: parallel, with vectors along
// the pixels.
// CHECK-LABEL: func.func @channel_partial_sums
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1
// CHECK: arith.addf {{.*}} : vector<1x16xf32>
// CHECK: } {vdl.parallel}
#cbp = affine_map<(d0, d1, d2) -> (d1, d0, d2)>
#cp = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @channel_partial_sums(%dy: tensor<128x32x784xf32>, %init: tensor<32x784xf32>) -> tensor<32x784xf32> {
  %0 = linalg.generic {indexing_maps = [#cbp, #cp], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%dy : tensor<128x32x784xf32>) outs(%init : tensor<32x784xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %1 = arith.addf %in, %acc : f32
    linalg.yield %1 : f32
  } -> tensor<32x784xf32>
  return %0 : tensor<32x784xf32>
}

// Regression (use after free): the parallel mark used to be decided after
// replaceOp had erased the op it asks about, so it read freed memory and a
// wrong answer would have been a data race in the training step. Built with
// -fsanitize=address (the `asan` preset), this function aborted vae-opt.
// Three kernels in a row, each decided on its own: the matmul and the large
// elementwise op are parallel, the column sum between them is not.
// CHECK-LABEL: func.func @decided_before_replacement
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK: } {vdl.parallel}
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c1 iter_args({{.*}}) -> (tensor<400xf32>)
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK-NOT: vdl.parallel
// CHECK: math.exp %{{.*}} : vector<1x16xf32>
// CHECK: } {vdl.parallel}
func.func @decided_before_replacement(%x: tensor<128x784xf32>, %w: tensor<784x400xf32>,
    %c: tensor<128x400xf32>, %init: tensor<400xf32>) -> (tensor<400xf32>, tensor<128x400xf32>) {
  %y = linalg.matmul ins(%x, %w : tensor<128x784xf32>, tensor<784x400xf32>) outs(%c : tensor<128x400xf32>) -> tensor<128x400xf32>
  %sum = linalg.generic {indexing_maps = [#rows, #cols], iterator_types = ["reduction", "parallel"]}
      ins(%y : tensor<128x400xf32>) outs(%init : tensor<400xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %1 = arith.addf %in, %acc : f32
    linalg.yield %1 : f32
  } -> tensor<400xf32>
  %e = tensor.empty() : tensor<128x400xf32>
  %exp = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<128x400xf32>) outs(%e : tensor<128x400xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = math.exp %in : f32
    linalg.yield %1 : f32
  } -> tensor<128x400xf32>
  return %sum, %exp : tensor<400xf32>, tensor<128x400xf32>
}

// A sum of everything into one scalar (the squared gradient norm of
// clipping): partial sums per column first, a vector of 16 added to
// elementwise for each row, then one sum of the 400 partial sums. No lane
// reduction in the 784 x 400 loop.
// CHECK-LABEL: func.func @squared_norm
// CHECK: tensor.empty() : tensor<400xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c1 iter_args(%{{.*}}) -> (tensor<400xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16
// CHECK-NOT: vector.multi_reduction
// CHECK: vector.contract {{.*}} into vector<16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c400 step %c16 iter_args(%{{.*}}) -> (vector<f32>)
// CHECK: vector.multi_reduction <add>, %{{.*}} [0] : vector<16xf32> to f32
func.func @squared_norm(%g: tensor<784x400xf32>, %init: tensor<f32>) -> tensor<f32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%g : tensor<784x400xf32>) outs(%init : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %sum = arith.addf %sq, %out : f32
    linalg.yield %sum : f32
  } -> tensor<f32>
  return %0 : tensor<f32>
}

// A direct convolution (conv-algorithm=direct of convert-vdl-to-linalg):
// register blocks of 7 output pixels of a row x 32 output channels (two
// vectors), sized so that the 3 filter rows of a step fit beside the 14
// accumulators; one output row, one kernel row and one input channel a
// step. Each tile is a 1-D convolution: 3 taps x 7 pixels, each an input
// pixel broadcast times a filter row into an accumulator kept in registers
// through the kernel-row and channel loops.
// CHECK-LABEL: func.func @direct_conv
// CHECK: scf.for %{{.*}} = %c0 to %c14 step %c7
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK: %[[BLOCK:.*]] = vector.transfer_read {{.*}} : tensor<1x7x32xf32>, vector<1x7x32xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %[[BLOCK]]) -> (vector<1x7x32xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args(%{{.*}}) -> (vector<1x7x32xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<1x15x1xf32>, vector<1x15x1xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<3x1x32xf32>, vector<3x1x32xf32>
// CHECK-COUNT-21: vector.contract {{.*}} : vector<1x1x1xf32>, vector<1x32xf32> into vector<1x1x32xf32>
// CHECK-NOT: vector.contract
// CHECK: } {vdl.parallel}
// CHECK-NOT: linalg.conv
func.func @direct_conv(%x: tensor<2x30x30x32xf32>, %w: tensor<3x3x32x64xf32>, %c: tensor<2x14x14x64xf32>) -> tensor<2x14x14x64xf32> {
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<2x30x30x32xf32>, tensor<3x3x32x64xf32>) outs(%c : tensor<2x14x14x64xf32>) -> tensor<2x14x14x64xf32>
  return %0 : tensor<2x14x14x64xf32>
}

// A batched transpose (NCHW <-> NHWC around direct convolutions): each
// [1, 16, 16] tile is transposed as the 16 x 16 square it is (shuffles once
// lowered), not as a 3-D vector.transpose (256 extracts and inserts).
// CHECK-LABEL: func.func @batched_transpose
// (Rank-reducing slices: a strided tile does not collapse on memrefs.)
// CHECK: tensor.extract_slice {{.*}} : tensor<1x16x16xf32> to tensor<16x16xf32>
// CHECK: vector.transpose %{{.*}}, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// CHECK-NOT: vector<1x16x16xf32>
// CHECK: return
func.func @batched_transpose(%x: tensor<8x32x784xf32>) -> tensor<8x784x32xf32> {
  %e = tensor.empty() : tensor<8x784x32xf32>
  %t = linalg.transpose ins(%x : tensor<8x32x784xf32>) outs(%e : tensor<8x784x32xf32>) permutation = [0, 2, 1]
  return %t : tensor<8x784x32xf32>
}
