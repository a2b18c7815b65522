// RUN: vae-opt %s -split-input-file -verify-diagnostics

func.func @dense_rank(%x: tensor<2x3x1xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'vdl.dense' op input must be rank 2 [batch, in], got 'tensor<2x3x1xf32>'}}
  %0 = vdl.dense %x, %w, %b : (tensor<2x3x1xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @dense_weight_rank(%x: tensor<2x3xf32>, %w: tensor<3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'vdl.dense' op weight must be rank 2 [in, out], got 'tensor<3xf32>'}}
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @dense_bias_rank(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<1x4xf32>) {
  // expected-error @+1 {{'vdl.dense' op bias must be rank 1 [out], got 'tensor<1x4xf32>'}}
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @dense_features(%x: tensor<2x5xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'vdl.dense' op input has 5 features but weight expects 3}}
  %0 = vdl.dense %x, %w, %b : (tensor<2x5xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @dense_bias_size(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'vdl.dense' op bias has 5 elements but weight has 4 outputs}}
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<5xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @dense_result(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'vdl.dense' op result must be 'tensor<2x4xf32>', got 'tensor<3x4xf32>'}}
  %0 = vdl.dense %x, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @dynamic_shape(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'vdl.relu' op operand #0 must be statically shaped tensor of 32-bit float values}}
  %0 = vdl.relu %x : tensor<?x4xf32>
  return
}

// -----

func.func @element_type(%x: tensor<2x4xf64>) {
  // expected-error @+1 {{'vdl.exp' op operand #0 must be statically shaped tensor of 32-bit float values}}
  %0 = vdl.exp %x : tensor<2x4xf64>
  return
}

// -----

func.func @binary_shapes(%a: tensor<2x4xf32>, %b: tensor<2x5xf32>) {
  // expected-error @+1 {{'vdl.add' op requires the same type for all operands and results}}
  %0 = "vdl.add"(%a, %b) : (tensor<2x4xf32>, tensor<2x5xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @reparameterize_rank(%mu: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'vdl.reparameterize' op expects [batch, latent] operands, got 'tensor<2x3x4xf32>'}}
  %0 = vdl.reparameterize %mu, %mu, %mu : tensor<2x3x4xf32>
  return
}

// -----

func.func @kl_rank(%mu: tensor<2xf32>) {
  // expected-error @+1 {{'vdl.kl_normal' op expects [batch, latent] operands, got 'tensor<2xf32>'}}
  %0 = vdl.kl_normal %mu, %mu prior(0.0, 1.0) : tensor<2xf32> -> tensor<2xf32>
  return
}

// -----

