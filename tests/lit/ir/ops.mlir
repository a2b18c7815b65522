// RUN: vae-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: vae-opt %s | vae-opt | FileCheck %s

// CHECK-LABEL: func.func @layers
// CHECK-SAME: {vdl.init = #vdl.uniform_fan_in<3>, vdl.param = "encoder.h.weight"}
// CHECK-SAME: {vdl.input = "x"}
func.func @layers(%w: tensor<3x4xf32> {vdl.param = "encoder.h.weight", vdl.init = #vdl.uniform_fan_in<3>},
                  %b: tensor<4xf32> {vdl.param = "encoder.h.bias", vdl.init = #vdl.uniform_fan_in<3>},
                  %x: tensor<2x3xf32> {vdl.input = "x"}) -> tensor<2x4xf32> {
  // CHECK: %[[D:.*]] = vdl.dense %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  // CHECK: vdl.relu %[[D]] : tensor<2x4xf32>
  %1 = vdl.relu %0 : tensor<2x4xf32>
  // CHECK: vdl.tanh
  %2 = vdl.tanh %1 : tensor<2x4xf32>
  // CHECK: vdl.sigmoid
  %3 = vdl.sigmoid %2 : tensor<2x4xf32>
  // CHECK: vdl.softplus
  %4 = vdl.softplus %3 : tensor<2x4xf32>
  // CHECK: vdl.exp
  %5 = vdl.exp %4 : tensor<2x4xf32>
  // CHECK: vdl.log
  %6 = vdl.log %5 : tensor<2x4xf32>
  // CHECK: vdl.neg
  %7 = vdl.neg %6 : tensor<2x4xf32>
  // CHECK: vdl.leaky_relu %{{.*}} alpha = 2.000000e-01 : tensor<2x4xf32>
  %8 = vdl.leaky_relu %7 alpha = 0.2 : tensor<2x4xf32>
  // CHECK: vdl.elu %{{.*}} alpha = 1.000000e+00 : tensor<2x4xf32>
  %9 = vdl.elu %8 alpha = 1.0 : tensor<2x4xf32>
  // CHECK: vdl.constant 5.000000e-01 : tensor<2x4xf32>
  %c = vdl.constant 0.5 : tensor<2x4xf32>
  // CHECK: vdl.add
  %10 = vdl.add %9, %c : tensor<2x4xf32>
  // CHECK: vdl.sub
  %11 = vdl.sub %10, %c : tensor<2x4xf32>
  // CHECK: vdl.mul
  %12 = vdl.mul %11, %c : tensor<2x4xf32>
  // CHECK: vdl.div
  %13 = vdl.div %12, %c : tensor<2x4xf32>
  return %13 : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @probabilistic
func.func @probabilistic(%mu: tensor<2x5xf32>, %logvar: tensor<2x5xf32>, %eps: tensor<2x5xf32>,
                         %x: tensor<2x7x3xf32>, %mean: tensor<2x7x3xf32>)
    -> (tensor<f32>, tensor<f32>) {
  // CHECK: vdl.reparameterize %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x5xf32>
  %z = vdl.reparameterize %mu, %logvar, %eps : tensor<2x5xf32>
  // CHECK: vdl.kl_normal %{{.*}}, %{{.*}} prior(0.000000e+00, 1.000000e+00) : tensor<2x5xf32> -> tensor<2xf32>
  %kl = vdl.kl_normal %mu, %logvar prior(0.0, 1.0) : tensor<2x5xf32> -> tensor<2xf32>
  // CHECK: vdl.bernoulli_log_prob %{{.*}}, %{{.*}} : tensor<2x7x3xf32> -> tensor<2xf32>
  %ll0 = vdl.bernoulli_log_prob %mean, %x : tensor<2x7x3xf32> -> tensor<2xf32>
  // CHECK: vdl.gaussian_log_prob %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x7x3xf32> -> tensor<2xf32>
  %ll1 = vdl.gaussian_log_prob %mean, %mean, %x : tensor<2x7x3xf32> -> tensor<2xf32>
  // CHECK: vdl.gaussian_fixed_log_prob %{{.*}}, %{{.*}} sigma = 1.000000e-01 : tensor<2x7x3xf32> -> tensor<2xf32>
  %ll2 = vdl.gaussian_fixed_log_prob %mean, %x sigma = 0.1 : tensor<2x7x3xf32> -> tensor<2xf32>
  // CHECK: vdl.discretized_logistic_log_prob %{{.*}}, %{{.*}}, %{{.*}} bins = 256 : tensor<2x7x3xf32> -> tensor<2xf32>
  %ll3 = vdl.discretized_logistic_log_prob %mean, %mean, %x bins = 256 : tensor<2x7x3xf32> -> tensor<2xf32>
  // CHECK: vdl.reduce_mean %{{.*}} : tensor<2xf32> -> tensor<f32>
  %m = vdl.reduce_mean %ll0 : tensor<2xf32> -> tensor<f32>
  // CHECK: vdl.reduce_sum %{{.*}} : tensor<2xf32> -> tensor<f32>
  %k = vdl.reduce_sum %kl : tensor<2xf32> -> tensor<f32>
  // CHECK: vdl.elbo %{{.*}}, %{{.*}}, %{{.*}} : tensor<f32>
  %beta = vdl.constant 0.5 : tensor<f32>
  %loss = vdl.elbo %m, %k, %beta : tensor<f32>
  return %loss, %m : tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @gradients
func.func @gradients(%x: tensor<4x3xf32>, %w: tensor<3x2xf32>, %dy: tensor<4x2xf32>,
                     %s: tensor<f32>, %g: tensor<4xf32>, %m: tensor<4x2xf32>) {
  // CHECK: vdl.matmul %{{.*}}, %{{.*}} transpose_rhs : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32>
  %dx = vdl.matmul %dy, %w transpose_rhs : tensor<4x2xf32>, tensor<3x2xf32> -> tensor<4x3xf32>
  // CHECK: vdl.matmul %{{.*}}, %{{.*}} transpose_lhs : tensor<4x3xf32>, tensor<4x2xf32> -> tensor<3x2xf32>
  %dw = vdl.matmul %x, %dy transpose_lhs : tensor<4x3xf32>, tensor<4x2xf32> -> tensor<3x2xf32>
  // CHECK: vdl.reduce_rows %{{.*}} : tensor<4x2xf32> -> tensor<2xf32>
  %db = vdl.reduce_rows %dy : tensor<4x2xf32> -> tensor<2xf32>
  // CHECK: vdl.broadcast %{{.*}} scale = 2.500000e-01 : tensor<f32> -> tensor<4xf32>
  %b = vdl.broadcast %s scale = 0.25 : tensor<f32> -> tensor<4xf32>
  // CHECK: vdl.relu_grad
  %0 = vdl.relu_grad %m, %dy : tensor<4x2xf32>
  // CHECK: vdl.tanh_grad
  %1 = vdl.tanh_grad %m, %dy : tensor<4x2xf32>
  // CHECK: vdl.sigmoid_grad
  %2 = vdl.sigmoid_grad %m, %dy : tensor<4x2xf32>
  // CHECK: vdl.softplus_grad
  %3 = vdl.softplus_grad %m, %dy : tensor<4x2xf32>
  // CHECK: vdl.leaky_relu_grad %{{.*}}, %{{.*}} alpha = 1.000000e-01 : tensor<4x2xf32>
  %4 = vdl.leaky_relu_grad %m, %dy alpha = 0.1 : tensor<4x2xf32>
  // CHECK: vdl.elu_grad %{{.*}}, %{{.*}} alpha = 1.000000e+00 : tensor<4x2xf32>
  %5 = vdl.elu_grad %m, %dy alpha = 1.0 : tensor<4x2xf32>
  // CHECK: vdl.kl_normal_grad %{{.*}}, %{{.*}}, %{{.*}} prior(0.000000e+00, 1.000000e+00) : tensor<4x2xf32>, tensor<4xf32>
  %6:2 = vdl.kl_normal_grad %m, %m, %g prior(0.0, 1.0) : tensor<4x2xf32>, tensor<4xf32>
  // CHECK: vdl.bernoulli_log_prob_grad %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x2xf32>, tensor<4xf32>
  %7 = vdl.bernoulli_log_prob_grad %m, %m, %g : tensor<4x2xf32>, tensor<4xf32>
  // CHECK: vdl.gaussian_log_prob_grad
  %8:2 = vdl.gaussian_log_prob_grad %m, %m, %m, %g : tensor<4x2xf32>, tensor<4xf32>
  // CHECK: vdl.gaussian_fixed_log_prob_grad %{{.*}}, %{{.*}}, %{{.*}} sigma = 2.000000e+00 : tensor<4x2xf32>, tensor<4xf32>
  %9 = vdl.gaussian_fixed_log_prob_grad %m, %m, %g sigma = 2.0 : tensor<4x2xf32>, tensor<4xf32>
  // CHECK: vdl.discretized_logistic_log_prob_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} bins = 16 : tensor<4x2xf32>, tensor<4xf32>
  %dl:2 = vdl.discretized_logistic_log_prob_grad %m, %m, %m, %g bins = 16 : tensor<4x2xf32>, tensor<4xf32>
  // CHECK: vdl.adam_update %{{.*}} lr %{{.*}} beta1 %{{.*}} beta2 %{{.*}} eps %{{.*}} weight_decay %{{.*}} : tensor<4x2xf32>, tensor<f32>
  %10:3 = vdl.adam_update %m, %dy, %m, %m, %s, %s lr %s beta1 %s beta2 %s eps %s weight_decay %s : tensor<4x2xf32>, tensor<f32>
  // CHECK: vdl.sgd_update %{{.*}}, %{{.*}}, %{{.*}} lr %{{.*}} momentum %{{.*}} : tensor<4x2xf32>, tensor<f32>
  %11:2 = vdl.sgd_update %m, %dy, %m lr %s momentum %s : tensor<4x2xf32>, tensor<f32>
  // CHECK: %[[SCALE:.*]] = vdl.clip_coefficient %{{.*}}, %{{.*}} : tensor<f32>
  %12 = vdl.clip_coefficient %s, %s : tensor<f32>
  // CHECK: vdl.adam_update {{.*}} weight_decay %{{.*}} grad_scale %[[SCALE]] : tensor<4x2xf32>, tensor<f32>
  %13:3 = vdl.adam_update %m, %dy, %m, %m, %s, %s lr %s beta1 %s beta2 %s eps %s weight_decay %s grad_scale %12 : tensor<4x2xf32>, tensor<f32>
  // CHECK: vdl.sgd_update {{.*}} momentum %{{.*}} grad_scale %[[SCALE]] : tensor<4x2xf32>, tensor<f32>
  %14:2 = vdl.sgd_update %m, %dy, %m lr %s momentum %s grad_scale %12 : tensor<4x2xf32>, tensor<f32>
  return
}

// Module attributes of a compiled model.
// CHECK: module attributes {vdl.batch = 4 : i64, vdl.model = "tiny", vdl.train = {optimizer = "adam"}}
module attributes {vdl.model = "tiny", vdl.batch = 4, vdl.train = {optimizer = "adam"}} {
}

// CHECK-LABEL: func.func @reshape
func.func @reshape(%x: tensor<2x1x4x4xf32>) -> tensor<2x2x2x4xf32> {
  // CHECK: vdl.reshape %{{.*}} : tensor<2x1x4x4xf32> -> tensor<2x16xf32>
  %flat = vdl.reshape %x : tensor<2x1x4x4xf32> -> tensor<2x16xf32>
  // CHECK: vdl.reshape %{{.*}} : tensor<2x16xf32> -> tensor<2x2x2x4xf32>
  %image = vdl.reshape %flat : tensor<2x16xf32> -> tensor<2x2x2x4xf32>
  return %image : tensor<2x2x2x4xf32>
}

// CHECK-LABEL: func.func @convolutions
func.func @convolutions(%x: tensor<2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<4xf32>,
                        %wt: tensor<4x2x3x3xf32>, %bt: tensor<2xf32>) -> tensor<2x2x8x8xf32> {
  // CHECK: vdl.conv2d %{{.*}}, %{{.*}}, %{{.*}} stride = 2 padding = 1 : (tensor<2x1x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  %h = vdl.conv2d %x, %w, %b stride = 2 padding = 1 : (tensor<2x1x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: vdl.conv2d_transpose %{{.*}}, %{{.*}}, %{{.*}} stride = 2 padding = 1 output_padding = 1 : (tensor<2x4x4x4xf32>, tensor<4x2x3x3xf32>, tensor<2xf32>) -> tensor<2x2x8x8xf32>
  %y = vdl.conv2d_transpose %h, %wt, %bt stride = 2 padding = 1 output_padding = 1 : (tensor<2x4x4x4xf32>, tensor<4x2x3x3xf32>, tensor<2xf32>) -> tensor<2x2x8x8xf32>
  // CHECK: vdl.conv2d %{{.*}}, %{{.*}} stride = 1 padding = 0 : (tensor<2x1x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x6x6xf32>
  %n = vdl.conv2d %x, %w stride = 1 padding = 0 : (tensor<2x1x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x6x6xf32>
  // CHECK: vdl.conv2d_filter_grad %{{.*}}, %{{.*}} stride = 2 padding = 1 : (tensor<2x1x8x8xf32>, tensor<2x4x4x4xf32>) -> tensor<4x1x3x3xf32>
  %dw = vdl.conv2d_filter_grad %x, %h stride = 2 padding = 1 : (tensor<2x1x8x8xf32>, tensor<2x4x4x4xf32>) -> tensor<4x1x3x3xf32>
  // CHECK: vdl.channel_sum %{{.*}} : tensor<2x4x4x4xf32> -> tensor<4xf32>
  %db = vdl.channel_sum %h : tensor<2x4x4x4xf32> -> tensor<4xf32>
  return %y : tensor<2x2x8x8xf32>
}
