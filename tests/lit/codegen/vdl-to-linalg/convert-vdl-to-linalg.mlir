// RUN: vae-opt %s --convert-vdl-to-linalg --split-input-file | FileCheck %s
// RUN: vae-opt %s --convert-vdl-to-linalg=conv-algorithm=direct --split-input-file \
// RUN:   | FileCheck %s --check-prefix=DIRECT
// One case per lowering pattern.

// CHECK-LABEL: func.func @dense
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4xf32>
// CHECK: %[[B:.*]] = linalg.broadcast ins(%{{.*}} : tensor<4xf32>) outs(%[[E]] : tensor<2x4xf32>) dimensions = [0]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x4xf32>) outs(%[[B]] : tensor<2x4xf32>)
// CHECK-NOT: vdl.
func.func @dense(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @relu
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
func.func @relu(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.relu %x : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @tanh
// CHECK: math.tanh
func.func @tanh(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.tanh %x : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// 1 / (1 + exp(-x))
// CHECK-LABEL: func.func @sigmoid
// CHECK: %[[N:.*]] = arith.negf
// CHECK: %[[E:.*]] = math.exp %[[N]]
// CHECK: %[[D:.*]] = arith.addf %{{.*}}, %[[E]]
// CHECK: arith.divf %{{.*}}, %[[D]]
func.func @sigmoid(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.sigmoid %x : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// The stable form max(x, 0) + log1p(exp(-|x|)): no exp of a large positive.
// CHECK-LABEL: func.func @softplus
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[A:.*]] = math.absf %[[IN]]
// CHECK: %[[N:.*]] = arith.negf %[[A]]
// CHECK: %[[E:.*]] = math.exp %[[N]]
// CHECK: %[[L:.*]] = math.log1p %[[E]]
// CHECK: %[[M:.*]] = arith.maximumf %[[IN]]
// CHECK: arith.addf %[[M]], %[[L]]
func.func @softplus(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.softplus %x : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @exp_log_neg
// CHECK: math.exp
// CHECK: math.log
// CHECK: arith.negf
func.func @exp_log_neg(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.exp %x : tensor<2x4xf32>
  %1 = vdl.log %0 : tensor<2x4xf32>
  %2 = vdl.neg %1 : tensor<2x4xf32>
  return %2 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @leaky_relu
// CHECK: %[[ALPHA:.*]] = arith.constant 2.000000e-01 : f32
// CHECK: %[[S:.*]] = arith.mulf %[[ALPHA]], %[[IN:.*]] : f32
// CHECK: %[[P:.*]] = arith.cmpf ogt, %[[IN]]
// CHECK: arith.select %[[P]], %[[IN]], %[[S]]
func.func @leaky_relu(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.leaky_relu %x alpha = 0.2 : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @elu
// CHECK: math.expm1
// CHECK: arith.select
func.func @elu(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.elu %x alpha = 1.0 : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @arithmetic
// CHECK: arith.addf
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.divf
func.func @arithmetic(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = vdl.add %a, %b : tensor<4xf32>
  %1 = vdl.sub %0, %b : tensor<4xf32>
  %2 = vdl.mul %1, %b : tensor<4xf32>
  %3 = vdl.div %2, %b : tensor<4xf32>
  return %3 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @constant
// CHECK: %[[C:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: linalg.fill ins(%[[C]] : f32) outs(%{{.*}} : tensor<2x4xf32>)
func.func @constant() -> tensor<2x4xf32> {
  %0 = vdl.constant 0.5 : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// mu + exp(0.5 * logvar) * eps
// CHECK-LABEL: func.func @reparameterize
// CHECK: ^bb0(%[[MU:.*]]: f32, %[[LV:.*]]: f32, %[[EPS:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[H:.*]] = arith.mulf %{{.*}}, %[[LV]]
// CHECK: %[[S:.*]] = math.exp %[[H]]
// CHECK: %[[SE:.*]] = arith.mulf %[[S]], %[[EPS]]
// CHECK: arith.addf %[[MU]], %[[SE]]
func.func @reparameterize(%mu: tensor<2x3xf32>, %lv: tensor<2x3xf32>, %eps: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = vdl.reparameterize %mu, %lv, %eps : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A per-example reduction over every non-batch dimension, from zero.
// CHECK: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @kl_normal
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: outs(%[[Z]] : tensor<2xf32>)
// CHECK: math.exp
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
// CHECK: linalg.yield
func.func @kl_normal(%mu: tensor<2x3xf32>, %lv: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = vdl.kl_normal %mu, %lv prior(0.0, 2.0) : tensor<2x3xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// l * t - softplus(l), summed over both non-batch dimensions.
// CHECK-LABEL: func.func @bernoulli
// CHECK: iterator_types = ["parallel", "reduction", "reduction"]
// CHECK: arith.mulf
// CHECK: math.log1p
// CHECK: arith.subf
func.func @bernoulli(%l: tensor<2x3x5xf32>, %x: tensor<2x3x5xf32>) -> tensor<2xf32> {
  %0 = vdl.bernoulli_log_prob %l, %x : tensor<2x3x5xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @gaussian
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: math.exp
// CHECK: arith.constant 0.918938517 : f32
func.func @gaussian(%m: tensor<2x3xf32>, %lv: tensor<2x3xf32>, %x: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = vdl.gaussian_log_prob %m, %lv, %x : tensor<2x3xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// sigma = 2: -0.5/sigma^2 = -0.125, log 2 + 0.5 log 2pi = 1.61208571.
// CHECK-LABEL: func.func @gaussian_fixed
// CHECK-DAG: arith.constant -1.250000e-01 : f32
// CHECK-DAG: arith.constant 1.6120857 : f32
// CHECK-NOT: math.
func.func @gaussian_fixed(%m: tensor<2x3xf32>, %x: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = vdl.gaussian_fixed_log_prob %m, %x sigma = 2.0 : tensor<2x3xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// The mean scales each term by 1/N inside the sum.
// CHECK-LABEL: func.func @reductions
// CHECK: iterator_types = ["reduction"]
// CHECK: arith.constant 2.500000e-01 : f32
// CHECK: iterator_types = ["reduction"]
// CHECK-NOT: arith.mulf
// CHECK: return
func.func @reductions(%x: tensor<4xf32>) -> (tensor<f32>, tensor<f32>) {
  %0 = vdl.reduce_mean %x : tensor<4xf32> -> tensor<f32>
  %1 = vdl.reduce_sum %x : tensor<4xf32> -> tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// -----

// beta * kl - log_likelihood on 0-d tensors.
// CHECK-LABEL: func.func @elbo
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}], iterator_types = []}
// CHECK: ^bb0(%[[LL:.*]]: f32, %[[KL:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[K:.*]] = arith.mulf %[[B]], %[[KL]]
// CHECK: arith.subf %[[K]], %[[LL]]
func.func @elbo(%ll: tensor<f32>, %kl: tensor<f32>, %beta: tensor<f32>) -> tensor<f32> {
  %0 = vdl.elbo %ll, %kl, %beta : tensor<f32>
  return %0 : tensor<f32>
}

// -----

// dy·Wᵀ transposes W once, then a plain matmul; xᵀ·dy is matmul_transpose_a.
// CHECK-LABEL: func.func @matmul_grads
// CHECK: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<3x2xf32>) outs(%{{.*}} : tensor<2x3xf32>) permutation = [1, 0]
// CHECK: linalg.matmul ins(%{{.*}}, %[[T]] : tensor<4x2xf32>, tensor<2x3xf32>)
// CHECK: linalg.matmul_transpose_a ins(%{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<4x2xf32>)
func.func @matmul_grads(%x: tensor<4x3xf32>, %w: tensor<3x2xf32>, %dy: tensor<4x2xf32>) -> (tensor<4x3xf32>, tensor<3x2xf32>) {
  %dx = vdl.matmul %dy, %w transpose_rhs : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32>
  %dw = vdl.matmul %x, %dy transpose_lhs : tensor<4x3xf32>, tensor<4x2xf32> -> tensor<3x2xf32>
  return %dx, %dw : tensor<4x3xf32>, tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @rows_and_broadcast
// CHECK: iterator_types = ["reduction", "parallel"]
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel"]}
// CHECK: arith.constant 2.500000e-01 : f32
func.func @rows_and_broadcast(%dy: tensor<4x2xf32>, %s: tensor<f32>) -> (tensor<2xf32>, tensor<4xf32>) {
  %db = vdl.reduce_rows %dy : tensor<4x2xf32> -> tensor<2xf32>
  %b = vdl.broadcast %s scale = 0.25 : tensor<f32> -> tensor<4xf32>
  return %db, %b : tensor<2xf32>, tensor<4xf32>
}

// -----

// The per-example adjoint g[b] is read through the map (d0, d1) -> (d0).
// CHECK: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @per_example_grads
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[ROW]], #{{.*}}, #{{.*}}]
// CHECK: math.exp
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[ROW]], #{{.*}}]
// CHECK: arith.divf
func.func @per_example_grads(%m: tensor<4x2xf32>, %g: tensor<4xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %0:2 = vdl.kl_normal_grad %m, %m, %g prior(0.0, 1.0) : tensor<4x2xf32>, tensor<4xf32>
  %1 = vdl.bernoulli_log_prob_grad %m, %m, %g : tensor<4x2xf32>, tensor<4xf32>
  return %0#0, %0#1, %1 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// The update writes into its own operands (destination-passing), so
// bufferization updates parameters and state in place. The learning rate,
// decay rates, epsilon and weight decay are run-time scalars, read inside
// the loop like the bias corrections.
// CHECK-LABEL: func.func @adam
// CHECK-SAME: (%[[P:[^:]*]]: tensor<8xf32>, %[[G:[^:]*]]: tensor<8xf32>, %[[M:[^:]*]]: tensor<8xf32>, %[[V:[^:]*]]: tensor<8xf32>, %[[BC1:[^:]*]]: tensor<f32>, %[[BC2:[^:]*]]: tensor<f32>, %[[LR:[^:]*]]: tensor<f32>, %[[B1:[^:]*]]: tensor<f32>, %[[B2:[^:]*]]: tensor<f32>, %[[EPS:[^:]*]]: tensor<f32>, %[[WD:[^:]*]]: tensor<f32>)
// CHECK: linalg.generic {{.*}} ins(%[[G]], %[[BC1]], %[[BC2]], %[[LR]], %[[B1]], %[[B2]], %[[EPS]], %[[WD]] : tensor<8xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) outs(%[[P]], %[[M]], %[[V]] : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK: math.sqrt
func.func @adam(%p: tensor<8xf32>, %g: tensor<8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>, %bc1: tensor<f32>, %bc2: tensor<f32>, %lr: tensor<f32>, %b1: tensor<f32>, %b2: tensor<f32>, %eps: tensor<f32>, %wd: tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %0:3 = vdl.adam_update %p, %g, %m, %v, %bc1, %bc2 lr %lr beta1 %b1 beta2 %b2 eps %eps weight_decay %wd : tensor<8xf32>, tensor<f32>
  return %0#0, %0#1, %0#2 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// The clipping factor: max > 0 ? min(1, max / (sqrt(n) + 1e-6)) : 1, one
// scalar loop.
// CHECK-LABEL: func.func @clip_coefficient
// CHECK: linalg.generic
// CHECK: math.sqrt
// CHECK: arith.minimumf
// CHECK: arith.cmpf ogt
// CHECK: arith.select
func.func @clip_coefficient(%n: tensor<f32>, %max: tensor<f32>) -> tensor<f32> {
  %0 = vdl.clip_coefficient %n, %max : tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Reshapes are views: every non-batch dimension collapsed into one, then
// expanded into the result's; no copy, no linalg op.
// CHECK-LABEL: func.func @reshape
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] : tensor<2x1x4x4xf32> into tensor<2x16xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[\[}}0], [1, 2, 3]] output_shape [2, 2, 2, 4] : tensor<2x16xf32> into tensor<2x2x2x4xf32>
// CHECK-NOT: linalg
func.func @reshape(%x: tensor<2x1x4x4xf32>) -> tensor<2x2x2x4xf32> {
  %0 = vdl.reshape %x : tensor<2x1x4x4xf32> -> tensor<2x2x2x4xf32>
  return %0 : tensor<2x2x2x4xf32>
}

// -----

// conv-algorithm=auto (the default) computes a convolution directly where
// its output channels fill a vector register (16 on the default AVX-512
// target) and it has more than one input channel, else through im2col (the
// cases below: 4 and 1 output channels; here one input channel).
// CHECK-LABEL: func.func @auto_direct
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK-NOT: linalg.matmul
// CHECK-LABEL: func.func @auto_one_input_channel
// CHECK: linalg.matmul
// CHECK-NOT: linalg.conv_2d_nhwc_hwcf
func.func @auto_direct(%x: tensor<2x2x5x5xf32>, %w: tensor<16x2x3x3xf32>) -> tensor<2x16x3x3xf32> {
  %0 = vdl.conv2d %x, %w stride = 2 padding = 1 : (tensor<2x2x5x5xf32>, tensor<16x2x3x3xf32>) -> tensor<2x16x3x3xf32>
  return %0 : tensor<2x16x3x3xf32>
}
func.func @auto_one_input_channel(%x: tensor<2x1x5x5xf32>, %w: tensor<16x1x3x3xf32>) -> tensor<2x16x3x3xf32> {
  %0 = vdl.conv2d %x, %w stride = 2 padding = 1 : (tensor<2x1x5x5xf32>, tensor<16x1x3x3xf32>) -> tensor<2x16x3x3xf32>
  return %0 : tensor<2x16x3x3xf32>
}

// -----

// auto keeps a kernel wider than 7 on im2col whatever its channels: the
// direct filter gradient and transposed convolution would copy k² slices.
// CHECK-LABEL: func.func @auto_wide_kernel
// CHECK: linalg.matmul
// CHECK-NOT: linalg.conv_2d_nhwc_hwcf
// CHECK-LABEL: func.func @auto_widest_direct_kernel
// CHECK: linalg.conv_2d_nhwc_hwcf
func.func @auto_wide_kernel(%x: tensor<2x2x9x9xf32>, %w: tensor<16x2x9x9xf32>) -> tensor<2x16x3x3xf32> {
  %0 = vdl.conv2d %x, %w stride = 1 padding = 1 : (tensor<2x2x9x9xf32>, tensor<16x2x9x9xf32>) -> tensor<2x16x3x3xf32>
  return %0 : tensor<2x16x3x3xf32>
}
func.func @auto_widest_direct_kernel(%x: tensor<2x2x9x9xf32>, %w: tensor<16x2x7x7xf32>) -> tensor<2x16x5x5xf32> {
  %0 = vdl.conv2d %x, %w stride = 1 padding = 1 : (tensor<2x2x9x9xf32>, tensor<16x2x7x7xf32>) -> tensor<2x16x5x5xf32>
  return %0 : tensor<2x16x5x5xf32>
}

// -----

// conv-algorithm=direct: the input copied channels-last into a zero border,
// the filter to [k, k, C, O], linalg.conv_2d_nhwc_hwcf into the broadcast
// bias, the result back to NCHW.
// DIRECT-LABEL: func.func @conv2d
// DIRECT: %[[NHWC:.*]] = linalg.transpose ins(%{{.*}} : tensor<2x1x25xf32>) outs(%{{.*}} : tensor<2x25x1xf32>) permutation = [0, 2, 1]
// Only the border is zeroed (rows above and below, columns left and right),
// then the image goes inside it.
// DIRECT: %[[TOP:.*]] = linalg.fill {{.*}} -> tensor<2x1x7x1xf32>
// DIRECT: tensor.insert_slice %[[TOP]] into %{{.*}}[0, 0, 0, 0] [2, 1, 7, 1] [1, 1, 1, 1]
// DIRECT: %[[BOTTOM:.*]] = linalg.fill {{.*}} -> tensor<2x1x7x1xf32>
// DIRECT: tensor.insert_slice %[[BOTTOM]] into %{{.*}}[0, 6, 0, 0] [2, 1, 7, 1] [1, 1, 1, 1]
// DIRECT: %[[LEFT:.*]] = linalg.fill {{.*}} -> tensor<2x5x1x1xf32>
// DIRECT: tensor.insert_slice %[[LEFT]] into %{{.*}}[0, 1, 0, 0] [2, 5, 1, 1] [1, 1, 1, 1]
// DIRECT: %[[RIGHT:.*]] = linalg.fill {{.*}} -> tensor<2x5x1x1xf32>
// DIRECT: tensor.insert_slice %[[RIGHT]] into %{{.*}}[0, 1, 6, 0] [2, 5, 1, 1] [1, 1, 1, 1]
// DIRECT-NOT: linalg.fill {{.*}} -> tensor<2x7x7x1xf32>
// DIRECT: %[[PADDED:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 1, 1, 0] [2, 5, 5, 1] [1, 1, 1, 1]
// DIRECT: %[[HWCF:.*]] = linalg.transpose ins(%{{.*}} : tensor<4x1x3x3xf32>) outs(%{{.*}} : tensor<3x3x1x4xf32>) permutation = [2, 3, 1, 0]
// DIRECT: %[[BIAS:.*]] = linalg.broadcast ins(%{{.*}} : tensor<4xf32>) outs(%{{.*}} : tensor<2x3x3x4xf32>) dimensions = [0, 1, 2]
// DIRECT: %[[OUT:.*]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PADDED]], %[[HWCF]] : tensor<2x7x7x1xf32>, tensor<3x3x1x4xf32>) outs(%[[BIAS]] : tensor<2x3x3x4xf32>)
// DIRECT: %[[PIXELS:.*]] = tensor.collapse_shape %[[OUT]] {{\[\[}}0], [1, 2], [3]] : tensor<2x3x3x4xf32> into tensor<2x9x4xf32>
// DIRECT: linalg.transpose ins(%[[PIXELS]] : tensor<2x9x4xf32>) outs(%{{.*}} : tensor<2x4x9xf32>) permutation = [0, 2, 1]
// DIRECT-NOT: linalg.matmul

// conv2d: an im2col gather [C k k, B positions] (which pixel each tap of each
// window reads is a constant table, -1 where the window leaves the padded
// image), the filter [O, C k k] times it into the broadcast bias, then
// [O, B positions] back to NCHW (a copy as an elementwise generic with the
// first two dimensions swapped, which vdl-fusion fuses with the activation
// after it). 5x5, stride 2, padding 1: tap (0, 0) of the
// 3x3 windows reads pixels 6, 8, 16, 18 (rows and columns 1 and 3).
// CHECK-LABEL: func.func @conv2d
// CHECK: %[[TABLE:.*]] = arith.constant dense<{{\[\[}}-1, -1, -1, -1, 6, 8, -1, 16, 18], [-1, -1, -1, 5, 7, 9, 15, 17, 19]
// CHECK-SAME: tensor<9x9xi32>
// CHECK: %[[IMAGE:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] : tensor<2x1x5x5xf32> into tensor<50xf32>
// CHECK: %[[GATHER:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x9x2x9xf32>)
// CHECK: tensor.extract %[[TABLE]]
// CHECK: tensor.extract %[[IMAGE]]
// CHECK: arith.select
// CHECK: %[[COLS:.*]] = tensor.collapse_shape %[[GATHER]] {{\[\[}}0, 1], [2, 3]] : tensor<1x9x2x9xf32> into tensor<9x18xf32>
// CHECK: %[[BIAS:.*]] = linalg.broadcast ins(%{{.*}} : tensor<4xf32>) outs(%{{.*}} : tensor<4x18xf32>) dimensions = [1]
// CHECK: %[[OUT:.*]] = linalg.matmul ins(%{{.*}}, %[[COLS]] : tensor<4x9xf32>, tensor<9x18xf32>) outs(%[[BIAS]] : tensor<4x18xf32>)
// CHECK: %[[SPLIT:.*]] = tensor.expand_shape %[[OUT]] {{\[\[}}0], [1, 2, 3]] output_shape [4, 2, 3, 3]
// CHECK: linalg.generic {{.*}} ins(%[[SPLIT]] : tensor<4x2x3x3xf32>) outs(%{{.*}} : tensor<2x4x3x3xf32>)
// CHECK-NOT: vdl.
func.func @conv2d(%x: tensor<2x1x5x5xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<4xf32>) -> tensor<2x4x3x3xf32> {
  %0 = vdl.conv2d %x, %w, %b stride = 2 padding = 1 : (tensor<2x1x5x5xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  return %0 : tensor<2x4x3x3xf32>
}

// -----

// conv2d_transpose: filterᵀ times the channels-first input (matmul_transpose_a
// into zeros: columns [O k k, B H W]), then each output pixel sums the columns
// that land on it, phase by phase (stride 2 divides 6: 4 phases, at most 4
// landing taps each of 9), and a transpose interleaves the phases.
// CHECK-LABEL: func.func @conv2d_transpose
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x4x9xf32>) outs(%{{.*}} : tensor<4x2x9xf32>)
// CHECK: %[[COLS:.*]] = linalg.matmul_transpose_a ins(%{{.*}}, %{{.*}} : tensor<4x9xf32>, tensor<4x18xf32>) outs(%{{.*}} : tensor<9x18xf32>)
// CHECK: %[[TABLE:.*]] = arith.constant dense<{{.*}}> : tensor<16x9xi32>
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[COLS]] {{\[\[}}0, 1]] : tensor<9x18xf32> into tensor<162xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1xf32>) outs(%{{.*}} : tensor<2x1x4x9xf32>)
// CHECK-COUNT-4: tensor.extract %[[FLAT]]
// CHECK-NOT: tensor.extract %[[FLAT]]
// CHECK: linalg.yield
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x1x2x2x3x3xf32>) outs(%{{.*}} : tensor<2x1x3x2x3x2xf32>) permutation = [0, 1, 4, 2, 5, 3]
// CHECK-NOT: vdl.
// conv-algorithm=direct: one stride-1 convolution per output phase, each
// with the taps that land in it (1 x 1, 1 x 2, 2 x 1, 2 x 2 of 3 x 3 at
// stride 2, padding 1), its sub-filter gathered from the filter, its window
// of the input padded by one row and column at the end, accumulating into
// a stride-2 slice of the channels-last output.
// DIRECT-LABEL: func.func @conv2d_transpose
// DIRECT: %[[PADDED:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0] [2, 3, 3, 4] [1, 1, 1, 1] : tensor<2x3x3x4xf32> into tensor<2x4x4x4xf32>
// DIRECT: %[[OUT:.*]] = linalg.broadcast ins(%{{.*}} : tensor<1xf32>) outs(%{{.*}} : tensor<2x6x6x1xf32>) dimensions = [0, 1, 2]
// DIRECT: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x4x1xf32>)
// DIRECT: linalg.conv_2d_nhwc_hwcf {{.*}} strides = dense<1> {{.*}} : tensor<2x3x3x4xf32>, tensor<1x1x4x1xf32>) outs(%{{.*}} : tensor<2x3x3x1xf32>)
// DIRECT: tensor.insert_slice %{{.*}} into %[[OUT]][0, 0, 0, 0] [2, 3, 3, 1] [1, 2, 2, 1]
// DIRECT: linalg.conv_2d_nhwc_hwcf {{.*}} : tensor<2x3x4x4xf32>, tensor<1x2x4x1xf32>)
// DIRECT: tensor.insert_slice {{.*}}[0, 0, 1, 0] [2, 3, 3, 1] [1, 2, 2, 1]
// DIRECT: linalg.conv_2d_nhwc_hwcf {{.*}} : tensor<2x4x3x4xf32>, tensor<2x1x4x1xf32>)
// DIRECT: tensor.insert_slice {{.*}}[0, 1, 0, 0] [2, 3, 3, 1] [1, 2, 2, 1]
// DIRECT: linalg.conv_2d_nhwc_hwcf {{.*}} : tensor<2x4x4x4xf32>, tensor<2x2x4x1xf32>)
// DIRECT: tensor.insert_slice {{.*}}[0, 1, 1, 0] [2, 3, 3, 1] [1, 2, 2, 1]
// DIRECT: linalg.transpose ins(%{{.*}} : tensor<2x36x1xf32>) outs(%{{.*}} : tensor<2x1x36xf32>) permutation = [0, 2, 1]
// DIRECT-NOT: linalg.matmul
func.func @conv2d_transpose(%x: tensor<2x4x3x3xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<1xf32>) -> tensor<2x1x6x6xf32> {
  %0 = vdl.conv2d_transpose %x, %w, %b stride = 2 padding = 1 output_padding = 1 : (tensor<2x4x3x3xf32>, tensor<4x1x3x3xf32>, tensor<1xf32>) -> tensor<2x1x6x6xf32>
  return %0 : tensor<2x1x6x6xf32>
}

// -----

// The filter gradient: dy channels-last [B positions, O] and the im2col
// columns transposed [B positions, C k k], as xᵀ·dy of a dense layer; the bias
// gradient sums over the batch and the pixels.
// CHECK-LABEL: func.func @filter_grad
// conv-algorithm=direct: channels-last columns [B OH OW, (i, j, c)], each
// tap's block a stride-2 view of the padded channels-last input copied in
// (no gather), dyᵀ·cols, and [O, k, k, C] to [O, C, k, k].
// DIRECT-LABEL: func.func @filter_grad
// DIRECT: %[[PADDED:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 1, 1, 0] [2, 5, 5, 1] [1, 1, 1, 1] : tensor<2x5x5x1xf32> into tensor<2x7x7x1xf32>
// DIRECT: %[[TAP:.*]] = tensor.extract_slice %[[PADDED]][0, 0, 0, 0] [2, 3, 3, 1] [1, 2, 2, 1]
// DIRECT: tensor.insert_slice %[[TAP]] into %{{.*}}[0, 0, 0, 0, 0] [2, 3, 3, 1, 1] [1, 1, 1, 1, 1] : tensor<2x3x3x1xf32> into tensor<2x3x3x9x1xf32>
// DIRECT-COUNT-8: tensor.insert_slice %{{.*}} : tensor<2x3x3x1xf32> into tensor<2x3x3x9x1xf32>
// DIRECT: %[[COLS:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3, 4]] : tensor<2x3x3x9x1xf32> into tensor<18x9xf32>
// DIRECT: %[[DW:.*]] = linalg.matmul_transpose_a ins(%{{.*}}, %[[COLS]] : tensor<18x4xf32>, tensor<18x9xf32>) outs(%{{.*}} : tensor<4x9xf32>)
// DIRECT: linalg.transpose ins(%{{.*}} : tensor<4x3x3x1xf32>) outs(%{{.*}} : tensor<4x1x3x3xf32>) permutation = [0, 3, 1, 2]
// DIRECT-NOT: tensor.extract %
// CHECK: %[[GATHER:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x9x2x9xf32>)
// CHECK: %[[COLS:.*]] = linalg.transpose ins(%{{.*}} : tensor<9x18xf32>) outs(%{{.*}} : tensor<18x9xf32>) permutation = [1, 0]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x4x9xf32>) outs(%{{.*}} : tensor<2x9x4xf32>) permutation = [0, 2, 1]
// CHECK: linalg.matmul_transpose_a ins(%{{.*}}, %[[COLS]] : tensor<18x4xf32>, tensor<18x9xf32>) outs(%{{.*}} : tensor<4x9xf32>)
// The bias gradient in two steps: sums over the batch per channel and
// pixel (channels outermost: independent), then over the pixels.
// CHECK: %[[PARTIAL:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%{{.*}} : tensor<2x4x9xf32>) outs(%{{.*}} : tensor<4x9xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[PARTIAL]] : tensor<4x9xf32>) outs(%{{.*}} : tensor<4xf32>)
// CHECK-NOT: vdl.
func.func @filter_grad(%x: tensor<2x1x5x5xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<4x1x3x3xf32>, tensor<4xf32>) {
  %0 = vdl.conv2d_filter_grad %x, %dy stride = 2 padding = 1 : (tensor<2x1x5x5xf32>, tensor<2x4x3x3xf32>) -> tensor<4x1x3x3xf32>
  %1 = vdl.channel_sum %dy : tensor<2x4x3x3xf32> -> tensor<4xf32>
  return %0, %1 : tensor<4x1x3x3xf32>, tensor<4xf32>
}
