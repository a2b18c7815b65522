// RUN: vae-opt %s --vdl-count-flops | FileCheck %s

// dense [2,3]·[3,4]: 2·2·3·4 + 2·4 = 56; relu on 8 elements: 8.
// CHECK-LABEL: func.func @dense_relu
// CHECK-SAME: attributes {vdl.flops = 64 : i64
func.func @dense_relu(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %1 = vdl.relu %0 : tensor<2x4xf32>
  return %1 : tensor<2x4xf32>
}

// reparameterize 4·10, kl 8·10, mean over 2: 40 + 80 + 2 = 122.
// CHECK-LABEL: func.func @latent
// CHECK-SAME: attributes {vdl.flops = 122 : i64
func.func @latent(%mu: tensor<2x5xf32>, %lv: tensor<2x5xf32>, %eps: tensor<2x5xf32>) -> (tensor<2x5xf32>, tensor<f32>) {
  %z = vdl.reparameterize %mu, %lv, %eps : tensor<2x5xf32>
  %kl = vdl.kl_normal %mu, %lv prior(0.0, 1.0) : tensor<2x5xf32> -> tensor<2xf32>
  %m = vdl.reduce_mean %kl : tensor<2xf32> -> tensor<f32>
  return %z, %m : tensor<2x5xf32>, tensor<f32>
}

// Constants cost nothing.
// CHECK-LABEL: func.func @constant
// CHECK-SAME: attributes {vdl.flops = 0 : i64
func.func @constant() -> tensor<2xf32> {
  %c = vdl.constant 1.0 : tensor<2xf32>
  return %c : tensor<2xf32>
}

// Optimizer updates: AdamW 13 (Adam's 12 and the decay's multiply) and SGD
// 4 operations per element (8 elements).
// CHECK-LABEL: func.func @optimizers
// CHECK-SAME: attributes {vdl.flops = 136 : i64
func.func @optimizers(%p: tensor<8xf32>, %s: tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %a:3 = vdl.adam_update %p, %p, %p, %p, %s, %s lr %s beta1 %s beta2 %s eps %s weight_decay %s : tensor<8xf32>, tensor<f32>
  %b:2 = vdl.sgd_update %p, %p, %p lr %s momentum %s : tensor<8xf32>, tensor<f32>
  return %a#0, %b#0 : tensor<8xf32>, tensor<8xf32>
}

// Convolutions, a multiply-add per tap: conv2d [2,1,5,5] * [4,1,3,3] stride 2
// padding 1 -> [2,4,3,3] (72 outputs): 2·72·9 + 72 bias = 1368; its filter
// gradient 2·72·9 = 1296; conv2d_transpose of those 72 pixels back through
// [4,1,3,3] (1·3·3 outputs each): 2·72·9 = 1296, + 50 bias; channel_sum 72.
// CHECK-LABEL: func.func @convolutions
// CHECK-SAME: attributes {vdl.flops = 4082 : i64
func.func @convolutions(%x: tensor<2x1x5x5xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<4xf32>, %c: tensor<1xf32>) -> (tensor<2x1x5x5xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) {
  %y = vdl.conv2d %x, %w, %b stride = 2 padding = 1 : (tensor<2x1x5x5xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %dw = vdl.conv2d_filter_grad %x, %y stride = 2 padding = 1 : (tensor<2x1x5x5xf32>, tensor<2x4x3x3xf32>) -> tensor<4x1x3x3xf32>
  %t = vdl.conv2d_transpose %y, %w, %c stride = 2 padding = 1 output_padding = 0 : (tensor<2x4x3x3xf32>, tensor<4x1x3x3xf32>, tensor<1xf32>) -> tensor<2x1x5x5xf32>
  %db = vdl.channel_sum %y : tensor<2x4x3x3xf32> -> tensor<4xf32>
  return %t, %dw, %db : tensor<2x1x5x5xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>
}

// FLOPs by source line: a gradient op keeps its forward op's location, so
// a layer's forward and backward add up on its line; ops without a file
// location count in the total only.
// CHECK-LABEL: func.func @by_line
// CHECK-SAME: vdl.flops = 80 : i64
// CHECK-SAME: vdl.flops_by_line = {"m.vdl:3" = 56 : i64, "m.vdl:4" = 16 : i64}
func.func @by_line(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32> loc("/models/m.vdl":3:7)
  %1 = vdl.relu %0 : tensor<2x4xf32> loc(fused["/models/m.vdl":4:5, "x"])
  %2 = vdl.relu_grad %0, %1 : tensor<2x4xf32> loc(callsite("f"("/models/m.vdl":4:9) at "g"("other.vdl":9:1)))
  %3 = vdl.relu %2 : tensor<2x4xf32> loc(unknown)
  return %3 : tensor<2x4xf32>
}
