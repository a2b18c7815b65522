//===- VDLDistributionOps.td - the probabilistic layer ------*- tablegen -*-===//
//
// The posterior's sample and KL term and every likelihood's per-example
// log-probability: included by VDLOps.td, in its place among the op
// groups.
//
//===----------------------------------------------------------------------===//

#ifndef VDL_DISTRIBUTION_OPS_TD
#define VDL_DISTRIBUTION_OPS_TD

//===----------------------------------------------------------------------===//
// Probabilistic layer
//===----------------------------------------------------------------------===//

def VDL_ReparameterizeOp
    : VDL_Op<"reparameterize", [SameOperandsAndResultType, Differentiable]> {
  let summary = "sample z = mu + exp(logvar / 2) * eps";
  let description = [{
    The reparameterization trick: a differentiable sample of the diagonal
    Gaussian posterior `N(mu, exp(logvar))` from standard-normal noise `eps`
    supplied by the caller.

    ```mlir
    %z = vdl.reparameterize %mu, %logvar, %eps : tensor<128x20xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mu, VDL_Tensor:$logvar, VDL_Tensor:$eps);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = "$mu `,` $logvar `,` $eps attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def VDL_KLNormalOp
    : VDL_Op<"kl_normal", [AllTypesMatch<["mu", "logvar"]>, Differentiable]> {
  let summary = "analytic KL(N(mu, exp(logvar)) || N(prior_mean, prior_std^2))";
  let description = [{
    Per-example KL divergence of the diagonal Gaussian posterior from the
    isotropic Gaussian prior, summed over the latent dimensions:

    `0.5 * sum_j (exp(logvar) + (mu - m)^2) / s^2 - 1 - logvar + 2 log s`

    ```mlir
    %kl = vdl.kl_normal %mu, %logvar prior(0.000000e+00, 1.000000e+00)
        : tensor<128x20xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mu, VDL_Tensor:$logvar,
                       DefaultValuedAttr<F32Attr, "0.0">:$prior_mean,
                       DefaultValuedAttr<F32Attr, "1.0">:$prior_std);
  let results = (outs VDL_Tensor:$result);
  let assemblyFormat = [{
    $mu `,` $logvar `prior` `(` $prior_mean `,` $prior_std `)` attr-dict
    `:` type($mu) `->` type($result)
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Value":$mu, "::mlir::Value":$logvar,
                   "float":$priorMean, "float":$priorStd)>
  ];
}

class VDL_LogProbOp<string mnemonic, list<Trait> traits = []>
    : VDL_Op<mnemonic, !listconcat(traits, [Differentiable])> {
  let results = (outs VDL_Tensor:$result);
  let hasVerifier = 1;
}

def VDL_BernoulliLogProbOp
    : VDL_LogProbOp<"bernoulli_log_prob", [AllTypesMatch<["logits", "target"]>]> {
  let summary = "per-example log p(target | Bernoulli(sigmoid(logits)))";
  let description = [{
    Summed over every non-batch dimension; `target` may be any value in [0, 1]
    (the continuous relaxation used for grey-level MNIST). Equal to minus the
    binary cross-entropy with logits.

    ```mlir
    %ll = vdl.bernoulli_log_prob %logits, %x
        : tensor<128x784xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$logits, VDL_Tensor:$target);
  let assemblyFormat = [{
    $logits `,` $target attr-dict `:` type($logits) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$logits, "::mlir::Value":$target)>
  ];
}

def VDL_GaussianLogProbOp
    : VDL_LogProbOp<"gaussian_log_prob",
                    [AllTypesMatch<["mean", "logvar", "target"]>]> {
  let summary = "per-example log N(target | mean, exp(logvar))";
  let description = [{
    Diagonal Gaussian likelihood with a learned log-variance per element,
    summed over every non-batch dimension.

    ```mlir
    %ll = vdl.gaussian_log_prob %mean, %logvar, %x
        : tensor<128x784xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mean, VDL_Tensor:$logvar, VDL_Tensor:$target);
  let assemblyFormat = [{
    $mean `,` $logvar `,` $target attr-dict `:` type($mean) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$mean, "::mlir::Value":$logvar,
                   "::mlir::Value":$target)>
  ];
}

def VDL_GaussianFixedLogProbOp
    : VDL_LogProbOp<"gaussian_fixed_log_prob",
                    [AllTypesMatch<["mean", "target"]>]> {
  let summary = "per-example log N(target | mean, sigma^2) with a fixed sigma";
  let description = [{
    The mean-squared-error decoder: `-0.5 * sum ((target - mean) / sigma)^2
    - D * (log sigma + 0.5 log 2 pi)`, summed over every non-batch dimension.

    ```mlir
    %ll = vdl.gaussian_fixed_log_prob %mean, %x sigma = 1.000000e+00
        : tensor<128x784xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mean, VDL_Tensor:$target, F32Attr:$sigma);
  let assemblyFormat = [{
    $mean `,` $target `sigma` `=` $sigma attr-dict
    `:` type($mean) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$mean, "::mlir::Value":$target,
                   "float":$sigma)>
  ];
}

def VDL_DiscretizedLogisticLogProbOp
    : VDL_LogProbOp<"discretized_logistic_log_prob",
                    [AllTypesMatch<["mean", "log_scale", "target"]>]> {
  let summary = "per-example log-probability of integers under a discretized logistic";
  let description = [{
    PixelCNN++'s likelihood of `bins`-level data (Salimans et al. 2017):
    `target` holds integers 0 ... bins - 1, mapped to c = 2 t / (bins - 1) - 1
    in [-1, 1]; `mean` and `log_scale` are on that scale. Each value gets the
    logistic's mass between its bin's edges c -+ 1 / (bins - 1), the first and
    last bins extending to -inf and +inf, so that the masses sum to 1 and the
    -ELBO is a code length. In a stable form, with u = exp(-log_scale),
    a = u (c - mean + h), b = u (c - mean - h), h = 1 / (bins - 1):

      log p = [t < bins - 1] log sigmoid(a) + [t > 0] log(1 - sigmoid(b))
            + [0 < t < bins - 1] log(1 - exp(-2 h u))

    summed over every non-batch dimension.

    ```mlir
    %ll = vdl.discretized_logistic_log_prob %mean, %log_scale, %x bins = 256
        : tensor<128x784xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins VDL_Tensor:$mean, VDL_Tensor:$log_scale, VDL_Tensor:$target,
                       I64Attr:$bins);
  let assemblyFormat = [{
    $mean `,` $log_scale `,` $target `bins` `=` $bins attr-dict
    `:` type($mean) `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$mean, "::mlir::Value":$log_scale,
                   "::mlir::Value":$target, "int64_t":$bins)>
  ];
}

#endif // VDL_DISTRIBUTION_OPS_TD