func.func @kl_prior_std(%mu: tensor<2x3xf32>) {
  // expected-error @+1 {{'vdl.kl_normal' op prior standard deviation must be positive, got 0}}
  %0 = vdl.kl_normal %mu, %mu prior(0.0, 0.0) : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @kl_result(%mu: tensor<2x3xf32>) {
  // expected-error @+1 {{'vdl.kl_normal' op result must be 'tensor<2xf32>' (one value per example), got 'tensor<3xf32>'}}
  %0 = vdl.kl_normal %mu, %mu prior(0.0, 1.0) : tensor<2x3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @kl_types(%mu: tensor<2x3xf32>, %logvar: tensor<2x4xf32>) {
  // expected-error @+1 {{'vdl.kl_normal' op failed to verify that all of {mu, logvar} have same type}}
  %0 = "vdl.kl_normal"(%mu, %logvar) : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @bernoulli_types(%l: tensor<2x3xf32>, %x: tensor<2x4xf32>) {
  // expected-error @+1 {{'vdl.bernoulli_log_prob' op failed to verify that all of {logits, target} have same type}}
  %0 = "vdl.bernoulli_log_prob"(%l, %x) : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @bernoulli_result(%l: tensor<2x3xf32>) {
  // expected-error @+1 {{'vdl.bernoulli_log_prob' op result must be 'tensor<2xf32>' (one value per example), got 'tensor<2x3xf32>'}}
  %0 = vdl.bernoulli_log_prob %l, %l : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @bernoulli_no_batch(%l: tensor<f32>) {
  // expected-error @+1 {{'vdl.bernoulli_log_prob' op expects operands with a batch dimension, got 'tensor<f32>'}}
  %0 = "vdl.bernoulli_log_prob"(%l, %l) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @gaussian_types(%m: tensor<2x3xf32>, %v: tensor<2x4xf32>) {
  // expected-error @+1 {{'vdl.gaussian_log_prob' op failed to verify that all of {mean, logvar, target} have same type}}
  %0 = "vdl.gaussian_log_prob"(%m, %v, %m) : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @gaussian_result(%m: tensor<2x3xf32>) {
  // expected-error @+1 {{'vdl.gaussian_log_prob' op result must be 'tensor<2xf32>' (one value per example), got 'tensor<4xf32>'}}
  %0 = vdl.gaussian_log_prob %m, %m, %m : tensor<2x3xf32> -> tensor<4xf32>
  return
}

// -----

func.func @gaussian_sigma(%m: tensor<2x3xf32>) {
  // expected-error @+1 {{'vdl.gaussian_fixed_log_prob' op sigma must be positive, got -1}}
  %0 = vdl.gaussian_fixed_log_prob %m, %m sigma = -1.0 : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @logistic_bins(%m: tensor<2x3xf32>) {
  // expected-error @+1 {{'vdl.discretized_logistic_log_prob' op bins must be 2 to 256, got 1}}
  %0 = vdl.discretized_logistic_log_prob %m, %m, %m bins = 1 : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @logistic_grad_bins(%m: tensor<2x3xf32>, %g: tensor<2xf32>) {
  // expected-error @+1 {{'vdl.discretized_logistic_log_prob_grad' op bins must be 2 to 256, got 300}}
  %0:2 = vdl.discretized_logistic_log_prob_grad %m, %m, %m, %g bins = 300 : tensor<2x3xf32>, tensor<2xf32>
  return
}

// -----

func.func @reduce_result(%x: tensor<2xf32>) {
  // expected-error @+1 {{'vdl.reduce_mean' op result #0 must be 0D tensor of 32-bit float values}}
  %0 = vdl.reduce_mean %x : tensor<2xf32> -> tensor<1xf32>
  return
}

// -----

// expected-error @+1 {{'vdl.init' of argument #0 must be an initializer attribute such as #vdl.uniform_fan_in<N>}}
func.func @bad_init(%w: tensor<3x4xf32> {vdl.init = 3 : i64}) {
  return
}

// -----

// expected-error @+1 {{'vdl.param' of argument #0 must be a non-empty string}}
func.func @bad_param(%w: tensor<3x4xf32> {vdl.param = ""}) {
  return
}

// -----

// expected-error @+1 {{unknown vdl argument attribute 'vdl.weight'}}
func.func @unknown_arg_attr(%w: tensor<3x4xf32> {vdl.weight = 1}) {
  return
}

// -----

func.func @fan_in(%w: tensor<3x4xf32> {
    // expected-error @+1 {{fan_in must be positive, got 0}}
    vdl.init = #vdl.uniform_fan_in<0>}) {
  return
}

// -----

// expected-error @+1 {{'vdl.batch' must be a positive integer}}
module attributes {vdl.batch = 0 : i64} {
}

// -----

// expected-error @+1 {{'vdl.model' must be a string}}
module attributes {vdl.model = 1 : i64} {
}

// -----

// expected-error @+1 {{'vdl.train' must be a dictionary}}
module attributes {vdl.train = "adam"} {
}

// -----

// expected-error @+1 {{'vdl.flops' must be a non-negative integer}}
func.func @flops() attributes {vdl.flops = -1 : i64} {
  return
}

// -----

// expected-error @+1 {{'vdl.flops_by_line' must be a dictionary of non-negative integers}}
func.func @flops_by_line() attributes {vdl.flops_by_line = {"m.vdl:3" = "many"}} {
  return
}

// -----

// expected-error @+1 {{unknown vdl attribute 'vdl.size'}}
module attributes {vdl.size = 1 : i64} {
}

// -----

func.func @matmul_contraction(%a: tensor<4x3xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+1 {{'vdl.matmul' op contracts 3 with 4 elements}}
  %0 = vdl.matmul %a, %b : tensor<4x3xf32>, tensor<4x2xf32> -> tensor<4x2xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<4x3xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+1 {{'vdl.matmul' op result must be 'tensor<3x2xf32>', got 'tensor<2x3xf32>'}}
  %0 = vdl.matmul %a, %b transpose_lhs : tensor<4x3xf32>, tensor<4x2xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_rows_result(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{'vdl.reduce_rows' op result must be 'tensor<3xf32>', got 'tensor<4xf32>'}}
  %0 = vdl.reduce_rows %a : tensor<4x3xf32> -> tensor<4xf32>
  return
}

// -----

func.func @kl_grad_adjoint(%m: tensor<4x3xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{'vdl.kl_normal_grad' op adjoint must be 'tensor<4xf32>' (one value per example), got 'tensor<3xf32>'}}
  %0:2 = vdl.kl_normal_grad %m, %m, %g prior(0.0, 1.0) : tensor<4x3xf32>, tensor<3xf32>
  return
}

// -----

func.func @adam_types(%p: tensor<4x3xf32>, %g: tensor<4x2xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{'vdl.adam_update' op failed to verify that all of {param, grad, m, v, new_param, new_m, new_v} have same type}}
  %0:3 = "vdl.adam_update"(%p, %g, %p, %p, %s, %s, %s, %s, %s, %s, %s) : (tensor<4x3xf32>, tensor<4x2xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>)
  return
}

// -----

// vdl.parallel marks loops only (vdl-tile-and-vectorize puts it on matmul
// row-block loops for vdl-parallelize).
// expected-error @+1 {{'vdl.parallel' must be a unit attribute on a loop}}
func.func @parallel_not_a_loop() attributes {vdl.parallel} {
  return
}

// -----

func.func @reshape_elements(%x: tensor<2x1x4x4xf32>) {
  // expected-error @+1 {{'vdl.reshape' op keeps the number of elements: 'tensor<2x1x4x4xf32>' has 32, 'tensor<2x15xf32>' has 30}}
  %0 = vdl.reshape %x : tensor<2x1x4x4xf32> -> tensor<2x15xf32>
  return
}

// -----

func.func @reshape_batch(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'vdl.reshape' op keeps the batch dimension: 2 in, 4 out}}
  %0 = vdl.reshape %x : tensor<2x8xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @reshape_no_batch(%x: tensor<16xf32>) {
  // expected-error @+1 {{'vdl.reshape' op reshapes batches of examples: operand and result need a batch dimension and at least one more, got 'tensor<16xf32>' and 'tensor<2x8xf32>'}}
  %0 = vdl.reshape %x : tensor<16xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<2x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{'vdl.conv2d' op channels do not match: the input 'tensor<2x3x8x8xf32>' has 3, the filter 'tensor<4x1x3x3xf32>' takes 1}}
  %0 = vdl.conv2d %x, %w stride = 1 padding = 0 : (tensor<2x3x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @conv_kernel(%x: tensor<2x1x2x2xf32>, %w: tensor<4x1x5x5xf32>) {
  // expected-error @+1 {{'vdl.conv2d' op kernel 5 is larger than the padded input 'tensor<2x1x2x2xf32>' (padding 1)}}
  %0 = vdl.conv2d %x, %w stride = 1 padding = 1 : (tensor<2x1x2x2xf32>, tensor<4x1x5x5xf32>) -> tensor<2x4x1x1xf32>
  return
}

// -----

func.func @conv_result(%x: tensor<2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{'vdl.conv2d' op result must be 'tensor<2x4x4x4xf32>', got 'tensor<2x4x3x3xf32>'}}
  %0 = vdl.conv2d %x, %w stride = 2 padding = 1 : (tensor<2x1x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x3x3xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{'vdl.conv2d' op stride must be at least 1, got 0}}
  %0 = vdl.conv2d %x, %w stride = 0 padding = 1 : (tensor<2x1x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x4x4xf32>
  return
}

// -----

func.func @conv_square(%x: tensor<2x1x8x8xf32>, %w: tensor<4x1x3x2xf32>) {
  // expected-error @+1 {{'vdl.conv2d' op takes square kernels, got a filter of 'tensor<4x1x3x2xf32>'}}
  %0 = vdl.conv2d %x, %w stride = 1 padding = 0 : (tensor<2x1x8x8xf32>, tensor<4x1x3x2xf32>) -> tensor<2x4x6x7xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<2x1x8x8xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'vdl.conv2d' op bias must be [4], got 'tensor<3xf32>'}}
  %0 = vdl.conv2d %x, %w, %b stride = 1 padding = 0 : (tensor<2x1x8x8xf32>, tensor<4x1x3x3xf32>, tensor<3xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @conv_transpose_output_padding(%x: tensor<2x4x4x4xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'vdl.conv2d_transpose' op output_padding must be in [0, stride = 2), got 2}}
  %0 = vdl.conv2d_transpose %x, %w stride = 2 padding = 1 output_padding = 2 : (tensor<2x4x4x4xf32>, tensor<4x2x3x3xf32>) -> tensor<2x2x9x9xf32>
  return
}

// -----

func.func @conv_transpose_result(%x: tensor<2x4x4x4xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'vdl.conv2d_transpose' op result must be 'tensor<2x2x8x8xf32>', got 'tensor<2x2x7x7xf32>'}}
  %0 = vdl.conv2d_transpose %x, %w stride = 2 padding = 1 output_padding = 1 : (tensor<2x4x4x4xf32>, tensor<4x2x3x3xf32>) -> tensor<2x2x7x7xf32>
  return
}

// -----

func.func @filter_grad_size(%x: tensor<2x1x8x8xf32>, %dy: tensor<2x4x5x5xf32>) {
  // expected-error @+1 {{'vdl.conv2d_filter_grad' op output_grad 'tensor<2x4x5x5xf32>' is not the size of a convolution of 'tensor<2x1x8x8xf32>' with kernel 3, stride 2, padding 1}}
  %0 = vdl.conv2d_filter_grad %x, %dy stride = 2 padding = 1 : (tensor<2x1x8x8xf32>, tensor<2x4x5x5xf32>) -> tensor<4x1x3x3xf32>
  return
}

// -----

func.func @channel_sum_result(%x: tensor<2x4x5x5xf32>) {
  // expected-error @+1 {{'vdl.channel_sum' op result must be [4], got 'tensor<5xf32>'}}
  %0 = vdl.channel_sum %x : tensor<2x4x5x5xf32> -> tensor<5xf32>
  return
}

// -----

// vdl.remarks (vaec --remarks) is a unit attribute of the module.
// expected-error @+1 {{'vdl.remarks' must be a unit attribute on a module}}
func.func @remarks_not_a_module() attributes {vdl.remarks} {
  return
}
