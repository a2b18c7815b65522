//===- VDLOps.td - vdl dialect operations ------------------*- tablegen -*-===//
//
// Every op works on static-shaped f32 tensors whose leading dimension is the
// batch. Shape rules are checked by the verifiers; the builders without an
// explicit result type infer it (the dialect's shape inference).
//
//===----------------------------------------------------------------------===//

#ifndef VDL_OPS_TD
#define VDL_OPS_TD

include "ir/VDLBase.td"
include "ir/VDLInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def VDL_Tensor : StaticShapeTensorOf<[F32]>;
def VDL_Scalar : 0DTensorOf<[F32]>;
// The same, buildable: an optional scalar operand's type in an assembly
// format is then implied.
def VDL_ImpliedScalar : 0DTensorOf<[F32]>,
    BuildableType<"::mlir::RankedTensorType::get({}, $_builder.getF32Type())">;

class VDL_Op<string mnemonic, list<Trait> traits = []>
    : Op<VDL_Dialect, mnemonic, !listconcat(traits, [Pure])>;

/// A forward op: it has a gradient rule (ir/VDLGradients.cpp).
defvar Differentiable = DeclareOpInterfaceMethods<VDL_GradientOpInterface>;

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

def VDL_DenseOp : VDL_Op<"dense", [Differentiable]> {
  let summary = "fully connected layer: input · weight + bias";
  let description = [{
    `result[b, n] = sum_k input[b, k] * weight[k, n] + bias[n]`. The weight is
    stored `[in, out]` so the inner loop over `n` is unit-stride.

    ```mlir
    %h = vdl.dense %x, %w, %b : (tensor<128x784xf32>, tensor<784x400xf32>,
                                 tensor<400xf32>) -> tensor<128x400xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$input, VDL_Tensor:$weight, VDL_Tensor:$bias);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                   "::mlir::Value":$bias)>
  ];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def VDL_ReshapeOp : VDL_Op<"reshape", [Differentiable]> {
  let summary = "the same elements of each example in another shape";
  let description = [{
    VDL's `flatten(x)` and `reshape(x, [32, 7, 7])`: each example's elements
    in row-major order, unchanged, under another shape; the batch dimension
    (the first) stays. Its gradient is the reshape back. Lowers to views
    (`tensor.collapse_shape`, then `tensor.expand_shape`): no copy.

    ```mlir
    %flat = vdl.reshape %x : tensor<128x1x28x28xf32> -> tensor<128x784xf32>
    %image = vdl.reshape %h : tensor<128x1568xf32> -> tensor<128x32x7x7xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$input);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def VDL_Conv2DOp : VDL_Op<"conv2d", [Differentiable]> {
  let summary = "2-D convolution of a batch of images, plus a bias per filter";
  let description = [{
    `result[b, o, y, x] = bias[o] + sum_{c, i, j} filter[o, c, i, j] *
    input[b, c, y * stride + i - padding, x * stride + j - padding]`, zero
    outside the input. NCHW images, filters `[out, in, k, k]` as PyTorch's
    Conv2d; `result` is `[B, out, (H + 2 padding - k) / stride + 1, ...]`.
    Without a bias it is the input gradient of a transposed convolution.

    ```mlir
    %h = vdl.conv2d %x, %w, %b stride = 2 padding = 1
        : (tensor<128x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>)
        -> tensor<128x32x14x14xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$input, VDL_Tensor:$filter, Optional<VDL_Tensor>:$bias,
                       I64Attr:$stride, I64Attr:$padding);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? `stride` `=` $stride `padding` `=` $padding attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def VDL_Conv2DTransposeOp : VDL_Op<"conv2d_transpose", [Differentiable]> {
  let summary = "transposed 2-D convolution (the adjoint of vdl.conv2d), plus a bias";
  let description = [{
    Each input pixel scatters `filter[c, :, :, :]` times itself into the
    output: `result[b, o, y * stride + i - padding, x * stride + j - padding]
    += input[b, c, y, x] * filter[c, o, i, j]`, then `+ bias[o]`. Filters
    `[in, out, k, k]` as PyTorch's ConvTranspose2d; `result` is
    `[B, out, (H - 1) stride - 2 padding + k + output_padding, ...]`,
    `output_padding < stride`. Without a bias it is the input gradient of
    vdl.conv2d.

    ```mlir
    %y = vdl.conv2d_transpose %h, %w, %b stride = 2 padding = 1 output_padding = 1
        : (tensor<128x64x7x7xf32>, tensor<64x32x3x3xf32>, tensor<32xf32>)
        -> tensor<128x32x14x14xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$input, VDL_Tensor:$filter, Optional<VDL_Tensor>:$bias,
                       I64Attr:$stride, I64Attr:$padding, I64Attr:$output_padding);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? `stride` `=` $stride `padding` `=` $padding
    `output_padding` `=` $output_padding attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def VDL_Conv2DFilterGradOp : VDL_Op<"conv2d_filter_grad"> {
  let summary = "the filter gradient of a convolution: input correlated with dy";
  let description = [{
    `result[o, c, i, j] = sum_{b, y, x} output_grad[b, o, y, x] *
    input[b, c, y * stride + i - padding, x * stride + j - padding]`: the
    gradient of vdl.conv2d's filter, and (input and output_grad swapped)
    of vdl.conv2d_transpose's. `output_grad` has the spatial size a
    convolution of `input` with this stride, padding and kernel has.

    ```mlir
    %dw = vdl.conv2d_filter_grad %x, %dy stride = 2 padding = 1
        : (tensor<128x1x28x28xf32>, tensor<128x32x14x14xf32>) -> tensor<32x1x3x3xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$input, VDL_Tensor:$output_grad, I64Attr:$stride,
                       I64Attr:$padding);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $output_grad `stride` `=` $stride `padding` `=` $padding attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def VDL_ChannelSumOp : VDL_Op<"channel_sum"> {
  let summary = "sum over the batch and the pixels, per channel";
  let description = [{
    `result[c] = sum_{b, y, x} input[b, c, y, x]`: the bias gradient of a
    convolution.

    ```mlir
    %db = vdl.channel_sum %dy : tensor<128x32x14x14xf32> -> tensor<32xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$input);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

class VDL_UnaryOp<string mnemonic, string formula>
    : VDL_Op<mnemonic, [SameOperandsAndResultType, Differentiable]> {
  let summary = "elementwise " # mnemonic;
  let description = "Elementwise `" # formula # "`.\n\n```mlir\n"
    # "%y = vdl." # mnemonic # " %x : tensor<128x400xf32>\n```";
  let arguments = (ins VDL_Tensor:$input);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def VDL_ReluOp : VDL_UnaryOp<"relu", "max(x, 0)">;
def VDL_TanhOp : VDL_UnaryOp<"tanh", "tanh(x)">;
def VDL_SigmoidOp : VDL_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def VDL_SoftplusOp : VDL_UnaryOp<"softplus", "log(1 + exp(x))">;
def VDL_ExpOp : VDL_UnaryOp<"exp", "exp(x)">;
def VDL_LogOp : VDL_UnaryOp<"log", "log(x)">;
def VDL_NegOp : VDL_UnaryOp<"neg", "-x">;

class VDL_AlphaUnaryOp<string mnemonic, string formula, string defaultAlpha>
    : VDL_Op<mnemonic, [SameOperandsAndResultType, Differentiable]> {
  let summary = "elementwise " # mnemonic # " with slope parameter alpha";
  let description = "Elementwise `" # formula # "`.\n\n```mlir\n"
    # "%y = vdl." # mnemonic # " %x alpha = " # defaultAlpha
    # " : tensor<128x400xf32>\n```";
  let arguments = (ins VDL_Tensor:$input,
                       DefaultValuedAttr<F32Attr, defaultAlpha>:$alpha);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$input `alpha` `=` $alpha attr-dict `:` type($result)";
}

def VDL_LeakyReluOp
    : VDL_AlphaUnaryOp<"leaky_relu", "x > 0 ? x : alpha * x", "0.01">;
def VDL_EluOp
    : VDL_AlphaUnaryOp<"elu", "x > 0 ? x : alpha * (exp(x) - 1)", "1.0">;

class VDL_BinaryOp<string mnemonic, string formula>
    : VDL_Op<mnemonic, [SameOperandsAndResultType, Differentiable]> {
  let summary = "elementwise " # mnemonic;
  let description = "Elementwise `" # formula # "` on operands of one shape; "
    # "the frontend broadcasts scalars with `vdl.constant`.\n\n```mlir\n"
    # "%c = vdl." # mnemonic # " %a, %b : tensor<128x20xf32>\n```";
  let arguments = (ins VDL_Tensor:$lhs, VDL_Tensor:$rhs);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def VDL_AddOp : VDL_BinaryOp<"add", "lhs + rhs">;
def VDL_SubOp : VDL_BinaryOp<"sub", "lhs - rhs">;
def VDL_MulOp : VDL_BinaryOp<"mul", "lhs * rhs">;
def VDL_DivOp : VDL_BinaryOp<"div", "lhs / rhs">;
def VDL_MinOp : VDL_BinaryOp<"min", "min(lhs, rhs)">;
def VDL_MaxOp : VDL_BinaryOp<"max", "max(lhs, rhs)">;

def VDL_ConstantOp : VDL_Op<"constant", [Differentiable]> {
  let summary = "a tensor with every element equal to one f32 value";
  let description = [{
    How a scalar in VDL (`h * 0.5`) meets a tensor: the frontend splats it to
    the other operand's shape.

    ```mlir
    %half = vdl.constant 5.000000e-01 : tensor<128x20xf32>
    ```
  }];
  let arguments = (ins F32Attr:$value);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
}

include "ir/VDLDistributionOps.td"

//===----------------------------------------------------------------------===//
// Reductions and the loss
//===----------------------------------------------------------------------===//

class VDL_ReduceOp<string mnemonic, string what>
    : VDL_Op<mnemonic, [Differentiable]> {
  let summary = what # " of every element, to a scalar";
  let description = "Reduces all dimensions (the batch included) to a 0-d "
    # "tensor.\n\n```mlir\n%m = vdl." # mnemonic
    # " %kl : tensor<128xf32> -> tensor<f32>\n```";
  let arguments = (ins VDL_Tensor:$input);
  let results = (outs VDL_Scalar:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let builders = [OpBuilder<(ins "::mlir::Value":$input)>];
}

def VDL_ReduceMeanOp : VDL_ReduceOp<"reduce_mean", "mean">;
def VDL_ReduceSumOp : VDL_ReduceOp<"reduce_sum", "sum">;

def VDL_ElboOp : VDL_Op<"elbo", [SameOperandsAndResultType, Differentiable]> {
  let summary = "the loss to minimize: -log_likelihood + beta * kl";
  let description = [{
    Combines the batch means of the log-likelihood and the KL term into the
    negative (beta-)ELBO in nats per example. `beta` is an operand so a
    training step can anneal it (KL warm-up); @loss passes a constant.

    ```mlir
    %beta = vdl.constant 1.000000e+00 : tensor<f32>
    %loss = vdl.elbo %ll, %kl, %beta : tensor<f32>
    ```
  }];
  let arguments = (ins VDL_Scalar:$log_likelihood, VDL_Scalar:$kl, VDL_Scalar:$beta);
  let results = (outs VDL_Scalar:$result);
  let assemblyFormat = [{
    $log_likelihood `,` $kl `,` $beta attr-dict `:` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Gradient ops: what the autodiff pass builds the backward pass from
//===----------------------------------------------------------------------===//

def VDL_MatmulOp : VDL_Op<"matmul"> {
  let summary = "matrix product with optional transposes, no bias";
  let description = [{
    `op(lhs) · op(rhs)` where `op` transposes when `transpose_lhs` /
    `transpose_rhs` is set. The backward pass of a dense layer:
    `dx = dy · Wᵀ` and `dW = xᵀ · dy`.

    ```mlir
    %dx = vdl.matmul %dy, %w transpose_rhs
        : tensor<128x400xf32>, tensor<784x400xf32> -> tensor<128x784xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$lhs, VDL_Tensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_lhs` $transpose_lhs^)? (`transpose_rhs` $transpose_rhs^)?
    attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs,
                   "bool":$transposeLhs, "bool":$transposeRhs)>
  ];
}

def VDL_ReduceRowsOp : VDL_Op<"reduce_rows"> {
  let summary = "sum over the batch dimension";
  let description = [{
    `result[n] = sum_b input[b, n]`: the gradient of a bias.

    ```mlir
    %db = vdl.reduce_rows %dy : tensor<128x400xf32> -> tensor<400xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$input);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$input)>];
}

def VDL_BroadcastOp : VDL_Op<"broadcast"> {
  let summary = "a scalar times a constant, copied to every element";
  let description = [{
    `result[...] = scale * input[]`: the gradient of a mean (`scale = 1/N`)
    or a sum (`scale = 1`).

    ```mlir
    %dx = vdl.broadcast %ds scale = 7.812500e-03 : tensor<f32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Scalar:$input, DefaultValuedAttr<F32Attr, "1.0">:$scale);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $input `scale` `=` $scale attr-dict `:` type($input) `->` type($result)
  }];
}

class VDL_ActivationGradOp<string mnemonic, string operand, string formula>
    : VDL_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = "adjoint of " # operand # " through an activation";
  let description = "`dx = " # formula # "`, elementwise, from the "
    # "activation's " # operand # " and the result's adjoint `dy`.\n\n"
    # "```mlir\n%dx = vdl." # mnemonic # " %" # operand # ", %dy"
    # " : tensor<128x400xf32>\n```";
  let arguments = (ins VDL_Tensor:$input, VDL_Tensor:$adjoint);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$input `,` $adjoint attr-dict `:` type($result)";
}

def VDL_ReluGradOp : VDL_ActivationGradOp<"relu_grad", "x", "x > 0 ? dy : 0">;
def VDL_TanhGradOp : VDL_ActivationGradOp<"tanh_grad", "y", "dy * (1 - y * y)">;
def VDL_SigmoidGradOp
    : VDL_ActivationGradOp<"sigmoid_grad", "y", "dy * y * (1 - y)">;
def VDL_SoftplusGradOp
    : VDL_ActivationGradOp<"softplus_grad", "x", "dy * sigmoid(x)">;

def VDL_SelectGradOp : VDL_Op<"select_grad", [SameOperandsAndResultType]> {
  let summary = "adjoint of min and max: dy where lhs >= rhs, 0 elsewhere";
  let description = [{
    `dx = lhs >= rhs ? dy : 0`, elementwise: the adjoint of `max`'s lhs
    (and, with the operands swapped, of `min`'s); the other operand's is
    `dy - dx`. A tie goes to the lhs, so `clamp(x, lo, hi)` =
    `min(max(x, lo), hi)` passes the gradient for `lo <= x <= hi`, bounds
    included (PyTorch's clamp).

    ```mlir
    %da = vdl.select_grad %a, %b, %dy : tensor<128x20xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$lhs, VDL_Tensor:$rhs, VDL_Tensor:$adjoint);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs `,` $adjoint attr-dict `:` type($result)";
}

class VDL_AlphaActivationGradOp<string mnemonic, string formula>
    : VDL_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = "adjoint of x through an activation with slope alpha";
  let description = "`dx = " # formula # "`, elementwise.\n\n```mlir\n"
    # "%dx = vdl." # mnemonic # " %x, %dy alpha = 1.000000e-02"
    # " : tensor<128x400xf32>\n```";
  let arguments = (ins VDL_Tensor:$input, VDL_Tensor:$adjoint, F32Attr:$alpha);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $adjoint `alpha` `=` $alpha attr-dict `:` type($result)
  }];
}

def VDL_LeakyReluGradOp
    : VDL_AlphaActivationGradOp<"leaky_relu_grad", "x > 0 ? dy : alpha * dy">;
def VDL_EluGradOp
    : VDL_AlphaActivationGradOp<"elu_grad", "x > 0 ? dy : alpha * exp(x) * dy">;

def VDL_KLNormalGradOp : VDL_Op<"kl_normal_grad",
    [AllTypesMatch<["mu", "logvar", "mu_adjoint", "logvar_adjoint"]>]> {
  let summary = "adjoints of mu and logvar through the analytic KL";
  let description = [{
    With `g[b]` the adjoint of example b's KL:
    `dmu = g * (mu - m) / s^2`, `dlogvar = g * 0.5 * (exp(logvar) / s^2 - 1)`.

    ```mlir
    %dmu, %dlv = vdl.kl_normal_grad %mu, %logvar, %g prior(0.0, 1.0)
        : tensor<128x20xf32>, tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mu, VDL_Tensor:$logvar, VDL_Tensor:$adjoint,
                       F32Attr:$prior_mean, F32Attr:$prior_std);
  let results = (outs VDL_Tensor:$mu_adjoint, VDL_Tensor:$logvar_adjoint);
  let assemblyFormat = [{
    $mu `,` $logvar `,` $adjoint `prior` `(` $prior_mean `,` $prior_std `)`
    attr-dict `:` type($mu) `,` type($adjoint)
  }];
  let hasVerifier = 1;
}

def VDL_BernoulliLogProbGradOp : VDL_Op<"bernoulli_log_prob_grad",
    [AllTypesMatch<["logits", "target", "result"]>]> {
  let summary = "adjoint of the logits through the Bernoulli log-likelihood";
  let description = [{
    `dlogits = g[b] * (target - sigmoid(logits))`, `g[b]` broadcast over the
    example's elements.

    ```mlir
    %dl = vdl.bernoulli_log_prob_grad %logits, %x, %g
        : tensor<128x784xf32>, tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$logits, VDL_Tensor:$target, VDL_Tensor:$adjoint);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $logits `,` $target `,` $adjoint attr-dict `:` type($logits) `,` type($adjoint)
  }];
  let hasVerifier = 1;
}

def VDL_GaussianLogProbGradOp : VDL_Op<"gaussian_log_prob_grad",
    [AllTypesMatch<["mean", "logvar", "target", "mean_adjoint", "logvar_adjoint"]>]> {
  let summary = "adjoints of mean and logvar through the Gaussian log-likelihood";
  let description = [{
    `dmean = g * (t - m) * exp(-lv)`,
    `dlogvar = g * 0.5 * ((t - m)^2 * exp(-lv) - 1)`.

    ```mlir
    %dm, %dlv = vdl.gaussian_log_prob_grad %mean, %logvar, %x, %g
        : tensor<128x784xf32>, tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mean, VDL_Tensor:$logvar, VDL_Tensor:$target,
                       VDL_Tensor:$adjoint);
  let results = (outs VDL_Tensor:$mean_adjoint, VDL_Tensor:$logvar_adjoint);
  let assemblyFormat = [{
    $mean `,` $logvar `,` $target `,` $adjoint attr-dict
    `:` type($mean) `,` type($adjoint)
  }];
  let hasVerifier = 1;
}

def VDL_DiscretizedLogisticLogProbGradOp
    : VDL_Op<"discretized_logistic_log_prob_grad",
             [AllTypesMatch<["mean", "log_scale", "target", "mean_adjoint",
                             "log_scale_adjoint"]>]> {
  let summary = "adjoints of mean and log_scale through the discretized logistic";
  let description = [{
    With a, b, u, h as in `vdl.discretized_logistic_log_prob`, w = 2 h u and
    the indicators A = [t < bins - 1], B = [t > 0]:
    `dmean = -g u (A sigmoid(-a) - B sigmoid(b))`,
    `dlog_scale = g (-A a sigmoid(-a) + B b sigmoid(b) - A B w / (exp(w) - 1))`.

    ```mlir
    %dm, %ds = vdl.discretized_logistic_log_prob_grad %mean, %log_scale, %x, %g bins = 256
        : tensor<128x784xf32>, tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mean, VDL_Tensor:$log_scale, VDL_Tensor:$target,
                       VDL_Tensor:$adjoint, I64Attr:$bins);
  let results = (outs VDL_Tensor:$mean_adjoint, VDL_Tensor:$log_scale_adjoint);
  let assemblyFormat = [{
    $mean `,` $log_scale `,` $target `,` $adjoint `bins` `=` $bins attr-dict
    `:` type($mean) `,` type($adjoint)
  }];
  let hasVerifier = 1;
}

def VDL_GaussianFixedLogProbGradOp : VDL_Op<"gaussian_fixed_log_prob_grad",
    [AllTypesMatch<["mean", "target", "result"]>]> {
  let summary = "adjoint of the mean through the fixed-variance Gaussian";
  let description = [{
    `dmean = g * (t - m) / sigma^2`.

    ```mlir
    %dm = vdl.gaussian_fixed_log_prob_grad %mean, %x, %g sigma = 1.000000e+00
        : tensor<128x784xf32>, tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mean, VDL_Tensor:$target, VDL_Tensor:$adjoint,
                       F32Attr:$sigma);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $mean `,` $target `,` $adjoint `sigma` `=` $sigma attr-dict
    `:` type($mean) `,` type($adjoint)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

def VDL_ClipCoefficientOp : VDL_Op<"clip_coefficient",
    [AllTypesMatch<["norm_sq", "max_norm", "result"]>]> {
  let summary = "the factor that clips a gradient to a largest global L2 norm";
  let description = [{
    PyTorch's `clip_grad_norm_`: with `norm_sq` the sum of the squares of
    every gradient element,

    ```
    max_norm > 0 ? min(1, max_norm / (sqrt(norm_sq) + 1e-6)) : 1
    ```

    (`max_norm` 0 turns clipping off at run time). The optimizer updates
    multiply each gradient by it (their `grad_scale`).

    ```mlir
    %scale = vdl.clip_coefficient %norm_sq, %max_norm : tensor<f32>
    ```
  }];
  let arguments = (ins VDL_Scalar:$norm_sq, VDL_Scalar:$max_norm);
  let results = (outs VDL_Scalar:$result);
  let assemblyFormat = "$norm_sq `,` $max_norm attr-dict `:` type($result)";
}

def VDL_AdamUpdateOp : VDL_Op<"adam_update",
    [AllTypesMatch<["param", "grad", "m", "v", "new_param", "new_m", "new_v"]>,
     AllTypesMatch<["bias_correction1", "bias_correction2", "lr", "beta1", "beta2",
                    "eps", "weight_decay"]>]> {
  let summary = "one AdamW step on a parameter (PyTorch's formula; Adam at weight_decay 0)";
  let description = [{
    With the bias corrections `bc1 = 1 - beta1^t`, `bc2 = 1 - beta2^t`
    computed once per step, and the learning rate, decay rates, epsilon and
    decoupled weight decay as run-time scalars (train_step reads them from
    its `hyper` argument):

    ```
    g' = g grad_scale                        (when clipping: vdl.clip_coefficient)
    m' = beta1 m + (1 - beta1) g'
    v' = beta2 v + (1 - beta2) g'^2
    p' = p (1 - lr weight_decay) - lr (m' / bc1) / (sqrt(v' / bc2) + eps)
    ```

    ```mlir
    %p2, %m2, %v2 = vdl.adam_update %p, %g, %m, %v, %bc1, %bc2
        lr %lr beta1 %b1 beta2 %b2 eps %eps weight_decay %wd grad_scale %s
        : tensor<784x400xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$param, VDL_Tensor:$grad, VDL_Tensor:$m,
                       VDL_Tensor:$v, VDL_Scalar:$bias_correction1,
                       VDL_Scalar:$bias_correction2, VDL_Scalar:$lr,
                       VDL_Scalar:$beta1, VDL_Scalar:$beta2, VDL_Scalar:$eps,
                       VDL_Scalar:$weight_decay, Optional<VDL_ImpliedScalar>:$grad_scale);
  let results = (outs VDL_Tensor:$new_param, VDL_Tensor:$new_m,
                      VDL_Tensor:$new_v);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v `,` $bias_correction1 `,` $bias_correction2
    `lr` $lr `beta1` $beta1 `beta2` $beta2 `eps` $eps `weight_decay` $weight_decay
    (`grad_scale` $grad_scale^)? attr-dict `:` type($param) `,` type($bias_correction1)
  }];
}

def VDL_SgdUpdateOp : VDL_Op<"sgd_update",
    [AllTypesMatch<["param", "grad", "velocity", "new_param", "new_velocity"]>,
     AllTypesMatch<["lr", "momentum"]>]> {
  let summary = "one SGD step with momentum (PyTorch's formula)";
  let description = [{
    `v' = momentum v + g grad_scale`, `p' = p - lr v'` (no dampening, no
    Nesterov; `grad_scale` only when clipping); the learning rate and
    momentum are run-time scalars.

    ```mlir
    %p2, %v2 = vdl.sgd_update %p, %g, %v lr %lr momentum %mom
        : tensor<784x400xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$param, VDL_Tensor:$grad,
                       VDL_Tensor:$velocity, VDL_Scalar:$lr, VDL_Scalar:$momentum,
                       Optional<VDL_ImpliedScalar>:$grad_scale);
  let results = (outs VDL_Tensor:$new_param, VDL_Tensor:$new_velocity);
  let assemblyFormat = [{
    $param `,` $grad `,` $velocity `lr` $lr `momentum` $momentum
    (`grad_scale` $grad_scale^)? attr-dict `:` type($param) `,` type($lr)
  }];
}

#endif // VDL_OPS_TD
