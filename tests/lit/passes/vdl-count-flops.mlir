// RUN: vae-opt %s --vdl-count-flops | FileCheck %s

// dense [2,3]·[3,4]: 2·2·3·4 + 2·4 = 56; relu on 8 elements: 8.
// CHECK-LABEL: func.func @dense_relu
// CHECK-SAME: attributes {vdl.flops = 64 : i64}
func.func @dense_relu(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %1 = vdl.relu %0 : tensor<2x4xf32>
  return %1 : tensor<2x4xf32>
}

// reparameterize 4·10, kl 8·10, mean over 2: 40 + 80 + 2 = 122.
// CHECK-LABEL: func.func @latent
// CHECK-SAME: attributes {vdl.flops = 122 : i64}
func.func @latent(%mu: tensor<2x5xf32>, %lv: tensor<2x5xf32>, %eps: tensor<2x5xf32>) -> (tensor<2x5xf32>, tensor<f32>) {
  %z = vdl.reparameterize %mu, %lv, %eps : tensor<2x5xf32>
  %kl = vdl.kl_normal %mu, %lv prior(0.0, 1.0) : tensor<2x5xf32> -> tensor<2xf32>
  %m = vdl.reduce_mean %kl : tensor<2xf32> -> tensor<f32>
  return %z, %m : tensor<2x5xf32>, tensor<f32>
}

// Constants cost nothing.
// CHECK-LABEL: func.func @constant
// CHECK-SAME: attributes {vdl.flops = 0 : i64}
func.func @constant() -> tensor<2xf32> {
  %c = vdl.constant 1.0 : tensor<2xf32>
  return %c : tensor<2xf32>
}

// Optimizer updates: AdamW 13 (Adam's 12 and the decay's multiply) and SGD
// 4 operations per element (8 elements).
// CHECK-LABEL: func.func @optimizers
// CHECK-SAME: attributes {vdl.flops = 136 : i64}
func.func @optimizers(%p: tensor<8xf32>, %s: tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %a:3 = vdl.adam_update %p, %p, %p, %p, %s, %s lr %s beta1 %s beta2 %s eps %s weight_decay %s : tensor<8xf32>, tensor<f32>
  %b:2 = vdl.sgd_update %p, %p, %p lr %s momentum %s : tensor<8xf32>, tensor<f32>
  return %a#0, %b#0 : tensor<8xf32>, tensor<8xf32>
}
