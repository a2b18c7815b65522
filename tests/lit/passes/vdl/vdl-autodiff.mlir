// RUN: vae-opt %s --vdl-autodiff --split-input-file --verify-diagnostics | FileCheck %s

// A dense layer, a ReLU and a sum: the backward pass in reverse order, no
// adjoint for the input x (it is data), gradients returned per parameter.
// CHECK-LABEL: func.func @grad_step(
// CHECK-SAME: %[[W:[^:]*]]: tensor<3x2xf32> {vdl.param = "w"}, %[[B:[^:]*]]: tensor<2xf32> {vdl.param = "b"}, %[[X:[^:]*]]: tensor<4x3xf32>)
// CHECK-SAME: -> (tensor<f32>, tensor<3x2xf32> {vdl.grad_of = "w"}, tensor<2xf32> {vdl.grad_of = "b"})
// CHECK: %[[H:.*]] = vdl.dense %[[X]], %[[W]], %[[B]]
// CHECK: %[[R:.*]] = vdl.relu %[[H]]
// CHECK: %[[L:.*]] = vdl.reduce_sum %[[R]]
// CHECK: %[[ONE:.*]] = vdl.constant 1.000000e+00 : tensor<f32>
// CHECK: %[[DR:.*]] = vdl.broadcast %[[ONE]] scale = 1.000000e+00 : tensor<f32> -> tensor<4x2xf32>
// CHECK: %[[DH:.*]] = vdl.relu_grad %[[H]], %[[DR]] : tensor<4x2xf32>
// CHECK-NOT: transpose_rhs
// CHECK: %[[DW:.*]] = vdl.matmul %[[X]], %[[DH]] transpose_lhs : tensor<4x3xf32>, tensor<4x2xf32> -> tensor<3x2xf32>
// CHECK: %[[DB:.*]] = vdl.reduce_rows %[[DH]] : tensor<4x2xf32> -> tensor<2xf32>
// CHECK: return %[[L]], %[[DW]], %[[DB]]
func.func @loss(%w: tensor<3x2xf32> {vdl.param = "w"}, %b: tensor<2xf32> {vdl.param = "b"},
                %x: tensor<4x3xf32>) -> tensor<f32> {
  %h = vdl.dense %x, %w, %b : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %r = vdl.relu %h : tensor<4x2xf32>
  %l = vdl.reduce_sum %r : tensor<4x2xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// Adam by default: m and v per parameter after the parameters, the step and
// the run-time hyperparameters (vae_hyperparams: lr, kl_weight, beta1,
// beta2, eps, momentum, weight_decay, clip_norm), the bias corrections once,
// one update per parameter.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[TW:[^:]*]]: tensor<3x2xf32> {vdl.param = "w"}, %{{[^:]*}}: tensor<2xf32> {vdl.param = "b"},
// CHECK-SAME: %[[MW:[^:]*]]: tensor<3x2xf32> {vdl.state_of = "w", vdl.state_slot = 0 : i64}, %{{[^:]*}}: tensor<2xf32> {vdl.state_of = "b", vdl.state_slot = 0 : i64},
// CHECK-SAME: %[[VW:[^:]*]]: tensor<3x2xf32> {vdl.state_of = "w", vdl.state_slot = 1 : i64}, %{{[^:]*}}: tensor<2xf32> {vdl.state_of = "b", vdl.state_slot = 1 : i64},
// CHECK-SAME: %{{[^:]*}}: tensor<4x3xf32>, %[[STEP:[^:]*]]: i64 {vdl.input = "step"}, %[[HYPER:[^:]*]]: tensor<8xf32> {vdl.input = "hyper"})
// CHECK-SAME: -> (tensor<f32>, tensor<3x2xf32> {vdl.update_of = "w"}, tensor<2xf32> {vdl.update_of = "b"}, tensor<3x2xf32> {vdl.state_of = "w", vdl.state_slot = 0 : i64}
// Each field a 0-d view of `hyper` (no copy once bufferized):
// CHECK-DAG: tensor.extract_slice %[[HYPER]][0] [1] [1] : tensor<8xf32> to tensor<1xf32>
// CHECK-DAG: tensor.extract_slice %[[HYPER]][2] [1] [1] : tensor<8xf32> to tensor<1xf32>
// CHECK-DAG: tensor.extract_slice %[[HYPER]][6] [1] [1] : tensor<8xf32> to tensor<1xf32>
// CHECK-DAG: tensor.collapse_shape {{.*}} [] : tensor<1xf32> into tensor<f32>
// CHECK: %[[T:.*]] = arith.sitofp %[[STEP]] : i64 to f32
// CHECK: vdl.log
// CHECK: vdl.exp
// CHECK: vdl.log
// CHECK: vdl.exp
// CHECK-COUNT-2: vdl.adam_update
// CHECK-SAME: lr %{{.*}} beta1 %{{.*}} beta2 %{{.*}} eps %{{.*}} weight_decay %{{.*}}
// CHECK: return
// apply_update: train_step's update from gradients the caller passes (after
// the state, before step and hyper), for data-parallel training.
// CHECK-LABEL: func.func @apply_update(
// CHECK-SAME: %[[AW:[^:]*]]: tensor<3x2xf32> {vdl.param = "w"}, %{{[^:]*}}: tensor<2xf32> {vdl.param = "b"},
// CHECK-SAME: %[[AM:[^:]*]]: tensor<3x2xf32> {vdl.state_of = "w", vdl.state_slot = 0 : i64}, %{{[^:]*}}: tensor<2xf32> {vdl.state_of = "b", vdl.state_slot = 0 : i64},
// CHECK-SAME: %[[AV:[^:]*]]: tensor<3x2xf32> {vdl.state_of = "w", vdl.state_slot = 1 : i64}, %{{[^:]*}}: tensor<2xf32> {vdl.state_of = "b", vdl.state_slot = 1 : i64},
// CHECK-SAME: %[[AG:[^:]*]]: tensor<3x2xf32> {vdl.grad_of = "w"}, %{{[^:]*}}: tensor<2xf32> {vdl.grad_of = "b"},
// CHECK-SAME: %{{[^:]*}}: i64 {vdl.input = "step"}, %{{[^:]*}}: tensor<8xf32> {vdl.input = "hyper"})
// CHECK-SAME: -> (tensor<3x2xf32> {vdl.update_of = "w"}, tensor<2xf32> {vdl.update_of = "b"}, tensor<3x2xf32> {vdl.state_of = "w", vdl.state_slot = 0 : i64}
// CHECK: vdl.adam_update %[[AW]], %[[AG]], %[[AM]], %[[AV]],
// CHECK: vdl.adam_update
// CHECK: return

// -----

// Fan-out: x feeds two uses, so its adjoint is the sum of both.
// CHECK-LABEL: func.func @grad_step(
// CHECK: vdl.broadcast
// CHECK: %[[A:.*]] = vdl.mul %{{.*}}, %[[P:[^ ]*]] : tensor<2xf32>
// CHECK: %[[B:.*]] = vdl.mul %{{.*}}, %[[P]] : tensor<2xf32>
// CHECK: vdl.add %[[A]], %[[B]] : tensor<2xf32>
// CHECK-LABEL: func.func @train_step(
func.func @loss(%p: tensor<2xf32> {vdl.param = "p"}) -> tensor<f32> {
  %sq = vdl.mul %p, %p : tensor<2xf32>
  %l = vdl.reduce_sum %sq : tensor<2xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// SGD with momentum from the module's train settings: one state slot.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: {vdl.state_of = "p", vdl.state_slot = 0 : i64}
// CHECK-NOT: vdl.state_slot = 1
// CHECK: vdl.sgd_update %{{.*}}, %{{.*}}, %{{.*}} lr %{{.*}} momentum %{{.*}} : tensor<2xf32>, tensor<f32>
module attributes {vdl.train = {optimizer = "sgd", lr = 0.1 : f64, momentum = 0.9 : f64}} {
  func.func @loss(%p: tensor<2xf32> {vdl.param = "p"}) -> tensor<f32> {
    %e = vdl.exp %p : tensor<2xf32>
    %l = vdl.reduce_mean %e : tensor<2xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}

// -----

// An op on a parameter's path without a gradient rule is an error at its
// location, never a silently wrong gradient.
func.func @loss(%p: tensor<2xf32> {vdl.param = "p"}, %d: tensor<2xf32>) -> tensor<f32> {
  // expected-error @+1 {{no gradient rule for 'vdl.relu_grad': cannot differentiate the loss through it}}
  %g = vdl.relu_grad %p, %d : tensor<2xf32>
  %l = vdl.reduce_sum %g : tensor<2xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A likelihood's target is data: asking for its gradient is an error.
func.func @loss(%p: tensor<2x3xf32> {vdl.param = "p"}) -> tensor<f32> {
  // expected-error @+1 {{no gradient rule for operand #1 of 'vdl.bernoulli_log_prob'}}
  %ll = vdl.bernoulli_log_prob %p, %p : tensor<2x3xf32> -> tensor<2xf32>
  %l = vdl.reduce_sum %ll : tensor<2xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{vdl-autodiff: no @loss function to differentiate}}
module {
}

// -----

// The training step's KL weight replaces @loss's constant beta in the loss
// and in the KL adjoint (KL warm-up).
// CHECK-LABEL: func.func @grad_step(
// CHECK: %[[BETA:.*]] = vdl.constant 2.500000e-01 : tensor<f32>
// CHECK: vdl.elbo %{{.*}}, %{{.*}}, %[[BETA]]
// CHECK: vdl.mul %{{.*}}, %[[BETA]] : tensor<f32>
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[HYPER:[^:]*]]: tensor<8xf32> {vdl.input = "hyper"})
// CHECK: %[[KLW:.*]] = tensor.extract_slice %[[HYPER]][1] [1] [1] : tensor<8xf32> to tensor<1xf32>
// CHECK: %[[W:.*]] = tensor.collapse_shape %[[KLW]] [] : tensor<1xf32> into tensor<f32>
// CHECK: vdl.elbo %{{.*}}, %{{.*}}, %[[W]]
// CHECK: vdl.mul %{{.*}}, %[[W]] : tensor<f32>
func.func @loss(%ll: tensor<f32> {vdl.param = "ll"}, %kl: tensor<f32> {vdl.param = "kl"}) -> tensor<f32> {
  %beta = vdl.constant 0.25 : tensor<f32>
  %l = vdl.elbo %ll, %kl, %beta : tensor<f32>
  return %l : tensor<f32>
}

// -----

// Example weights: per-example terms (rank 1, the module's batch) are scaled
// by a `weights` input before their batch mean, in @grad_step and
// @train_step alike; a mean over anything else (here the 3 outputs of a
// parameter) is left alone. The weights go after the last input.
// CHECK-LABEL: func.func @grad_step(
// CHECK-SAME: %{{[^:]*}}: tensor<4x3xf32> {vdl.input = "x"}, %[[W:[^:]*]]: tensor<4xf32> {vdl.input = "weights"})
// CHECK: %[[KL:.*]] = vdl.kl_normal
// CHECK: %[[SCALED:.*]] = vdl.mul %[[KL]], %[[W]] : tensor<4xf32>
// CHECK: vdl.reduce_mean %[[SCALED]] : tensor<4xf32> -> tensor<f32>
// CHECK: %[[Q:.*]] = vdl.mul %{{[^,]*}}, %{{[^ ]*}} : tensor<3xf32>
// CHECK: vdl.reduce_mean %[[Q]] : tensor<3xf32> -> tensor<f32>
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %{{[^:]*}}: tensor<4xf32> {vdl.input = "weights"}, %{{[^:]*}}: i64 {vdl.input = "step"}
module attributes {vdl.batch = 4 : i64} {
  func.func @loss(%p: tensor<3xf32> {vdl.param = "p"},
                  %x: tensor<4x3xf32> {vdl.input = "x"}) -> tensor<f32> {
    %px = vdl.mul %x, %x : tensor<4x3xf32>
    %t = vdl.reduce_rows %px : tensor<4x3xf32> -> tensor<3xf32>
    %e = vdl.kl_normal %x, %x prior(0.0, 1.0) : tensor<4x3xf32> -> tensor<4xf32>
    %s = vdl.reduce_mean %e : tensor<4xf32> -> tensor<f32>
    %q = vdl.mul %p, %t : tensor<3xf32>
    %m = vdl.reduce_mean %q : tensor<3xf32> -> tensor<f32>
    %l = vdl.add %s, %m : tensor<f32>
    return %l : tensor<f32>
  }
}
