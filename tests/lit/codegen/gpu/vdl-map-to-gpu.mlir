// RUN: vae-opt %s --pass-pipeline='builtin.module(func.func(vdl-map-to-gpu))' -split-input-file | FileCheck %s

// An elementwise op: one thread per element, 256 per block over the
// linearized iteration space (128 x 400 = 51200 threads, 200 blocks), the
// column fastest, every thread past the end idle.
// CHECK-LABEL: func.func @relu
// CHECK-DAG: %[[BLOCKS:.*]] = arith.constant 200 : index
// CHECK-DAG: %[[THREADS:.*]] = arith.constant 256 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BLOCKS]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[THREADS]],
// CHECK:   %[[FIRST:.*]] = arith.muli %[[BX]], %[[THREADS]]
// CHECK:   %[[ID:.*]] = arith.addi %[[FIRST]], %[[TX]]
// CHECK:   %[[INSIDE:.*]] = arith.cmpi slt, %[[ID]], %{{.*}}
// CHECK:   scf.if %[[INSIDE]] {
// CHECK:     %[[COL:.*]] = arith.remui %[[ID]], %{{.*}}
// CHECK:     %[[ROW:.*]] = arith.divui %[[ID]], %{{.*}}
// CHECK:     memref.load %{{.*}}[%[[ROW]], %[[COL]]]
// CHECK:     arith.maximumf
// CHECK:     memref.store
// CHECK:   gpu.terminator
// CHECK-NOT: gpu.launch
func.func @relu(%in: memref<128x400xf32>, %out: memref<128x400xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%in : memref<128x400xf32>) outs(%out : memref<128x400xf32>) {
  ^bb0(%x: f32, %y: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A matmul: a block per 32 x 32 tile of C (64 x 64 from 128 such blocks
// on), 16 x 16 threads. Per K slice of 16 the threads stage A and B in
// shared memory (zeros past the edges), wait, and each multiplies its 2 x 2
// register tile (a private array of constant indices); C read and written
// once, where the tile is inside it.
// CHECK-LABEL: func.func @matmul
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c52, {{.*}}) threads({{.*}}) in (%{{.*}} = %c256, {{.*}}) workgroup(%[[SA:.*]] : memref<16x32xf32, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<16x32xf32, #gpu.address_space<workgroup>>)
// CHECK:   %[[ACC:.*]] = memref.alloca() : memref<2x2xf32>
// CHECK:   scf.for %[[K0:.*]] = %c0 to %c784 step %c16 {
// CHECK:     scf.if %{{.*}} -> (f32) {
// CHECK:       memref.load %{{.*}} : memref<128x784xf32>
// CHECK:     } else {
// CHECK:       scf.yield %cst : f32
// CHECK:     memref.store %{{.*}}, %[[SA]]
// CHECK:     memref.load %{{.*}} : memref<784x400xf32>
// CHECK:     memref.store %{{.*}}, %[[SB]]
// CHECK:     gpu.barrier
// CHECK:     %[[A:.*]] = memref.load %[[SA]][%c0,
// CHECK:     %[[B:.*]] = memref.load %[[SB]][%c0,
// CHECK:     %[[SUM:.*]] = memref.load %[[ACC]][%c0, %c0]
// CHECK:     %[[NEXT:.*]] = math.fma %[[A]], %[[B]], %[[SUM]] : f32
// CHECK:     memref.store %[[NEXT]], %[[ACC]][%c0, %c0]
// CHECK-COUNT-63: math.fma
// CHECK:     gpu.barrier
// CHECK:   }
// CHECK:   scf.if
// CHECK:     memref.load %[[ACC]]
// CHECK:     memref.load %{{.*}} : memref<128x400xf32>
// CHECK:     arith.addf
// CHECK:     memref.store %{{.*}} : memref<128x400xf32>
// CHECK-COUNT-3: memref.store %{{.*}} : memref<128x400xf32>
// CHECK:   gpu.terminator
func.func @matmul(%a: memref<128x784xf32>, %b: memref<784x400xf32>, %c: memref<128x400xf32>) {
  linalg.matmul ins(%a, %b : memref<128x784xf32>, memref<784x400xf32>) outs(%c : memref<128x400xf32>)
  return
}

// -----

// A dense layer: the bias broadcast into C, then C += x·W. One launch; its
// epilogue writes bias + x·W (no broadcast kernel, C never read).
// CHECK-LABEL: func.func @dense
// CHECK-COUNT-1: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: scf.if
// CHECK:   memref.load %{{.*}} : memref<2x2xf32>
// CHECK:   %[[BIAS:.*]] = memref.load %{{.*}} : memref<400xf32>
// CHECK:   %[[OUT:.*]] = arith.addf %[[BIAS]], %{{.*}} : f32
// CHECK:   memref.store %[[OUT]], %{{.*}} : memref<128x400xf32>
// CHECK-NOT: linalg.broadcast
func.func @dense(%x: memref<128x784xf32>, %w: memref<784x400xf32>, %bias: memref<400xf32>, %y: memref<128x400xf32>) {
  linalg.broadcast ins(%bias : memref<400xf32>) outs(%y : memref<128x400xf32>) dimensions = [0]
  linalg.matmul ins(%x, %w : memref<128x784xf32>, memref<784x400xf32>) outs(%y : memref<128x400xf32>)
  return
}

// -----

// A ReLU after the dense layer (its output a view made between the two):
// computed in the matmul's epilogue from the value just stored, one launch
// for all three ops; the pre-activation still written for the backward pass.
// CHECK-LABEL: func.func @dense_relu
// CHECK: %[[H:.*]] = memref.view
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK:   scf.if
// CHECK:     %[[SUM:.*]] = arith.addf %{{.*}}, %{{.*}} : f32
// CHECK:     memref.store %[[SUM]], %[[Y:.*]][%{{.*}}, %{{.*}}] : memref<128x400xf32>
// CHECK:     %[[RELU:.*]] = arith.maximumf %[[SUM]], %{{.*}} : f32
// CHECK:     memref.store %[[RELU]], %[[H]][%{{.*}}, %{{.*}}] : memref<128x400xf32>
// CHECK-NOT: linalg.generic
func.func @dense_relu(%x: memref<128x784xf32>, %w: memref<784x400xf32>, %bias: memref<400xf32>,
                      %y: memref<128x400xf32>, %arena: memref<204800xi8>) {
  %zero = arith.constant 0.0 : f32
  linalg.broadcast ins(%bias : memref<400xf32>) outs(%y : memref<128x400xf32>) dimensions = [0]
  linalg.matmul ins(%x, %w : memref<128x784xf32>, memref<784x400xf32>) outs(%y : memref<128x400xf32>)
  %c0 = arith.constant 0 : index
  %h = memref.view %arena[%c0][] : memref<204800xi8> to memref<128x400xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<128x400xf32>) outs(%h : memref<128x400xf32>) {
  ^bb0(%v: f32, %out: f32):
    %r = arith.maximumf %v, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// The same, but the memory plan gave the ReLU's output the bytes of the
// matmul's A (dead after the matmul in program order): in the epilogue it
// would overwrite A while other blocks still read it. Two launches.
// CHECK-LABEL: func.func @dense_relu_reusing_a
// CHECK: gpu.launch
// CHECK:   gpu.barrier
// CHECK: gpu.launch
// CHECK:   arith.maximumf
func.func @dense_relu_reusing_a(%w: memref<20x33xf32>, %arena: memref<4096xi8>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1024 = arith.constant 1024 : index
  %a = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x20xf32>
  %y = memref.view %arena[%c1024][] : memref<4096xi8> to memref<8x33xf32>
  linalg.matmul ins(%a, %w : memref<8x20xf32>, memref<20x33xf32>) outs(%y : memref<8x33xf32>)
  %h = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x33xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<8x33xf32>) outs(%h : memref<8x33xf32>) {
  ^bb0(%v: f32, %out: f32):
    %r = arith.maximumf %v, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A reduction inside a parallel loop (a row sum): the accumulator in a
// register, an iter_arg, read before and written after the loop.
// CHECK-LABEL: func.func @row_sums
// CHECK: gpu.launch
// CHECK:   scf.if
// CHECK:     %[[INIT:.*]] = memref.load %[[OUT:.*]][%[[I:.*]]] : memref<128xf32>
// CHECK:     %[[SUM:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32) {
// CHECK-NOT:   memref.store
// CHECK:       %[[NEXT:.*]] = arith.addf %[[ACC]], %{{.*}} : f32
// CHECK:       scf.yield %[[NEXT]] : f32
// CHECK:     memref.store %[[SUM]], %[[OUT]][%[[I]]]
func.func @row_sums(%in: memref<128x784xf32>, %out: memref<128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%in : memref<128x784xf32>) outs(%out : memref<128xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A bias gradient sums over the batch, its outer dimension: interchanged, a
// kernel of a thread per column (784), not a serial loop around one.
// CHECK-LABEL: func.func @column_sums
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4, {{.*}}) threads({{.*}}) in (%{{.*}} = %c256,
// CHECK:   scf.for {{.*}} iter_args
func.func @column_sums(%in: memref<128x784xf32>, %out: memref<784xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%in : memref<128x784xf32>) outs(%out : memref<784xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// What is not a parallel loop nest runs serially on the device, in program
// order between the kernels: a full reduction, a stored scalar (computed
// on the host from an argument) and a 0-d update that reads it, batched
// into one single-thread launch up to the next parallel loop; a copy is a
// kernel like the rest.
// CHECK-LABEL: func.func @serial
// CHECK:     %[[STEP:.*]] = arith.sitofp %{{.*}} : i64 to f32
// CHECK:     %[[ONE:.*]] = arith.constant 1 : index
// CHECK:     gpu.launch blocks({{.*}}) in (%{{.*}} = %[[ONE]], {{.*}}) threads({{.*}}) in (%{{.*}} = %[[ONE]],
// CHECK:       scf.for {{.*}} iter_args
// CHECK:       memref.store %[[STEP]]
// CHECK:       arith.mulf
// CHECK:       gpu.terminator
// CHECK:     gpu.launch
// CHECK:       scf.if
// CHECK:         memref.load %{{.*}} : memref<128xf32>
// CHECK:         memref.store %{{.*}} : memref<128xf32>
// CHECK-NOT: memref.copy
func.func @serial(%v: memref<128xf32>, %sum: memref<f32>, %t: memref<f32>, %step: i64, %w: memref<128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%v : memref<128xf32>) outs(%sum : memref<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  %f = arith.sitofp %step : i64 to f32
  memref.store %f, %t[] : memref<f32>
  linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%t : memref<f32>) outs(%sum : memref<f32>) {
  ^bb0(%x: f32, %y: f32):
    %p = arith.mulf %x, %y : f32
    linalg.yield %p : f32
  }
  memref.copy %v, %w : memref<128xf32> to memref<128xf32>
  return
}

// -----

// vae_init_params writes host memory in every library: untouched.
// CHECK-LABEL: func.func @vae_init_params
// CHECK-NOT: gpu.launch
// CHECK: linalg.fill
func.func @vae_init_params(%params: memref<16xf32>, %seed: i64) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%params : memref<16xf32>)
  return
}
