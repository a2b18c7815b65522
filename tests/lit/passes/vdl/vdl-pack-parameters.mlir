// RUN: vae-opt %s --vdl-pack-parameters | FileCheck %s

// Parameters get 64-byte aligned offsets in @loss's order: w (6 floats) at 0,
// b (2) at 16, v (4) at 32; 48 floats in all.
// CHECK: module attributes {vdl.param_floats = 48 : i64, vdl.params = [
// CHECK-SAME: {fan_in = 3 : i64, name = "encoder.h.weight", offset = 0 : i64, shape = [3, 2]}
// CHECK-SAME: {fan_in = 3 : i64, name = "encoder.h.bias", offset = 16 : i64, shape = [2]}
// CHECK-SAME: {fan_in = 2 : i64, name = "decoder.h.weight", offset = 32 : i64, shape = [2, 2]}

// CHECK-LABEL: func.func @vae_encode(
// CHECK-SAME: %[[P:.*]]: tensor<48xf32> {vdl.input = "params"}, %[[X:.*]]: tensor<4x3xf32> {vdl.input = "x"})
// CHECK: %[[WS:.*]] = tensor.extract_slice %[[P]][0] [6] [1] : tensor<48xf32> to tensor<6xf32>
// CHECK: %[[W:.*]] = tensor.expand_shape %[[WS]] {{\[\[}}0, 1]] output_shape [3, 2] : tensor<6xf32> into tensor<3x2xf32>
// CHECK: %[[B:.*]] = tensor.extract_slice %[[P]][16] [2] [1] : tensor<48xf32> to tensor<2xf32>
// CHECK: vdl.dense %[[X]], %[[W]], %[[B]]
func.func @encode(%w: tensor<3x2xf32> {vdl.param = "encoder.h.weight", vdl.init = #vdl.uniform_fan_in<3>},
                  %b: tensor<2xf32> {vdl.param = "encoder.h.bias", vdl.init = #vdl.uniform_fan_in<3>},
                  %x: tensor<4x3xf32> {vdl.input = "x"}) -> tensor<4x2xf32> {
  %0 = vdl.dense %x, %w, %b : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// CHECK-LABEL: func.func @vae_eval_elbo(
// CHECK-SAME: tensor<48xf32> {vdl.input = "params"}
// CHECK: tensor.extract_slice %{{.*}}[32] [4] [1]
func.func @loss(%w: tensor<3x2xf32> {vdl.param = "encoder.h.weight", vdl.init = #vdl.uniform_fan_in<3>},
                %b: tensor<2xf32> {vdl.param = "encoder.h.bias", vdl.init = #vdl.uniform_fan_in<3>},
                %v: tensor<2x2xf32> {vdl.param = "decoder.h.weight", vdl.init = #vdl.uniform_fan_in<2>},
                %x: tensor<4x3xf32> {vdl.input = "x"}) -> tensor<4x2xf32> {
  %0 = vdl.dense %x, %w, %b : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %1 = vdl.mul %0, %0 : tensor<4x2xf32>
  return %1 : tensor<4x2xf32>
}

// @decode becomes vae_decode with the packed parameters; a returned
// argument stays as it is here (vdl-fresh-results copies it once the
// functions are bufferized).
// CHECK-LABEL: func.func @vae_decode(
// CHECK-SAME: %{{.*}}: tensor<48xf32> {vdl.input = "params"}, %[[Z:.*]]: tensor<4x2xf32> {vdl.input = "z"})
// CHECK-NEXT: return %[[Z]], %[[Z]]
func.func @decode(%z: tensor<4x2xf32> {vdl.input = "z"}) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  return %z, %z : tensor<4x2xf32>, tensor<4x2xf32>
}

// vae_init_params: one Philox loop per parameter, ten rounds each, scaled by
// 1/sqrt(fan_in) (0.577350259 for fan_in 3).
// CHECK-LABEL: func.func @vae_init_params(%{{.*}}: memref<48xf32>, %{{.*}}: i64)
// CHECK: scf.for
// CHECK-COUNT-20: arith.muli
// CHECK: arith.constant 0.577350259 : f32
// CHECK: memref.store
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.constant 0.707106769 : f32
